// Broker capacity: POST /v1/credentials under load from autocannon, for one subject (the broker's
// credential cache answers) and for a new subject on every request (each needs an STS AssumeRole).
import autocannon from 'autocannon';

export type CapacityCase = 'same-subject (cache hit)' | 'distinct subjects';

export interface CapacityResult {
  readonly seconds: number;
  readonly ok: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * `POST /v1/credentials` from autocannon over `connections`, cycling through `tokens`: `amount`
 * requests, or for `duration` seconds.
 */
export async function credentialLoad(
  brokerUrl: string,
  tokens: readonly string[],
  load: { readonly connections: number } & ({ readonly amount: number } | { readonly duration: number }),
): Promise<CapacityResult> {
  let next = 0;
  const started = performance.now();
  // autocannon ends on its 1-second sampling tick, so its own duration would cap the rate at
  // `requests` per whole second; time to the last response instead.
  let last = started;
  const instance = autocannon({
    url: brokerUrl,
    connections: load.connections,
    ...('amount' in load ? { amount: load.amount } : { duration: load.duration }),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/v1/credentials',
        body: '{}',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` },
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
        }),
      },
    ],
  });
  instance.on('response', () => {
    last = performance.now();
  });
  const result = await instance;
  return {
    seconds: (last - started) / 1000,
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}
