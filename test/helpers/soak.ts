// A bounded load/soak run on loopback: N simulated users, each with its own subject, keyhole/client
// provider and storage object, go through haproxy to 3 broker processes sharing one private Redis,
// and for a fixed time repeat: ask the broker for credentials (forceRefresh, so every iteration is a
// broker request), upload a small object, list their prefix and find it. Counts requests and
// errors, STS calls (sum of each broker's keyhole_upstream_calls) against subjects, and samples each
// broker's RSS (/proc/<pid>/status, VmRSS) once a second. Used by test/bench/soak.ts (figures) and
// test/shared/soak.test.ts (a short run with assertions).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { brokerCredentials, createStorage } from '../../client/index.js';
import { freshSubject } from './broker.js';
import { startSharedRig, type BrokerProcess, type SharedRig } from './haproxy.js';
import { waitFor } from './redis.js';
import { ownerS3, stack } from './stack.js';

export interface SoakOptions {
  readonly users: number;
  readonly seconds: number;
  /** Bytes per uploaded object. Default 16 KiB. */
  readonly objectBytes?: number;
}

export interface SoakResult {
  readonly users: number;
  readonly seconds: number;
  readonly iterations: number;
  readonly requests: {
    readonly broker: number;
    readonly upload: number;
    readonly list: number;
    readonly total: number;
  };
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly stsCalls: number;
  readonly subjects: number;
  /** Per broker, MiB, one sample a second: [t seconds, rss]. */
  readonly rssMiB: readonly (readonly [number, number])[][];
  readonly requestsPerBroker: readonly number[];
}

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round((Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024) * 10) / 10;
}

async function metric(b: BrokerProcess, line: RegExp): Promise<number> {
  const text = await (await fetch(`${b.url}/metrics`)).text();
  return [...text.matchAll(line)].reduce((sum, m) => sum + Number(m[1]), 0);
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const objectBytes = options.objectBytes ?? 16 * 1024;
  let rig: SharedRig | undefined;
  const prefixes: string[] = [];
  try {
    // Every user asks the broker on every iteration, all from haproxy's one address.
    rig = await startSharedRig({ subject: 100_000, address: 100_000 });
    const { idp, brokers, lb } = rig;
    for (const b of brokers) {
      await waitFor('shared state', async () => {
        const ready = (await (await fetch(`${b.url}/readyz`)).json()) as any;
        return ready.sharedState?.state === 'shared';
      });
    }
    const stsBefore = await Promise.all(brokers.map((b) => metric(b, /^keyhole_upstream_calls (\d+)$/gm)));
    const servedBefore = await Promise.all(
      brokers.map((b) => metric(b, /^keyhole_credentials_issued_total\{cached="(?:true|false)"\} (\d+)$/gm)),
    );

    const exp = Math.floor(Date.now() / 1000) + 3600;
    const users = await Promise.all(
      Array.from({ length: options.users }, async (_, u) => {
        const sub = freshSubject(`soak${u}`);
        const token = await idp.sign({ sub, exp });
        const credentials = brokerCredentials({ brokerUrl: lb.url, getToken: () => token, retries: 0 });
        return { credentials, storage: createStorage({ credentials }) };
      }),
    );

    const counts = { broker: 0, upload: 0, list: 0, iterations: 0, errors: 0 };
    const errorSamples: string[] = [];
    const fail = (what: string, err: unknown) => {
      counts.errors++;
      if (errorSamples.length < 5) errorSamples.push(`${what}: ${String(err)}`);
    };
    const rss: [number, number][][] = brokers.map(() => []);
    const started = Date.now();
    const deadline = started + options.seconds * 1000;
    const sample = () => brokers.forEach((b, i) => rss[i]!.push([(Date.now() - started) / 1000, rssMiB(b.pid)]));
    sample();
    const sampler = setInterval(sample, 1000);
    const body = randomBytes(objectBytes);

    await Promise.all(
      users.map(async ({ credentials, storage }, u) => {
        for (let n = 0; Date.now() < deadline; n++) {
          const key = `soak/${u}-${n}.bin`;
          try {
            counts.broker++;
            await credentials({ forceRefresh: true });
            if (n === 0) prefixes.push((await storage.grant()).prefix);
            counts.upload++;
            await storage.upload(key, body);
            counts.list++;
            const page = await storage.listPage({ prefix: 'soak/' });
            if (!page.objects.some((o) => o.key === key)) throw new Error(`${key} missing from the listing`);
            counts.iterations++;
          } catch (err) {
            fail(`user ${u} iteration ${n}`, err);
          }
        }
      }),
    );
    clearInterval(sampler);
    sample();
    const stsAfter = await Promise.all(brokers.map((b) => metric(b, /^keyhole_upstream_calls (\d+)$/gm)));
    const servedAfter = await Promise.all(
      brokers.map((b) => metric(b, /^keyhole_credentials_issued_total\{cached="(?:true|false)"\} (\d+)$/gm)),
    );
    return {
      users: options.users,
      seconds: options.seconds,
      iterations: counts.iterations,
      requests: {
        broker: counts.broker,
        upload: counts.upload,
        list: counts.list,
        total: counts.broker + counts.upload + counts.list,
      },
      errors: counts.errors,
      errorSamples,
      stsCalls: stsAfter.reduce((a, b, i) => a + b - stsBefore[i]!, 0),
      subjects: options.users,
      rssMiB: rss,
      requestsPerBroker: servedAfter.map((n, i) => n - servedBefore[i]!),
    };
  } finally {
    await rig?.stop();
    // Leave nothing in the shared bucket.
    for (const Prefix of prefixes) {
      const listed = await ownerS3().send(new ListObjectsV2Command({ Bucket: stack().bucket, Prefix }));
      const Objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
      for (let i = 0; i < Objects.length; i += 1000) {
        await ownerS3().send(
          new DeleteObjectsCommand({ Bucket: stack().bucket, Delete: { Objects: Objects.slice(i, i + 1000) } }),
        );
      }
    }
  }
}

/** Growth of each broker's RSS from its sample at `fromSeconds` (after warm-up) to its last, in MiB. */
export function rssGrowth(result: SoakResult, fromSeconds: number): number[] {
  return result.rssMiB.map((samples) => {
    const base = samples.find(([t]) => t >= fromSeconds) ?? samples[0]!;
    return Math.round((samples.at(-1)![1] - base[1]) * 10) / 10;
  });
}
