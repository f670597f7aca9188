// The page the Chromium test loads (bundled with esbuild): Amplify Storage with keyhole/amplify.
// It uses only globals that browsers and Node share, so it typechecks with the test tsconfig.
import { Amplify } from 'aws-amplify';
import { downloadData, list, remove, uploadData } from 'aws-amplify/storage';
import { createAmplifyCredentialsProvider } from '../../../client/amplify/index.js';

interface FlowInput {
  brokerUrl: string;
  bucket: string;
  region: string;
  customEndpoint: string;
  tokenA: string;
  tokenB: string;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

async function sha256(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function errorName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as Error).name;
  }
}

async function runFlow(input: FlowInput): Promise<Record<string, unknown>> {
  // Amplify's per-call `customEndpoint` works but is not in its public option types.
  const local = { customEndpoint: input.customEndpoint } as object;
  const config = { Storage: { S3: { bucket: input.bucket, region: input.region } } };
  const providerA = createAmplifyCredentialsProvider({ brokerUrl: input.brokerUrl, getToken: () => input.tokenA });
  const providerB = createAmplifyCredentialsProvider({ brokerUrl: input.brokerUrl, getToken: () => input.tokenB });
  Amplify.configure(config, { Auth: { credentialsProvider: providerA } });
  const idA = (await providerA.getCredentialsAndIdentityId()).identityId!;
  const out: Record<string, unknown> = { identityA: idA };

  const sizes = { small: 64 * 1024, big: 12 * 1024 * 1024 };
  const progress: Record<string, [number, number | undefined][]> = { small: [], big: [] };
  for (const which of ['small', 'big'] as const) {
    const data = randomBytes(sizes[which]);
    const path = `private/${idA}/${which}.bin`;
    await uploadData({
      path,
      data: new Blob([data]),
      options: {
        ...local,
        onProgress: ({ transferredBytes, totalBytes }) => progress[which]!.push([transferredBytes, totalBytes]),
      },
    }).result;
    const { body } = await downloadData({ path, options: local }).result;
    const back = await body.blob();
    out[`${which}Identical`] =
      back.size === data.length && (await sha256(await back.arrayBuffer())) === (await sha256(data));
  }
  const last = (which: string) => progress[which]!.at(-1);
  out.progress = {
    small: { events: progress.small!.length, last: last('small') },
    big: { events: progress.big!.length, last: last('big') },
    // Progress never goes backwards.
    monotonic: Object.values(progress).every((events) => events.every((e, i) => i === 0 || e[0] >= events[i - 1]![0])),
  };
  const listed = await list({ path: `private/${idA}/`, options: { ...local, listAll: true } });
  out.listed = listed.items.map((i) => [i.path, i.size]).sort();

  Amplify.configure(config, { Auth: { credentialsProvider: providerB } });
  out.bReadsAPrivate = await errorName(downloadData({ path: `private/${idA}/small.bin`, options: local }).result);
  out.bListsAPrivate = await errorName(list({ path: `private/${idA}/`, options: local }));

  Amplify.configure(config, { Auth: { credentialsProvider: providerA } });
  for (const which of ['small', 'big']) await remove({ path: `private/${idA}/${which}.bin`, options: local }).result;
  out.listedAfterRemove = (await list({ path: `private/${idA}/`, options: { ...local, listAll: true } })).items.length;
  return out;
}

(globalThis as unknown as { runFlow: typeof runFlow }).runFlow = runFlow;
