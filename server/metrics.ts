import { Counter, Histogram, Registry, Gauge } from 'prom-client';
import type { CredentialVendor } from './vendors/vendor.js';

/** Per-broker Prometheus metrics (a private registry, so several brokers can share a process). */
export function createMetrics(vendor: CredentialVendor) {
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
  return { registry, issued, refused, duration };
}
export type BrokerMetrics = ReturnType<typeof createMetrics>;
