// `keyhole upload`: sends a plan's files, several at once, and stops at the first failure.
import { openAsBlob } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BrokerUrlFrom } from '../../server/config/cli-env.js';
import type { KeptUpload, ResumeEvent, Storage, UploadStore, UploadVerdict } from '../index.js';
import { verdictInWords } from '../verdict-message.js';
import { formatBytes, formatDuration } from '../format.js';
import { partSizeFor } from '../storage-upload.js';
import { classify, CliError, EXIT } from './exit-codes.js';
import { say, showsProgress, type Io } from './io.js';
import { localFileError } from './local-errors.js';
import { progressLine } from './progress.js';
import type { SkippedEntry, UploadPlan } from './upload-plan.js';

/** One file sent, as `--json` reports it. */
export interface Uploaded {
  readonly file: string;
  readonly key: string;
  readonly fullKey: string;
  readonly bucket: string;
  readonly size: number;
  /** Set when an unfinished upload of this file was resumed: the parts and bytes S3 already had. */
  readonly resumed?: { readonly partsDone: number; readonly bytesDone: number };
  /** With --confirm: the broker's verdict, and the same in words ("rejected: larger than 10 MiB"). */
  readonly verdict?: UploadVerdict & { readonly words: string };
}

export interface UploadSettings {
  /** Files in flight at once. */
  readonly concurrency: number;
  readonly json: boolean;
  readonly quiet: boolean;
  /** Where the broker URL came from, said if the broker cannot be reached. */
  readonly brokerUrlFrom: BrokerUrlFrom;
  /**
   * Where unfinished uploads are kept (the state file), or undefined for none. With a store, a file
   * of more than one part is uploaded resumably, and kept on S3 when interrupted or failed.
   */
  readonly store?: UploadStore | undefined;
  /** False (--no-resume): an unfinished upload of the same key is discarded, and nothing is kept. */
  readonly resume?: boolean;
  /** --confirm: ask the broker for each file's verdict; a rejected file fails the command. */
  readonly confirm?: boolean;
}

/** Files up to this size are read whole and sent in one PUT; larger ones stream from disk, in parts. */
const WHOLE_FILE_BYTES = 5 * 1024 * 1024;
/** Multipart parts in flight across all files, at most (but always one per file). */
const PARTS_IN_FLIGHT = 16;

