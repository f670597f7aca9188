// The upload queue: one row per file with a progress bar, speed, time left and a Cancel button.
// Every file starts at once; the SDK's own queue limits how many parts go out together.
import { formatBytes } from '../../format.js';
import { describe, type Message } from './messages.js';
import { createProgress, INITIAL_PROGRESS, sumParts, type ProgressText } from './progress.js';
import type { SignedIn } from './session.js';
import { h } from './view.js';

/** What the upload queue needs from the rest of the page. */
export interface UploadsOptions {
  /** The sign-in the uploads belong to; they stop when it ends. */
  readonly signedIn: SignedIn;
  /** Shows a failed upload's message in the banner. */
  readonly show: (message: Message) => void;
  /** Called after each file is stored while the sign-in lasts, to refresh the file list. */
  readonly onStored: () => void;
}

/** The upload list and how to add files to it. */
export interface Uploads {
  /** The `<ul>` of upload rows, newest first. */
  readonly element: HTMLElement;
  /** Starts uploading each file, each with its own row. */
  add(files: readonly File[]): void;
}

/** Creates the upload list for one sign-in. */
export function createUploads(options: UploadsOptions): Uploads {
  const element = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  return {
    element,
    add(files) {
      for (const file of files) {
        void uploadOne(options, file, element).then((stored) => {
          if (stored && !options.signedIn.closed.aborted) options.onStored();
        });
      }
    },
  };
}

/** The parts of one upload row that change. */
interface Row {
  readonly element: HTMLLIElement;
  readonly bar: HTMLElement;
  readonly fill: HTMLElement;
  readonly percent: HTMLElement;
  readonly speed: HTMLElement;
  readonly eta: HTMLElement;
  readonly cancel: HTMLButtonElement;
}

function uploadRow(file: File): Row {
  const fill = h('div', { class: 'fill' });
  const bar = h(
    'div',
    {
      class: 'bar',
      role: 'progressbar',
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': 0,
      'aria-label': `Upload progress of ${file.name}`,
    },
    fill,
  );
  const percent = h('span', { class: 'pct' }, `${INITIAL_PROGRESS.percent}%`);
  const speed = h('span', { class: 'speed' }, INITIAL_PROGRESS.speed);
  const eta = h('span', { class: 'eta' }, INITIAL_PROGRESS.eta);
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
      cancel,
    ),
    bar,
    h('div', { class: 'stats' }, percent, speed, eta),
  );
  return { element, bar, fill, percent, speed, eta, cancel };
}

function showProgress(row: Row, progress: ProgressText): void {
  row.fill.style.width = `${progress.percent}%`;
  row.bar.setAttribute('aria-valuenow', String(progress.percent));
  row.percent.textContent = `${progress.percent}%`;
  row.speed.textContent = progress.speed;
  row.eta.textContent = progress.eta;
}

function showFailure(row: Row, message: Message): void {
  const cancelled = message.kind === 'cancelled';
  row.element.dataset.state = cancelled ? 'cancelled' : 'failed';
  row.cancel.remove();
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

/** Uploads one file with its own progress row; resolves true when it was stored. */
async function uploadOne(options: UploadsOptions, file: File, list: HTMLElement): Promise<boolean> {
  const { signedIn } = options;
  const key = signedIn.grant.prefix + file.name;
  const controller = new AbortController();
  const row = uploadRow(file);
  row.cancel.addEventListener('click', () => {
    row.cancel.disabled = true;
    row.element.dataset.state = 'cancelling';
    row.percent.textContent = 'Cancelling…';
    controller.abort();
    signedIn.xhr.abortSending(key);
  });
  list.prepend(row.element);
  // Signing out stops the upload like Cancel does, minus the row's "Cancelling…".
  const stop = () => controller.abort();
  signedIn.closed.addEventListener('abort', stop, { once: true });
  const progress = createProgress(file.size);
  const show = onceAFrame((bytes: number) => showProgress(row, progress.update(bytes)));
  const unwatch = signedIn.xhr.watch(key, sumParts(show));
  try {
    await signedIn.storage.upload(file.name, file, {
      contentType: file.type || 'application/octet-stream',
      signal: controller.signal,
      onProgress: (p) => show(p.loaded),
    });
    show.flush(file.size);
    row.element.dataset.state = 'done';
    row.eta.textContent = progress.doneText();
    row.cancel.remove();
    return true;
  } catch (err) {
    const message = describe(err, { prefix: signedIn.grant.prefix });
    showFailure(row, message);
    if (message.kind !== 'cancelled') options.show(message);
    return false;
  } finally {
    unwatch();
    signedIn.closed.removeEventListener('abort', stop);
  }
}
