// The upload queue: one row per file with a progress bar, speed, time left, Pause/Resume and Cancel,
// under one overall line (files, percent, bytes) with "Clear finished". Every file starts at once;
// the SDK's own queue limits how many parts go out together. Stored files shrink to one line, and
// all but the latest few fold into a closed "more finished uploads" group, so a batch of 50 does
// not push "Your files" off the screen. A bar always shows the number written beside it.
import { formatBytes } from '../../format.js';
import { verdictInWords } from '../../verdict-message.js';
import { describe, type Message } from './messages.js';
import {
  createProgress,
  INITIAL_PROGRESS,
  summarize,
  sumParts,
  whileSending,
  type ProgressText,
  type QueueItem,
} from './progress.js';
import type { SignedIn } from './session.js';
import type { UploadVerdict } from 'keyhole/client';
import { h } from './view.js';

/** What the upload queue needs from the rest of the page. */
export interface UploadsOptions {
  /** The sign-in the uploads belong to; they stop when it ends. */
  readonly signedIn: SignedIn;
  /** Shows a failed upload's message in the banner. */
  readonly show: (message: Message) => void;
  /** Called after each file is stored while the sign-in lasts, to refresh the file list. */
  readonly onStored: () => void;
  /**
   * Ask the broker for each file's verdict (`confirm: true`): a rejected file (already removed) shows
   * "Rejected" and why, in words ("rejected: larger than 10 MiB").
   */
  readonly confirm?: boolean;
}

/** The upload list and how to add files to it. */
export interface Uploads {
  /** The overall line, the `<ul>` of upload rows (newest first) and the older finished ones. */
  readonly element: HTMLElement;
  /**
   * Starts uploading each file, each with its own row, to its name (or to `key`, for a resumed
   * upload, of which about `sentBytes` are on S3 already). Uploads are resumable: an unfinished one
   * is listed again after a reload.
   */
  add(files: readonly File[], key?: string, sentBytes?: number): void;
}

/** Stored uploads that stay in the list (one line each); older ones fold into a closed group. */
export const FINISHED_SHOWN = 5;

/** One row of the queue and what the overall line counts of it. */
interface Entry {
  readonly row: Row;
  item: QueueItem;
}

/** Sets a bar and its label from one number, so they cannot disagree. */
function setBar(bar: HTMLElement, fill: HTMLElement, label: HTMLElement | undefined, percent: number): void {
  fill.style.width = `${percent}%`;
  bar.setAttribute('aria-valuenow', String(percent));
  if (label) label.textContent = `${percent}%`;
}

/** Creates the upload list for one sign-in. */
export function createUploads(options: UploadsOptions): Uploads {
  const list = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  const olderList = h('ul', { class: 'uploads', 'aria-label': 'Older finished uploads' });
  const olderCount = h('span', {}, '');
  const older = h(
    'details',
    { class: 'older-uploads', 'data-testid': 'older-uploads', hidden: true },
    h('summary', {}, olderCount),
    olderList,
  );
  const { bar, fill } = progressBar('Overall upload progress');
  const text = h('span', { class: 'summary-text', 'data-testid': 'upload-summary-text' }, '');
  const clear = h('button', { type: 'button', class: 'ghost small', disabled: true }, 'Clear finished');
  const summary = h(
    'div',
    { class: 'upload-summary', 'data-testid': 'upload-summary', 'data-state': 'idle', hidden: true },
    h('div', { class: 'row' }, text, clear),
    bar,
  );
  const element = h('div', { class: 'upload-queue' }, summary, list, older);
  const entries: Entry[] = [];

  const redraw = () => {
    if (entries.length === 0) {
      summary.hidden = true;
      older.hidden = true;
      return;
    }
    const overall = summarize(entries.map((e) => e.item));
    summary.hidden = false;
    summary.dataset.state = overall.running > 0 ? 'uploading' : 'done';
    text.textContent = overall.text;
    setBar(bar, fill, undefined, overall.percent);
    clear.disabled = overall.running === entries.length;
    // The latest stored rows stay; older ones move to the closed group, newest first.
    const stored = entries.filter((e) => e.item.state === 'done');
    const fold = stored.slice(0, Math.max(0, stored.length - FINISHED_SHOWN));
    for (const e of [...fold].reverse()) if (e.row.element.parentElement !== olderList) olderList.append(e.row.element);
    olderCount.textContent = `${fold.length} more finished upload${fold.length === 1 ? '' : 's'}`;
    older.hidden = fold.length === 0;
  };
  // Progress events come many times a second per file: the overall line is redrawn once a frame.
  const redrawSoon = onceAFrame(() => redraw());

  clear.addEventListener('click', () => {
    for (const e of entries.filter((x) => x.item.state !== 'uploading')) {
      e.row.element.remove();
      entries.splice(entries.indexOf(e), 1);
    }
    redraw();
  });

  return {
    element,
    add(files, key, sentBytes = 0) {
      for (const file of files) {
        const entry: Entry = {
          row: uploadRow(file),
          item: { size: file.size, loaded: sentBytes, state: 'uploading' },
        };
        entries.push(entry);
        list.prepend(entry.row.element);
        const track: Track = {
          progress: (loaded) => {
            entry.item = { ...entry.item, loaded };
            redrawSoon(0);
          },
          end: (state) => {
            entry.item = { ...entry.item, state, loaded: state === 'done' ? file.size : entry.item.loaded };
            redrawSoon.flush(0);
          },
        };
        void uploadOne(options, file, key ?? file.name, sentBytes, entry.row, track).then((stored) => {
          if (stored && !options.signedIn.closed.aborted) options.onStored();
        });
      }
      redraw();
    },
  };
}