/** Parts in flight per file: 4 (the client's default) for up to 4 files at once, fewer beyond. */
export function partsPerFile(concurrency: number): number {
  return Math.min(4, Math.max(1, Math.floor(PARTS_IN_FLIGHT / concurrency)));
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The summary line: `uploaded 3 files (21 MiB) in 2 s; skipped 1 (symbolic links and special files)`. */
export function summaryLine(files: number, bytes: number, seconds: number, skipped: number): string {
  const skip = skipped > 0 ? `; skipped ${skipped} (symbolic links and special files)` : '';
  return `uploaded ${plural(files, 'file')} (${formatBytes(bytes)}) in ${formatDuration(seconds)}${skip}`;
}

const RESUME_HINT = 'run the same command again to resume, or "keyhole uploads --abort" to discard';

/** "3 of 9 parts are kept on S3:". */
function keptParts(k: KeptUpload): string {
  return `${k.partsDone} of ${k.parts} parts are kept on S3:`;
}

/**
 * Opens first, so a file that cannot be read is a `local_file` error, not an S3 one. A resumable
 * upload gets a Blob of the file (read part by part, at any offset) and its modification time.
 */
async function bodyOf(file: string, size: number, resumable: boolean) {
  let handle;
  try {
    handle = await open(file, 'r');
    if (resumable) {
      const { mtimeMs } = await handle.stat();
      await handle.close();
      return { blob: await openAsBlob(file), lastModified: Math.trunc(mtimeMs) };
    }
    if (size > WHOLE_FILE_BYTES) return handle.createReadStream();
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await handle?.close().catch(() => {});
    throw localFileError(file, err, 'read');
  }
}

/**
 * Uploads every file of `plan`, `concurrency` at a time, each to its key; prints a line per file and,
 * for several files or a folder, a summary. At the first failure (or Ctrl-C) no further file is
 * started and those in flight are aborted (a multipart upload is aborted on S3); the error names the
 * file and carries `uploaded` (what was sent, in plan order) and `file`.
 */
export async function uploadFiles(
  storage: Storage,
  plan: UploadPlan,
  settings: UploadSettings,
  io: Io,
): Promise<{ uploaded: Uploaded[]; skipped?: readonly SkippedEntry[] }> {
  const { files, skipped } = plan;
  const n = files.length;
  if (!settings.json) for (const s of skipped) say(io.stderr, `keyhole: skipped ${s.file} (${s.reason})`);
  const started = performance.now();
  const results: (Uploaded | undefined)[] = new Array(n);
  const loaded = new Array<number>(n).fill(0);
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  let completed = 0;
  const inFlight = new Set<number>();
  let failure: { index: number; error: unknown; inFlight: number[] } | undefined;
  /** Uploads kept on S3 to be resumed (interrupted or failed), by file index. */
  const kept = new Map<number, KeptUpload>();

  // Stops the other files at the first failure; Ctrl-C stops them all.
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  io.signal.addEventListener('abort', interrupt);
  if (io.signal.aborted) stop.abort();

  const line = progressLine(
    io.stderr as NodeJS.WriteStream,
    n === 1 ? files[0]!.key : () => `${completed}/${n} files`,
    showsProgress(io, settings),
  );
  const draw = () =>
    line.update(
      loaded.reduce((a, b) => a + b, 0),
      totalBytes,
    );
  const queueSize = partsPerFile(settings.concurrency);

  const { store } = settings;
  const tell = (message: string) => {
    if (settings.json) return;
    line.end();
    say(io.stderr, `keyhole: ${message}`);
  };

  async function send(i: number): Promise<void> {
    const { file, key, size } = files[i]!;
    const partSize = partSizeFor(size);
    if (store && settings.resume === false && (await storage.discardUpload(key, store))) {
      tell(`discarded the unfinished upload of ${key}; starting over`);
    }
    const resumable = store !== undefined && settings.resume !== false && size > partSize;
    const body = await bodyOf(file, size, resumable);
    let resumed: Uploaded['resumed'];
    const onEvent = (e: ResumeEvent) => {
      if (e.type === 'resumed') {
        resumed = { partsDone: e.partsDone, bytesDone: e.bytesDone };
        tell(`resuming ${file}: ${e.partsDone} of ${e.parts} parts (${formatBytes(e.bytesDone)}) already uploaded`);
      } else if (e.type === 'restarted') tell(e.message);
    };
    const result = await storage.upload(key, 'blob' in body ? body.blob : body, {
      ...(settings.confirm ? { confirm: true as const } : {}),
      signal: stop.signal,
      queueSize,
      partSizeBytes: partSize,
      onProgress: (p) => {
        loaded[i] = p.loaded;
        draw();
      },
      ...('blob' in body
        ? {
            resumable: {
              store: store!,
              keepOnAbort: true,
              file: { name: resolve(file), lastModified: body.lastModified },
              onEvent,
            },
          }
        : {}),
    });
    loaded[i] = size;
    completed++;
    const verdict = (result as { verdict?: UploadVerdict }).verdict;
    const judged = verdict && { ...verdict, words: verdictInWords(verdict) };
    results[i] = {
      file,
      key,
      fullKey: result.fullKey,
      bucket: result.bucket,
      size,
      ...(resumed ? { resumed } : {}),
      ...(judged ? { verdict: judged } : {}),
    };
    if (!settings.json) {
      line.end();
      say(
        io.stdout,
        `uploaded ${file} -> ${result.fullKey} (${formatBytes(size)})${judged ? `: ${judged.words}` : ''}`,
      );
    }
    draw();
  }

  let next = 0;
  async function worker(): Promise<void> {
    while (!stop.signal.aborted && next < n) {
      const i = next++;
      inFlight.add(i);
      try {
        await send(i);
      } catch (error) {
        const keptUpload = (error as { kept?: KeptUpload }).kept;
        if (keptUpload) kept.set(i, keptUpload);
        // The first failure is the cause; the files it stopped fail after it, as aborted.
        failure ??= { index: i, error, inFlight: [...inFlight] };
        stop.abort();
      } finally {
        inFlight.delete(i);
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, n) }, worker));
  } finally {
    line.end();
    io.signal.removeEventListener('abort', interrupt);
  }

  const uploaded = results.filter((r): r is Uploaded => r !== undefined);
  const tally = n > 1 ? `; ${uploaded.length} of ${n} files uploaded` : '';
  if (failure || uploaded.length < n) {
    const cause = failure?.error;
    const classified = cause === undefined ? undefined : classify(cause, settings.brokerUrlFrom);
    const file = files[failure?.index ?? uploaded.length]!.file;
    if (io.signal.aborted || classified === undefined || classified.code === 'aborted') {
      const stopped = failure?.inFlight ?? [];
      const names = stopped.filter((i) => !kept.has(i)).map((i) => files[i]!.file);
      const keptNames = stopped.filter((i) => kept.has(i)).map((i) => files[i]!.file);
      const aborted =
        names.length === 1 && keptNames.length === 0
          ? `upload of ${names[0]} was interrupted and aborted; nothing was kept`
          : names.length > 0
            ? `upload was interrupted; ${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} aborted and nothing of ${names.length === 1 ? 'it' : 'them'} was kept`
            : stopped.length === 0
              ? 'upload was interrupted'
              : '';
      const resumable =
        keptNames.length === 0
          ? ''
          : keptNames.length === 1 && names.length === 0
            ? `upload of ${keptNames[0]} was interrupted; ${keptParts(kept.get(stopped[0]!)!)} ${RESUME_HINT}`
            : `${aborted ? '; ' : 'upload was interrupted; '}${keptNames.join(', ')} ${keptNames.length === 1 ? 'is' : 'are'} kept: ${RESUME_HINT}`;
      const what = aborted + resumable;
      throw Object.assign(new CliError('aborted', EXIT.interrupted, what + tally, { cause }), { uploaded, file });
    }
    // A resumable file is kept on S3 (the client's message says so); any other was aborted.
    const message =
      classified.code === 'local_file'
        ? classified.message
        : `upload of ${file} failed${kept.has(failure?.index ?? -1) ? '' : ' and was aborted'}: ${classified.message}`;
    throw Object.assign(new CliError(classified.code, classified.exitCode, message + tally, { cause }), {
      uploaded,
      file,
    });
  }
  if (!settings.json && (n !== 1 || plan.hasFolder)) {
    say(io.stdout, summaryLine(n, totalBytes, (performance.now() - started) / 1000, skipped.length));
  }
  const rejected = uploaded.filter((u) => u.verdict?.status === 'rejected');
  if (rejected.length > 0) {
    // The broker removed them: the command did not do what was asked, and says why, file by file.
    const why = rejected.map((u) => `${u.file}: ${u.verdict!.words.replace(/^rejected: /, '')}`).join('; ');
    const message = `the broker rejected ${rejected.length === 1 ? '' : `${rejected.length} of ${n} files, `}${why}`;
    throw Object.assign(new CliError('upload_rejected', EXIT.failed, message), {
      uploaded,
      file: rejected[0]!.file,
    });
  }
  return skipped.length > 0 ? { uploaded, skipped } : { uploaded };
}
