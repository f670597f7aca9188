// The user's files: listing (newest first), download, delete with a second click to confirm, and
// opening any key by name (S3 itself refuses keys outside the grant).
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { formatBytes, formatDate } from '../../format.js';
import { openByKeyError } from './open-errors.js';
import type { SignedIn } from './session.js';
import { h } from './view.js';

/** How the file list tells the page about errors. */
export interface Feedback {
  /** Shows `err` as a sentence in the banner. */
  report(err: unknown): void;
  /** Hides the banner. */
  clear(): void;
}

/** The list of the user's files. */
export interface FileList {
  /** The `<ul data-testid="files">`. */
  readonly element: HTMLElement;
  /** Lists the prefix again and redraws; errors go to the banner. */
  refresh(): Promise<void>;
}

// How long the Delete button stays armed for its confirming second click.
const ARMED_MS = 4000;

/** Creates the file list for one sign-in. Call `refresh()` to fill it. */
export function createFileList(signedIn: SignedIn, feedback: Feedback): FileList {
  const element = h('ul', { class: 'files', 'aria-label': 'Your files', 'data-testid': 'files' });
  // Listings overlap when uploads finish close together: only the latest one is shown.
  let listings = 0;
  const refresh = async (): Promise<void> => {
    const mine = ++listings;
    element.setAttribute('aria-busy', 'true');
    try {
      const objects = [];
      for await (const object of signedIn.storage.list()) objects.push(object);
      objects.sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0));
      if (signedIn.closed.aborted || mine !== listings) return;
      element.replaceChildren(
        ...(objects.length === 0
          ? [h('li', { class: 'empty' }, 'No files yet. Upload one above.')]
          : objects.map((o) => fileRow(signedIn, feedback, refresh, o.key, o.size, o.lastModified))),
      );
    } catch (err) {
      feedback.report(err);
    } finally {
      if (mine === listings) element.removeAttribute('aria-busy');
    }
  };
  return { element, refresh };
}

function fileRow(
  signedIn: SignedIn,
  feedback: Feedback,
  refresh: () => Promise<void>,
  key: string,
  size: number,
  modified: Date | undefined,
): HTMLElement {
  const download = h('button', { type: 'button', class: 'secondary small' }, 'Download');
  download.addEventListener('click', () => {
    download.disabled = true;
    saveFile(signedIn, key)
      .catch((err: unknown) => feedback.report(err))
      .finally(() => (download.disabled = false));
  });
  const remove = deleteButton(() => signedIn.storage.delete(key).then(refresh), feedback);
  return h(
    'li',
    { 'data-key': key },
    h(
      'div',
      { class: 'meta' },
      h('span', { class: 'name' }, key),
      h('span', { class: 'sub' }, `${formatBytes(size)} · ${formatDate(modified)}`),
    ),
    h('div', { class: 'actions' }, download, remove),
  );
}

/** A Delete button that asks for a second click instead of a modal dialog, then runs `remove`. */
function deleteButton(remove: () => Promise<void>, feedback: Feedback): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'danger small' }, 'Delete');
  let armed = 0;
  button.addEventListener('click', () => {
    if (!armed) {
      button.textContent = 'Confirm delete';
      button.classList.add('armed');
      armed = window.setTimeout(() => {
        armed = 0;
        button.textContent = 'Delete';
        button.classList.remove('armed');
      }, ARMED_MS);
      return;
    }
    clearTimeout(armed);
    button.disabled = true;
    remove().catch((err: unknown) => {
      button.disabled = false;
      feedback.report(err);
    });
  });
  return button;
}

/** Hands `bytes` to the browser as a download named after the key's last segment. */
function offerDownload(bytes: Uint8Array, name: string, type: string | undefined): void {
  const url = URL.createObjectURL(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: type ?? 'application/octet-stream' }),
  );
  const link = h('a', { href: url, download: name.split('/').pop() ?? name, class: 'visually-hidden' });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later, not at once: the browser reads the blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function saveFile(signedIn: SignedIn, key: string): Promise<void> {
  const { body, contentType } = await signedIn.storage.download(key);
  offerDownload(body, key, contentType);
}

/**
 * Downloads any key in the bucket, given in full. A key under the user's prefix goes through the
 * storage object; any other is sent to S3 as is, so S3 itself says no outside the grant. A key that
 * does not exist is reported as "no such file", with the key as typed.
 */
export async function openByKey(signedIn: SignedIn, feedback: Feedback, key: string): Promise<void> {
  if (!key) return;
  feedback.clear();
  try {
    const { prefix } = signedIn.grant;
    if (key.startsWith(prefix)) await saveFile(signedIn, key.slice(prefix.length));
    else await saveOutsidePrefix(signedIn, key);
  } catch (err) {
    feedback.report(openByKeyError(err, key));
  }
}

async function saveOutsidePrefix(signedIn: SignedIn, key: string): Promise<void> {
  const client = await signedIn.storage.client();
  const out = await client.send(new GetObjectCommand({ Bucket: signedIn.grant.bucket, Key: key }));
  const bytes = await (out.Body as unknown as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  offerDownload(bytes, key, out.ContentType);
}
