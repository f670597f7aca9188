import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { brokerCredentials, createStorage, type Storage } from '../index.js';
import { escapeForTerminal, formatBytes, terminalSafeJson } from '../format.js';
import type { BrokerUrlFrom } from '../../server/config/cli-env.js';
import { parseInvocation, USAGE, wantsJson, type Invocation } from './args.js';
import { LocalWriteError, writeFileAtomically } from './atomic-file.js';
import { brokerHint, classify, CliError, EXIT } from './exit-codes.js';
import { print, say, showsProgress, type Io } from './io.js';
import { localFileError } from './local-errors.js';
import { progressLine } from './progress.js';
import { planUpload, type Collision } from './upload-plan.js';
import { jsonFileUploadStore, stateFile } from './upload-state.js';
import { uploadFiles, type Uploaded } from './upload.js';
import type { UploadStore } from '../upload-store.js';

export type { Io } from './io.js';

async function devToken(brokerUrl: string, from: BrokerUrlFrom, name: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(new URL('v1/dev/token', brokerUrl.endsWith('/') ? brokerUrl : brokerUrl + '/'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: name }),
    });
  } catch (cause) {
    const message = brokerHint(`the Keyhole broker at ${brokerUrl} could not be reached`, from);
    throw new CliError('broker_unreachable', EXIT.unavailable, message, { cause });
  }
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { code?: string; message?: string } };
  if (res.status === 404) {
    throw new CliError(
      'dev_login_disabled',
      EXIT.auth,
      'dev login is not enabled on this broker (KEYHOLE_DEV_LOGIN=1)',
    );
  }
  if (!res.ok || !body.token) {
    throw new CliError(
      body.error?.code ?? 'dev_login_failed',
      res.status >= 500 ? EXIT.unavailable : EXIT.auth,
      `dev login failed: ${body.error?.message ?? `HTTP ${res.status}`}`,
    );
  }
  return body.token;
}

async function storageFor({ brokerUrl, brokerUrlFrom, auth }: Invocation): Promise<Storage> {
  if (!auth) throw new Error('no sign-in');
  // Sign in first, so a refused or impossible dev login is reported as such, not as a broker outage.
  let token = auth.kind === 'token' ? auth.token : await devToken(brokerUrl, brokerUrlFrom, auth.name);
  const credentials = brokerCredentials({
    brokerUrl,
    getToken: async ({ forceRefresh }) => {
      // A fixed token cannot be renewed: a 401 goes straight back to the user.
      if (auth.kind === 'dev' && forceRefresh) token = await devToken(brokerUrl, brokerUrlFrom, auth.name);
      return token;
    },
  });
  return createStorage({ credentials });
}

async function download(storage: Storage, inv: Invocation, io: Io, key: string, output: string | undefined) {
  const target = output ?? basename(key);
  const result = await storage.download(key, { as: 'stream', signal: io.signal });
  const total = result.contentLength;
  const showProgress = showsProgress(io, inv) && target !== '-';
  const line = progressLine(io.stderr as NodeJS.WriteStream, key, showProgress);
  let loaded = 0;
  const source = Readable.fromWeb(result.body as import('node:stream/web').ReadableStream<Uint8Array>);
  source.on('data', (chunk: Uint8Array) => {
    loaded += chunk.length;
    line.update(loaded, total);
  });
  // Attaching 'data' starts the flow; hold it until the temporary file is open and being written.
  source.pause();
  if (target === '-') {
    const out = io.stdout as Writable;
    for await (const chunk of source) if (!out.write(chunk)) await once(out, 'drain');
    return { key, file: '-', size: loaded };
  }
  // A new temporary file with a random name beside the target (never an existing path, so never a
  // planted symlink), renamed over the target at the end: a failed download leaves no partial file.
  try {
    await writeFileAtomically(target, source, { signal: io.signal });
  } catch (err) {
    line.end();
    if (err instanceof LocalWriteError) throw localFileError(target, err.cause, 'write');
    if (io.signal.aborted) {
      throw new CliError('aborted', EXIT.interrupted, `download of ${key} was interrupted; nothing was kept`, {
        cause: err,
      });
    }
    throw err;
  }
  line.end();
  if (!inv.json) say(io.stdout, `downloaded ${key} -> ${target} (${formatBytes(loaded)})`);
  return { key, file: target, size: loaded };
}

async function list(storage: Storage, inv: Invocation, io: Io, prefix: string | undefined) {
  const grant = await storage.grant();
  const objects: { key: string; size: number; lastModified: string | null }[] = [];
  for await (const o of storage.list(prefix === undefined ? {} : { prefix })) {
    objects.push({ key: o.key, size: o.size, lastModified: o.lastModified?.toISOString() ?? null });
    if (!inv.json) {
      say(io.stdout, `${String(o.size).padStart(12)}  ${o.lastModified?.toISOString() ?? '-'.padEnd(24)}  ${o.key}`);
    }
  }
  return { bucket: grant.bucket, prefix: grant.prefix, objects };
}

