import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { brokerCredentials, createStorage, type Storage } from '../index.js';
import { escapeForTerminal, formatBytes, terminalSafeJson } from '../format.js';
import { fullKey } from '../keys.js';
import { parseInvocation, USAGE, type Auth, type Invocation } from './args.js';
import { LocalWriteError, writeFileAtomically } from './atomic-file.js';
import { classify, CliError, EXIT } from './exit-codes.js';
import { progressLine } from './progress.js';

/** Where the CLI reads and writes; tests pass their own. */
export interface Io {
  readonly stdout: NodeJS.WriteStream | Writable;
  readonly stderr: NodeJS.WriteStream | Writable;
  readonly env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
}

async function devToken(brokerUrl: string, name: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(new URL('v1/dev/token', brokerUrl.endsWith('/') ? brokerUrl : brokerUrl + '/'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: name }),
    });
  } catch (cause) {
    throw new CliError(
      'broker_unreachable',
      EXIT.unavailable,
      `the Keyhole broker at ${brokerUrl} could not be reached`,
      {
        cause,
      },
    );
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

async function storageFor(brokerUrl: string, auth: Auth): Promise<Storage> {
  // Sign in first, so a refused or impossible dev login is reported as such, not as a broker outage.
  let token = auth.kind === 'token' ? auth.token : await devToken(brokerUrl, auth.name);
  const credentials = brokerCredentials({
    brokerUrl,
    getToken: async ({ forceRefresh }) => {
      // A fixed token cannot be renewed: a 401 goes straight back to the user.
      if (auth.kind === 'dev' && forceRefresh) token = await devToken(brokerUrl, auth.name);
      return token;
    },
  });
  return createStorage({ credentials });
}

function localFileError(path: string, err: unknown, doing: string): CliError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new CliError('local_file', EXIT.localFile, `cannot ${doing} "${path}": ${code}`, { cause: err });
}

/** Writes text the CLI composed itself (usage, version, JSON from `terminalSafeJson`) as it is. */
function print(stream: Io['stdout'], text: string): void {
  stream.write(text.endsWith('\n') ? text : text + '\n');
}

/**
 * Writes one human-readable line. The whole line goes through `escapeForTerminal`, because keys, file
 * names, the broker URL and broker or S3 messages end up in it: none of their control, C1 or bidi
 * characters reach the terminal, and the line stays one line.
 */
function say(stream: Io['stdout'], line: string): void {
  stream.write(escapeForTerminal(line) + '\n');
}

interface Uploaded {
  readonly file: string;
  readonly key: string;
  readonly fullKey: string;
  readonly bucket: string;
  readonly size: number;
}

async function upload(storage: Storage, inv: Invocation, io: Io, files: readonly string[], to: string | undefined) {
  // Check every file first, so a typo fails before anything is sent.
  const sizes: number[] = [];
  for (const file of files) {
    let info;
    try {
      info = await stat(file);
    } catch (err) {
      throw localFileError(file, err, 'read');
    }
    if (!info.isFile()) throw new CliError('local_file', EXIT.localFile, `"${file}" is not a regular file`);
    sizes.push(info.size);
  }
  const keys = files.map((file) => (to === undefined ? basename(file) : to.endsWith('/') ? to + basename(file) : to));
  // Keys too, relative to an empty prefix (the grant is not known yet): a control character in a file
  // name or in --to is refused before anything is sent. The grant's prefix is checked again on upload.
  for (const [i, key] of keys.entries()) {
    try {
      fullKey('', key);
    } catch (err) {
      throw Object.assign(err as Error, { uploaded: [], file: files[i] });
    }
  }
  const showProgress = !inv.json && !inv.quiet && (io.stderr as NodeJS.WriteStream).isTTY === true;
  const done: Uploaded[] = [];
  for (const [i, file] of files.entries()) {
    const key = keys[i]!;
    const line = progressLine(io.stderr as NodeJS.WriteStream, key, showProgress);
    const size = sizes[i]!;
    // Small files are read whole (one PUT); larger ones stream, in parts, from disk.
    let body;
    try {
      body = size <= 5 * 1024 * 1024 ? await readFile(file) : createReadStream(file);
    } catch (err) {
      throw localFileError(file, err, 'read');
    }
    try {
      const result = await storage.upload(key, body, {
        signal: io.signal,
        onProgress: (p) => line.update(p.loaded, p.total ?? size),
      });
      line.end();
      done.push({ file, key, fullKey: result.fullKey, bucket: result.bucket, size });
      if (!inv.json) say(io.stdout, `uploaded ${file} -> ${result.fullKey} (${formatBytes(size)})`);
    } catch (err) {
      line.end();
      const failure = classify(err);
      // Nothing is resumed: lib-storage aborted the multipart upload; say which file and why.
      const message =
        failure.code === 'aborted'
          ? `upload of ${file} was interrupted and aborted; nothing was kept`
          : `upload of ${file} failed and was aborted: ${failure.message}`;
      throw Object.assign(new CliError(failure.code, failure.exitCode, message, { cause: err }), {
        uploaded: done,
        file,
      });
    }
  }
  return { uploaded: done };
}

async function download(storage: Storage, inv: Invocation, io: Io, key: string, output: string | undefined) {
  const target = output ?? basename(key);
  const result = await storage.download(key, { as: 'stream', signal: io.signal });
  const total = result.contentLength;
  const showProgress = !inv.json && !inv.quiet && target !== '-' && (io.stderr as NodeJS.WriteStream).isTTY === true;
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
    const failure = classify(err);
    // Without read access the check is impossible: delete anyway and let S3 decide.
    if (failure.code !== 'access_denied') throw failure;
  }
  await storage.delete(key);
  if (!inv.json) say(io.stdout, `deleted ${key}`);
  return { deleted: key };
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
      print(io.stdout, USAGE);
      return EXIT.ok;
    }
    if (command.name === 'version') {
      print(io.stdout, inv.json ? terminalSafeJson({ version: await version() }) : escapeForTerminal(await version()));
      return EXIT.ok;
    }
    const storage = await storageFor(inv.brokerUrl, inv.auth!);
    let out: unknown;
    switch (command.name) {
      case 'upload':
        out = await upload(storage, inv, io, command.files, command.to);
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
    const failure = classify(err);
    const exitCode = io.signal.aborted ? EXIT.interrupted : failure.exitCode;
    const extra = err as { uploaded?: Uploaded[]; file?: string };
    if (inv?.json) {
      print(
        io.stdout,
        terminalSafeJson({
          error: { code: failure.code, message: failure.message, exitCode },
          ...(extra.uploaded ? { uploaded: extra.uploaded, failedFile: extra.file } : {}),
        }),
      );
    } else {
      say(io.stderr, `keyhole: ${failure.message}`);
      if (failure.exitCode === EXIT.usage) print(io.stderr, 'Run "keyhole --help" for usage.');
    }
    return exitCode;
  }
}
