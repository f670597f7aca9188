// The signed-in page: who is signed in, the grant and its countdown, the drop zone and upload
// list, the file list, and "open by key". Each card is built by its own function from the one
// `SignedIn` it shows.
import { formatCountdown } from '../../format.js';
import { createFileList, openByKey, type Feedback, type FileList } from './file-list.js';
import type { Message } from './messages.js';
import type { SignedIn } from './session.js';
import type { PageDom } from './signin-view.js';
import { createUnfinished } from './unfinished.js';
import { createUploads } from './uploads.js';
import { h, uploadIcon } from './view.js';

/** What the signed-in page needs from the rest of the app. */
export interface PageActions extends Feedback {
  /** Shows a message in the banner. */
  show(message: Message): void;
  /** The Sign out button. */
  signOut(): void;
  /** Ask the broker for each upload's verdict (the broker checks uploads: config.json `confirmUploads`). */
  readonly confirmUploads?: boolean;
}

// The countdown turns to its warning colour in the last five minutes.
const SOON_MS = 5 * 60 * 1000;

/** Replaces the page with the signed-in view of `signedIn` and lists its files. */
export function renderSignedIn(dom: PageDom, signedIn: SignedIn, actions: PageActions): void {
  dom.who.replaceChildren(
    h('span', { class: 'user', 'data-testid': 'user' }, signedIn.session.name),
    h('button', { type: 'button', class: 'ghost small', onclick: () => actions.signOut() }, 'Sign out'),
  );
  const files = createFileList(signedIn, actions);
  const uploads = createUploads({
    signedIn,
    show: actions.show,
    onStored: () => void files.refresh(),
    confirm: actions.confirmUploads === true,
  });
  const unfinished = createUnfinished({
    signedIn,
    show: actions.show,
    report: actions.report,
    resume: (file, key, sentBytes) => uploads.add([file], key, sentBytes),
  });
  dom.root.replaceChildren(
    sessionCard(signedIn),
    unfinished.element,
    dropZone((chosen) => uploads.add(chosen)),
    uploads.element,
    filesCard(files),
    openCard(signedIn, actions),
  );
  void files.refresh();
  unfinished.refresh().catch(actions.report);
}

function fact(label: string, value: Node): HTMLElement {
  return h('div', { class: 'fact' }, h('span', { class: 'label' }, label), value);
}

/** Prefix, access and a countdown to the credentials' expiry, ticking until the sign-in ends. */
function sessionCard(signedIn: SignedIn): HTMLElement {
  const expiry = h('span', { class: 'value', 'data-testid': 'expiry' }, '');
  const tick = () => {
    const left = signedIn.expiresAt() - Date.now();
    expiry.textContent = left > 0 ? formatCountdown(left) : 'expired, renews on next action';
    expiry.classList.toggle('soon', left < SOON_MS);
  };
  tick();
  const timer = window.setInterval(tick, 1000);
  signedIn.closed.addEventListener('abort', () => clearInterval(timer), { once: true });
  const { prefix, access } = signedIn.grant;
  return h(
    'section',
    { class: 'card session', 'aria-label': 'Your access' },
    fact('Prefix', h('code', { 'data-testid': 'prefix' }, prefix)),
    fact(
      'Access',
      h('span', { class: 'chips', 'data-testid': 'access' }, ...access.map((a) => h('span', { class: 'chip' }, a))),
    ),
    fact('Expires in', expiry),
  );
}

/** The drop zone with its hidden file picker; `onFiles` gets what was dropped or chosen. */
function dropZone(onFiles: (files: File[]) => void): HTMLElement {
  const picker = h('input', { type: 'file', multiple: true, id: 'file-input', class: 'visually-hidden' });
  const drop = h(
    'section',
    { class: 'card drop', 'aria-label': 'Upload files', 'data-testid': 'dropzone' },
    uploadIcon(),
    h('p', { class: 'drop-title' }, 'Drop files here'),
    h(
      'p',
      { class: 'muted' },
      'or ',
      h('label', { for: 'file-input', class: 'link' }, 'choose files'),
      ' — several at once',
    ),
    picker,
  );
  picker.addEventListener('change', () => {
    onFiles([...(picker.files ?? [])]);
    // Cleared so that choosing the same file again fires "change" again.
    picker.value = '';
  });
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (event) => {
      // Without preventDefault the browser opens the dropped file instead of handing it to the page.
      event.preventDefault();
      drop.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    onFiles([...(event.dataTransfer?.files ?? [])]);
  });
  return drop;
}

function filesCard(files: FileList): HTMLElement {
  return h(
    'section',
    { class: 'card' },
    h(
      'div',
      { class: 'card-head' },
      h('h2', {}, 'Your files'),
      h('button', { type: 'button', class: 'ghost small', onclick: () => void files.refresh() }, 'Refresh'),
    ),
    files.element,
  );
}

/** "Open a file by its full key", for links someone shared. */
function openCard(signedIn: SignedIn, feedback: Feedback): HTMLElement {
  const keyInput = h('input', {
    id: 'open-key',
    name: 'key',
    placeholder: `${signedIn.grant.prefix}photo.jpg`,
    required: true,
  });
  const openForm = h(
    'form',
    { class: 'inline', 'aria-label': 'Open by key' },
    keyInput,
    h('button', { type: 'submit', class: 'secondary' }, 'Download'),
  );
  openForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void openByKey(signedIn, feedback, keyInput.value.trim());
  });
  return h(
    'details',
    { class: 'card open' },
    h('summary', {}, 'Open a file by its full key'),
    h('p', { class: 'hint' }, 'For links someone shared. You can only read keys under your prefix.'),
    openForm,
  );
}