async function remove(storage: Storage, inv: Invocation, io: Io, key: string) {
  // S3 deletes a missing key without complaint; a CLI user wants to know about the typo.
  try {
    await storage.head(key);
  } catch (err) {
    // Without read access the check is impossible: delete anyway and let S3 decide.
    if (classify(err).code !== 'access_denied') throw err;
  }
  await storage.delete(key);
  if (!inv.json) say(io.stdout, `deleted ${key}`);
  return { deleted: key };
}

/** `keyhole uploads [--abort]`: the unfinished uploads under the user's prefix; --abort discards them. */
async function unfinished(storage: Storage, inv: Invocation, io: Io, store: UploadStore | undefined, abort: boolean) {
  if (!store) {
    throw new CliError('usage', EXIT.usage, 'no state file: set HOME, XDG_CONFIG_HOME or KEYHOLE_CONFIG_DIR');
  }
  const uploads = (await storage.unfinishedUploads(store)).map((u) => ({
    key: u.key,
    file: u.file.name,
    size: u.file.size,
    bytesDone: u.bytesDone,
    started: u.createdAt.toISOString(),
  }));
  for (const u of uploads) {
    if (abort) await storage.discardUpload(u.key, store);
    if (inv.json) continue;
    if (abort) say(io.stdout, `discarded ${u.key} (${formatBytes(u.bytesDone)} of ${formatBytes(u.size)} sent)`);
    else {
      say(
        io.stdout,
        `${`${formatBytes(u.bytesDone)} / ${formatBytes(u.size)}`.padStart(22)}  ${u.started}  ${u.key}  <- ${u.file}`,
      );
    }
  }
  if (!inv.json && uploads.length === 0) say(io.stdout, 'no unfinished uploads');
  return abort ? { discarded: uploads } : { uploads };
}

async function version(): Promise<string> {
  // client/cli/run.ts in a checkout, dist/client/cli/run.js once built.
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'keyhole') return pkg.version;
    } catch {
      // Not this one.
    }
  }
  return 'unknown';
}

/** Runs the CLI and returns the exit status. Never throws. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let inv: Invocation | undefined;
  try {
    inv = parseInvocation(argv, io.env);
    const { command } = inv;
    if (command.name === 'help') {
      // --json promises one JSON document on stdout, help included.
      print(io.stdout, inv.json ? terminalSafeJson({ usage: USAGE }) : USAGE);
      return EXIT.ok;
    }
    if (command.name === 'version') {
      print(io.stdout, inv.json ? terminalSafeJson({ version: await version() }) : escapeForTerminal(await version()));
      return EXIT.ok;
    }
    // An upload's files and keys are checked before signing in: nothing is sent for a typo or a collision.
    const plan = command.name === 'upload' ? await planUpload(command.files, command.to) : undefined;
    const storage = await storageFor(inv);
    const statePath = stateFile(io.env);
    const store = statePath ? jsonFileUploadStore(statePath) : undefined;
    let out: unknown;
    switch (command.name) {
      case 'upload':
        out = await uploadFiles(
          storage,
          plan!,
          { ...inv, concurrency: command.concurrency, store, resume: command.resume, confirm: command.confirm },
          io,
        );
        break;
      case 'uploads':
        out = await unfinished(storage, inv, io, store, command.abort);
        break;
      case 'download':
        out = await download(storage, inv, io, command.key, command.output);
        break;
      case 'ls':
        out = await list(storage, inv, io, command.prefix);
        break;
      case 'rm':
        out = await remove(storage, inv, io, command.key);
        break;
    }
    if (inv.json && !(command.name === 'download' && command.output === '-')) print(io.stdout, terminalSafeJson(out));
    return EXIT.ok;
  } catch (err) {
    const failure = classify(err, inv?.brokerUrlFrom);
    const exitCode = io.signal.aborted ? EXIT.interrupted : failure.exitCode;
    const extra = err as { uploaded?: Uploaded[]; file?: string; collisions?: Collision[] };
    // A usage error comes before the invocation is known: --json is then looked for on its own.
    if (inv?.json ?? wantsJson(argv)) {
      print(
        io.stdout,
        terminalSafeJson({
          error: { code: failure.code, message: failure.message, exitCode },
          ...(extra.uploaded ? { uploaded: extra.uploaded, failedFile: extra.file } : {}),
          ...(extra.collisions ? { collisions: extra.collisions } : {}),
        }),
      );
    } else {
      say(io.stderr, `keyhole: ${failure.message}`);
      if (failure.exitCode === EXIT.usage) print(io.stderr, 'Run "keyhole --help" for usage.');
    }
    return exitCode;
  }
}
