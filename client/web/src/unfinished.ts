// Unfinished uploads after a reload: the resumable uploads the browser's IndexedDB still lists for
// this user, each with "Resume" (choose the same file again: a page cannot reopen a file by itself,
// and the choice must match the file's name, size, date and sampled bytes) and "Discard" (aborts
// the multipart upload on S3).
import { fileIdentity, type UnfinishedUpload } from 'keyhole/client';
import { formatBytes } from '../../format.js';
import type { Message } from './messages.js';
import type { SignedIn } from './session.js';
import { h } from './view.js';

export interface UnfinishedOptions {
  readonly signedIn: SignedIn;
  readonly show: (message: Message) => void;
  readonly report: (err: unknown) => void;
  /** Uploads `file` to `key` (relative), resuming its unfinished upload of about `sentBytes`. */
  readonly resume: (file: File, key: string, sentBytes: number) => void;
}

/** The "Unfinished uploads" card; hidden while there are none. */
export function createUnfinished(options: UnfinishedOptions): { element: HTMLElement; refresh(): Promise<void> } {
  const list = h('ul', { class: 'unfinished', 'aria-label': 'Unfinished uploads' });
  const element = h(
    'section',
    { class: 'card', 'data-testid': 'unfinished', hidden: true },
    h('h2', {}, 'Unfinished uploads'),
    h('p', { class: 'hint' }, 'Choose the same file again to send the rest, or discard what was sent.'),
    list,
  );
  const { signedIn } = options;

  const row = (u: UnfinishedUpload): HTMLLIElement => {
    const picker = h('input', { type: 'file', class: 'visually-hidden', 'aria-label': `Choose ${u.file.name} again` });
    const resume = h('button', { type: 'button', class: 'secondary small' }, 'Resume');
    const discard = h('button', { type: 'button', class: 'ghost small' }, 'Discard');
    const note = h('p', { class: 'row-error', hidden: true }, '');
    const item = h(
      'li',
      { class: 'upload', 'data-key': u.key, 'data-name': u.file.name },
      h(
        'div',
        { class: 'row' },
        h('span', { class: 'name' }, u.key),
        h('span', { class: 'size' }, `${formatBytes(u.bytesDone)} of ${formatBytes(u.file.size)} sent`),
        resume,
        discard,
      ),
      picker,
      note,
    );
    const done = () => {
      item.remove();
      element.hidden = list.children.length === 0;
    };
    resume.addEventListener('click', () => picker.click());
    picker.addEventListener('change', () => {
      const file = picker.files?.[0];
      picker.value = '';
      if (!file) return;
      void fileIdentity(file).then((id) => {
        const same =
          id.name === u.file.name &&
          id.size === u.file.size &&
          id.lastModified === u.file.lastModified &&
          id.sample === u.file.sample;
        if (!same) {
          note.hidden = false;
          note.textContent = `That is not the same file: choose "${u.file.name}" (${formatBytes(u.file.size)}, modified ${new Date(u.file.lastModified).toLocaleString()}).`;
          return;
        }
        done();
        options.resume(file, u.key, u.bytesDone);
      }, options.report);
    });
    discard.addEventListener('click', () => {
      discard.disabled = resume.disabled = true;
      signedIn.storage.discardUpload(u.key).then(done, (err: unknown) => {
        discard.disabled = resume.disabled = false;
        options.report(err);
      });
    });
    return item;
  };

  return {
    element,
    async refresh() {
      const uploads = await signedIn.storage.unfinishedUploads();
      if (signedIn.closed.aborted) return;
      list.replaceChildren(...uploads.map(row));
      element.hidden = uploads.length === 0;
    },
  };
}