/** How one upload tells the queue about itself. */
interface Track {
  progress(loaded: number): void;
  end(state: 'done' | 'failed' | 'cancelled'): void;
}

/** The parts of one upload row that change. */
interface Row {
  readonly element: HTMLLIElement;
  readonly bar: HTMLElement;
  readonly fill: HTMLElement;
  readonly percent: HTMLElement;
  readonly speed: HTMLElement;
  readonly eta: HTMLElement;
  readonly pause: HTMLButtonElement;
  readonly cancel: HTMLButtonElement;
}

/** A progress bar at 0 %, named `label` for assistive technology; its width is `fill`'s. */
function progressBar(label: string): { bar: HTMLElement; fill: HTMLElement } {
  const fill = h('div', { class: 'fill' });
  const bar = h(
    'div',
    {
      class: 'bar',
      role: 'progressbar',
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': 0,
      'aria-label': label,
    },
    fill,
  );
  return { bar, fill };
}

function uploadRow(file: File): Row {
  const { bar, fill } = progressBar(`Upload progress of ${file.name}`);
  const percent = h('span', { class: 'pct' }, `${INITIAL_PROGRESS.percent}%`);
  const speed = h('span', { class: 'speed' }, INITIAL_PROGRESS.speed);
  const eta = h('span', { class: 'eta' }, INITIAL_PROGRESS.eta);
  const pause = h(
    'button',
    { type: 'button', class: 'ghost small', 'aria-label': `Pause upload of ${file.name}`, 'data-action': 'pause' },
    'Pause',
  );
  const cancel = h(
    'button',
    { type: 'button', class: 'ghost small', 'aria-label': `Cancel upload of ${file.name}` },
    'Cancel',
  );
  const element = h(
    'li',
    { class: 'upload', 'data-name': file.name, 'data-state': 'uploading' },
    h(
      'div',
      { class: 'row' },
      h('span', { class: 'name' }, file.name),
      h('span', { class: 'size' }, formatBytes(file.size)),
      pause,
      cancel,
    ),
    bar,
    h('div', { class: 'stats' }, percent, speed, eta),
  );
  return { element, bar, fill, percent, speed, eta, pause, cancel };
}

function showProgress(row: Row, progress: ProgressText): void {
  setBar(row.bar, row.fill, row.percent, progress.percent);
  row.speed.textContent = progress.speed;
  row.eta.textContent = progress.eta;
}

function showFailure(row: Row, message: Message): void {
  const cancelled = message.kind === 'cancelled';
  row.element.dataset.state = cancelled ? 'cancelled' : 'failed';
  row.cancel.remove();
  row.pause.remove();
  row.speed.textContent = '';
  row.eta.textContent = '';
  row.percent.textContent = cancelled ? 'Cancelled' : 'Failed';
  row.element.append(h('p', { class: 'row-error' }, cancelled ? 'Upload cancelled; nothing was kept.' : message.text));
}

