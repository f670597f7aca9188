import { Counter, Histogram, Registry, Gauge } from 'prom-client';
import type { SharedState } from './shared/state.js';
import type { CredentialVendor } from './vendors/vendor.js';

/** Per-broker Prometheus metrics (a private registry, so several brokers can share a process). */
export function createMetrics(vendor: CredentialVendor, shared?: SharedState) {
  const registry = new Registry();
  const issued = new Counter({
    name: 'keyhole_credentials_issued_total',
    help: 'Credentials responses sent, by whether they came from the cache',
    labelNames: ['cached'] as const,
    registers: [registry],
  });
  const refused = new Counter({
    name: 'keyhole_credentials_refused_total',
    help: 'Credentials requests refused, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'keyhole_credentials_duration_seconds',
    help: 'Time to answer POST /v1/credentials',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'keyhole_upstream_calls',
    help: 'Calls made to the credential vendor (STS or Cognito) since start',
    registers: [registry],
    collect() {
      this.set(vendor.upstreamCalls());
    },
  });
  if (shared) {
    new Gauge({
      name: 'keyhole_shared_state_up',
      help: '1 while the cache and rate limits are shared through Redis, 0 while this instance falls back to memory',
      registers: [registry],
      collect() {
        this.set(shared.usable() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'keyhole_shared_state_fallbacks',
      help: 'Times this instance fell back from Redis to in-process state since start',
      registers: [registry],
      collect() {
        this.set(shared.stats.fallbacks);
      },
    });
    new Gauge({
      name: 'keyhole_shared_cache_results',
      help: 'Shared credential cache outcomes since start: hit, miss (vendor called), waited (for another instance), undecryptable, fallback',
      labelNames: ['result'] as const,
      registers: [registry],
      collect() {
        for (const [result, n] of Object.entries(shared.stats.cache)) this.set({ result }, n);
      },
    });
  }
  return { registry, issued, refused, duration };
}
export type BrokerMetrics = ReturnType<typeof createMetrics>;