/**
 * Calls `draw` with the latest value at most once per animation frame: XHR progress events of
 * parallel parts arrive far more often than a screen refreshes, and each draw writes the DOM.
 * A timer stands in when frames do not come (a hidden tab), so the row still moves now and then.
 * `flush(value)` draws at once and drops what was pending.
 */
export function onceAFrame(draw: (value: number) => void): ((value: number) => void) & { flush(value: number): void } {
  let latest = 0;
  let pending = false;
  let frame = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    if (!pending) return;
    pending = false;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    draw(latest);
  };
  const schedule = (value: number) => {
    latest = value;
    if (pending) return;
    pending = true;
    frame = requestAnimationFrame(run);
    timer = setTimeout(run, 250);
  };
  return Object.assign(schedule, {
    flush(value: number) {
      latest = value;
      pending = true;
      run();
    },
  });
}

/** Uploads one file to `relativeKey` with its own progress row; resolves true when it was stored. */
async function uploadOne(
  options: UploadsOptions,
  file: File,
  relativeKey: string,
  sentBytes: number,
  row: Row,
  track: Track,
): Promise<boolean> {
  const { signedIn } = options;
  const key = signedIn.grant.prefix + relativeKey;
  const controller = new AbortController();
  row.cancel.addEventListener('click', () => {
    row.cancel.disabled = true;
    row.element.dataset.state = 'cancelling';
    row.percent.textContent = 'Cancelling…';
    controller.abort();
    signedIn.xhr.abortSending(key);
  });
  // Signing out stops the upload like Cancel does, minus the row's "Cancelling…".
  const stop = () => controller.abort();
  signedIn.closed.addEventListener('abort', stop, { once: true });
  const progress = createProgress(file.size, undefined, sentBytes);
  const show = onceAFrame((bytes: number) => {
    const shown = progress.update(bytes);
    showProgress(row, whileSending(shown));
    track.progress(shown.loaded);
  });
  // A resumed upload starts from the bytes S3 already has; the XHR events count only what is sent now.
  let resumedBytes = sentBytes;
  if (sentBytes > 0) show.flush(sentBytes);
  const unwatch = signedIn.xhr.watch(
    key,
    sumParts((sent) => show(resumedBytes + sent)),
  );
  try {
    const task = signedIn.storage.upload(relativeKey, file, {
      ...(options.confirm ? { confirm: true as const } : {}),
      contentType: file.type || 'application/octet-stream',
      signal: controller.signal,
      onProgress: (p) => show(p.loaded),
      resumable: {
        onEvent: (e) => {
          if (e.type === 'resumed') {
            resumedBytes = e.bytesDone;
            show.flush(resumedBytes);
          }
        },
      },
    });
    row.pause.addEventListener('click', () => {
      const pausing = !task.paused;
      if (pausing) task.pause();
      else task.resume();
      row.element.dataset.state = pausing ? 'paused' : 'uploading';
      row.pause.textContent = pausing ? 'Resume' : 'Pause';
      row.pause.dataset.action = pausing ? 'resume' : 'pause';
      row.pause.setAttribute('aria-label', `${pausing ? 'Resume' : 'Pause'} upload of ${file.name}`);
      row.eta.textContent = pausing ? 'paused' : '';
      if (pausing) row.speed.textContent = '';
    });
    const stored = await task;
    show.flush(file.size);
    const verdict = (stored as { verdict?: UploadVerdict }).verdict;
    if (verdict?.status === 'rejected') {
      // Stored, then judged and removed by the broker: the row says so, and the banner says why.
      const message: Message = { kind: 'error', text: `${file.name}: ${verdictInWords(verdict)}` };
      showFailure(row, message);
      row.element.dataset.state = 'rejected';
      row.percent.textContent = 'Rejected';
      track.end('failed');
      options.show(message);
      return false;
    }
    row.element.dataset.state = 'done';
    setBar(row.bar, row.fill, row.percent, 100);
    row.eta.textContent = progress.doneText();
    row.cancel.remove();
    row.pause.remove();
    track.end('done');
    return true;
  } catch (err) {
    const message = describe(err, { prefix: signedIn.grant.prefix });
    showFailure(row, message);
    track.end(message.kind === 'cancelled' ? 'cancelled' : 'failed');
    if (message.kind !== 'cancelled') options.show(message);
    return false;
  } finally {
    unwatch();
    signedIn.closed.removeEventListener('abort', stop);
  }
}
