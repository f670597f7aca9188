// The Keyhole web app: sign in, upload by drag and drop or picker, list, download and delete,
// straight between the browser and S3 with credentials from the broker.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  brokerCredentials,
  createStorage,
  StorageError,
  type BrokerCredentialsProvider,
  type Grant,
  type Storage,
} from 'keyhole/client';
import {
  completeOidcSignIn,
  devSignIn,
  restoreSession,
  signOut,
  startOidcSignIn,
  type AppConfig,
  type Session,
} from './auth.js';
import { formatBytes, formatCountdown, formatDate, formatDuration, Rate } from '../../format.js';
import { describe, type Message } from './messages.js';
import { XhrRequestHandler } from './xhr-handler.js';
import './style.css';

type Child = Node | string | null | undefined | false;

/** Builds an element. Text always goes through text nodes, never innerHTML: file names are user data. */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | number | boolean | ((event: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false) el.setAttribute(name, String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

function uploadIcon(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'drop-icon');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M12 16V4m0 0-4.5 4.5M12 4l4.5 4.5M4 15v3a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-3');
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '1.8');
  path.setAttribute('stroke-linecap', 'round');
  path.setAttribute('stroke-linejoin', 'round');
  svg.append(path);
  return svg;
}

const appRoot = document.getElementById('app')!;
const banner = document.getElementById('banner')!;
const who = document.getElementById('who')!;

let config: AppConfig = { devLogin: false };
let brokerUrl = location.origin + '/';

interface SignedIn {
  readonly session: Session;
  readonly credentials: BrokerCredentialsProvider;
  readonly storage: Storage;
  readonly grant: Grant;
  readonly xhr: XhrRequestHandler;
  expiresAt: number;
  timer: number;
}
let current: SignedIn | undefined;

// ---- messages ----------------------------------------------------------------------------------

function showMessage(message: Message): void {
  banner.replaceChildren();
  banner.dataset.kind = message.kind;
  const text = h('p', { class: 'banner-text' }, message.text);
  const actions = h('div', { class: 'banner-actions' });
  if (message.kind === 'expired') {
    actions.append(h('button', { type: 'button', class: 'primary', onclick: () => leave() }, 'Sign in again'));
  }
  actions.append(h('button', { type: 'button', class: 'ghost', 'aria-label': 'Dismiss', onclick: clearMessage }, '×'));
  banner.append(text, actions);
  banner.hidden = false;
}

function clearMessage(): void {
  banner.hidden = true;
  banner.replaceChildren();
  delete banner.dataset.kind;
}

function report(err: unknown): void {
  showMessage(describe(err, current ? { prefix: current.grant.prefix } : {}));
}

// Last line of defence: whatever escapes becomes a sentence, never a blank page.
window.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  report(event.reason);
});
window.addEventListener('error', (event) => report(event.error ?? event.message));

// ---- sign-in -----------------------------------------------------------------------------------

function renderSignIn(): void {
  who.replaceChildren();
  const card = h('section', { class: 'card signin' }, h('h1', {}, 'Sign in'));
  card.append(
    h('p', { class: 'muted' }, 'Files go straight from your browser to storage, with credentials that last minutes.'),
  );
  if (config.devLogin) {
    const input = h('input', {
      id: 'dev-name',
      name: 'name',
      autocomplete: 'username',
      placeholder: 'alice',
      required: true,
      maxlength: 64,
    });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
    const form = h(
      'form',
      { class: 'dev-login', 'aria-label': 'Dev login' },
      h('label', { for: 'dev-name' }, 'Name'),
      h('div', { class: 'inline' }, input, submit),
      h('p', { class: 'hint' }, 'Local development: the broker signs a token for any name, no password.'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submit.disabled = true;
      devSignIn(brokerUrl, input.value)
        .then(enter)
        .catch(report)
        .finally(() => (submit.disabled = false));
    });
    card.append(form);
  }
  const oidc = config.oidc;
  if (oidc) {
    if (config.devLogin) card.append(h('div', { class: 'or' }, 'or'));
    card.append(
      h(
        'button',
        {
          type: 'button',
          class: config.devLogin ? 'secondary wide' : 'primary wide',
          onclick: () => startOidcSignIn(oidc).catch(report),
        },
        `Sign in with ${new URL(oidc.issuer).host}`,
      ),
    );
  }
  if (!config.devLogin && !oidc) {
    card.append(
      h(
        'p',
        { class: 'notice' },
        'No sign-in method is configured. Set KEYHOLE_DEV_LOGIN=1 locally, or KEYHOLE_WEB_OIDC_ISSUER and KEYHOLE_WEB_OIDC_CLIENT_ID.',
      ),
    );
  }
  appRoot.replaceChildren(card);
  document.getElementById('dev-name')?.focus();
}

async function enter(session: Session): Promise<void> {
  clearMessage();
  leaveQuietly();
  const provider = brokerCredentials({ brokerUrl, getToken: (o) => session.getToken(o) });
  // Wrap the provider to see every credential the SDK gets, refreshes included, for the countdown.
  let expiresAt = 0;
  const tracked = (async (options?: { forceRefresh?: boolean }) => {
    const creds = await provider(options);
    expiresAt = creds.expiration.getTime();
    if (current) current.expiresAt = expiresAt;
    return creds;
  }) as BrokerCredentialsProvider;
  Object.defineProperties(tracked, {
    grant: { value: () => provider.grant() },
    clear: { value: () => provider.clear() },
    brokerRequests: { get: () => provider.brokerRequests },
  });
  const xhr = new XhrRequestHandler();
  const storage = createStorage({
    credentials: tracked,
    partSizeBytes: 5 * 1024 * 1024,
    queueSize: 4,
    s3: { requestHandler: xhr as never },
  });
  try {
    await tracked();
  } catch (err) {
    renderSignIn();
    throw err;
  }
  const grant = await provider.grant();
  current = { session, credentials: tracked, storage, grant, xhr, expiresAt, timer: 0 };
  renderApp(current);
}

function leaveQuietly(): void {
  if (!current) return;
  clearInterval(current.timer);
  for (const upload of uploads.values()) upload.controller.abort();
  uploads.clear();
  current.storage.clear();
  current = undefined;
}

function leave(): void {
  leaveQuietly();
  signOut();
  clearMessage();
  renderSignIn();
}

// ---- signed-in page ----------------------------------------------------------------------------

interface UploadRow {
  readonly controller: AbortController;
}
const uploads = new Map<HTMLElement, UploadRow>();

function renderApp(state: SignedIn): void {
  who.replaceChildren(
    h('span', { class: 'user', 'data-testid': 'user' }, state.session.name),
    h('button', { type: 'button', class: 'ghost small', onclick: leave }, 'Sign out'),
  );

  const expiry = h('span', { class: 'value', 'data-testid': 'expiry' }, '');
  const tick = () => {
    const left = state.expiresAt - Date.now();
    expiry.textContent = left > 0 ? formatCountdown(left) : 'expired, renews on next action';
    expiry.classList.toggle('soon', left < 5 * 60 * 1000);
  };
  tick();
  state.timer = window.setInterval(tick, 1000);

  const session = h(
    'section',
    { class: 'card session', 'aria-label': 'Your access' },
    h(
      'div',
      { class: 'fact' },
      h('span', { class: 'label' }, 'Prefix'),
      h('code', { 'data-testid': 'prefix' }, state.grant.prefix),
    ),
    h(
      'div',
      { class: 'fact' },
      h('span', { class: 'label' }, 'Access'),
      h(
        'span',
        { class: 'chips', 'data-testid': 'access' },
        ...state.grant.access.map((a) => h('span', { class: 'chip' }, a)),
      ),
    ),
    h('div', { class: 'fact' }, h('span', { class: 'label' }, 'Expires in'), expiry),
  );

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
  const list = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  picker.addEventListener('change', () => {
    startUploads(state, [...(picker.files ?? [])], list);
    picker.value = '';
  });
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    startUploads(state, [...(event.dataTransfer?.files ?? [])], list);
  });

  const files = h('ul', { class: 'files', 'aria-label': 'Your files', 'data-testid': 'files' });
  const filesCard = h(
    'section',
    { class: 'card' },
    h(
      'div',
      { class: 'card-head' },
      h('h2', {}, 'Your files'),
      h('button', { type: 'button', class: 'ghost small', onclick: () => void refreshFiles(state, files) }, 'Refresh'),
    ),
    files,
  );

  const keyInput = h('input', {
    id: 'open-key',
    name: 'key',
    placeholder: `${state.grant.prefix}photo.jpg`,
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
    void openByKey(state, keyInput.value.trim());
  });
  const openCard = h(
    'details',
    { class: 'card open' },
    h('summary', {}, 'Open a file by its full key'),
    h('p', { class: 'hint' }, 'For links someone shared. You can only read keys under your prefix.'),
    openForm,
  );

  appRoot.replaceChildren(session, drop, list, filesCard, openCard);
  void refreshFiles(state, files);
}

function startUploads(state: SignedIn, chosen: File[], list: HTMLElement): void {
  const files = document.querySelector<HTMLElement>('[data-testid="files"]');
  for (const file of chosen) {
    void uploadOne(state, file, list).then((uploaded) => {
      if (uploaded && files && current === state) void refreshFiles(state, files);
    });
  }
}

/** Uploads one file with its own progress row; resolves true when it was stored. */
async function uploadOne(state: SignedIn, file: File, list: HTMLElement): Promise<boolean> {
  const controller = new AbortController();
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
  const percent = h('span', { class: 'pct' }, '0%');
  const speed = h('span', { class: 'speed' }, 'starting…');
  const eta = h('span', { class: 'eta' }, '');
  const key = state.grant.prefix + file.name;
  const cancel = h(
    'button',
    { type: 'button', class: 'ghost small', 'aria-label': `Cancel upload of ${file.name}` },
    'Cancel',
  );
  cancel.addEventListener('click', () => {
    cancel.disabled = true;
    row.dataset.state = 'cancelling';
    percent.textContent = 'Cancelling…';
    controller.abort();
    state.xhr.abortSending(key);
  });
  const row = h(
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
  list.prepend(row);
  uploads.set(row, { controller });
  const rate = new Rate();
  let shown = 0;
  const show = (bytes: number) => {
    // Monotonic: a retried part restarts its own count, the bar does not go back.
    const loaded = Math.max(shown, Math.min(bytes, file.size));
    shown = loaded;
    const pct = file.size > 0 ? Math.min(100, Math.floor((loaded / file.size) * 100)) : 100;
    fill.style.width = `${pct}%`;
    bar.setAttribute('aria-valuenow', String(pct));
    percent.textContent = `${pct}%`;
    const bps = rate.update(loaded);
    speed.textContent = bps > 0 ? `${formatBytes(bps)}/s` : '';
    eta.textContent = bps > 0 && loaded < file.size ? `${formatDuration((file.size - loaded) / bps)} left` : '';
  };
  const parts = new Map<number, number>();
  const unwatch = state.xhr.watch(key, (part, loaded) => {
    parts.set(part, loaded);
    let sum = 0;
    for (const bytes of parts.values()) sum += bytes;
    show(sum);
  });
  try {
    await state.storage.upload(file.name, file, {
      contentType: file.type || 'application/octet-stream',
      signal: controller.signal,
      onProgress: (p) => show(p.loaded),
    });
    show(file.size);
    row.dataset.state = 'done';
    eta.textContent = `done in ${formatDuration(rate.elapsedSeconds())}`;
    cancel.remove();
    return true;
  } catch (err) {
    const message = describe(err, { prefix: state.grant.prefix });
    row.dataset.state = message.kind === 'cancelled' ? 'cancelled' : 'failed';
    cancel.remove();
    speed.textContent = '';
    eta.textContent = '';
    percent.textContent = message.kind === 'cancelled' ? 'Cancelled' : 'Failed';
    row.append(
      h(
        'p',
        { class: 'row-error' },
        message.kind === 'cancelled' ? 'Upload cancelled; nothing was kept.' : message.text,
      ),
    );
    if (message.kind !== 'cancelled') showMessage(message);
    return false;
  } finally {
    unwatch();
    uploads.delete(row);
  }
}

let listings = 0;

async function refreshFiles(state: SignedIn, list: HTMLElement): Promise<void> {
  // Listings overlap when uploads finish close together: only the latest one is shown.
  const mine = ++listings;
  list.setAttribute('aria-busy', 'true');
  try {
    const objects = [];
    for await (const object of state.storage.list()) objects.push(object);
    objects.sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0));
    if (current !== state || mine !== listings) return;
    list.replaceChildren(
      ...(objects.length === 0
        ? [h('li', { class: 'empty' }, 'No files yet. Upload one above.')]
        : objects.map((object) => fileRow(state, object.key, object.size, object.lastModified, list))),
    );
  } catch (err) {
    report(err);
  } finally {
    if (mine === listings) list.removeAttribute('aria-busy');
  }
}

function fileRow(
  state: SignedIn,
  key: string,
  size: number,
  modified: Date | undefined,
  list: HTMLElement,
): HTMLElement {
  const download = h('button', { type: 'button', class: 'secondary small' }, 'Download');
  const remove = h('button', { type: 'button', class: 'danger small' }, 'Delete');
  download.addEventListener('click', () => {
    download.disabled = true;
    saveFile(state, key)
      .catch(report)
      .finally(() => (download.disabled = false));
  });
  let armed = 0;
  remove.addEventListener('click', () => {
    // Two clicks, no modal dialog: the first arms the button for a few seconds.
    if (!armed) {
      remove.textContent = 'Confirm delete';
      remove.classList.add('armed');
      armed = window.setTimeout(() => {
        armed = 0;
        remove.textContent = 'Delete';
        remove.classList.remove('armed');
      }, 4000);
      return;
    }
    clearTimeout(armed);
    remove.disabled = true;
    state.storage
      .delete(key)
      .then(() => refreshFiles(state, list))
      .catch((err: unknown) => {
        remove.disabled = false;
        report(err);
      });
  });
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

function offerDownload(bytes: Uint8Array, name: string, type: string | undefined): void {
  const url = URL.createObjectURL(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: type ?? 'application/octet-stream' }),
  );
  const link = h('a', { href: url, download: name.split('/').pop() ?? name, class: 'visually-hidden' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function saveFile(state: SignedIn, key: string): Promise<void> {
  const { body, contentType } = await state.storage.download(key);
  offerDownload(body, key, contentType);
}

/** Reads any key in the bucket, so a key outside the grant reaches S3 and S3 itself says no. */
async function openByKey(state: SignedIn, key: string): Promise<void> {
  if (!key) return;
  clearMessage();
  try {
    if (key.startsWith(state.grant.prefix)) {
      await saveFile(state, key.slice(state.grant.prefix.length));
      return;
    }
    const client = await state.storage.client();
    let out;
    try {
      out = await client.send(new GetObjectCommand({ Bucket: state.grant.bucket, Key: key }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 403) {
        throw new StorageError(
          'access_denied',
          `access denied: download "${key}" is outside your grant`,
          'AccessDenied',
          403,
          {
            cause: err,
          },
        );
      }
      throw new StorageError('s3_error', `download of "${key}" failed`, (err as Error).name, status, { cause: err });
    }
    const bytes = await (out.Body as unknown as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    offerDownload(bytes, key, out.ContentType);
  } catch (err) {
    report(err);
  }
}

// ---- start -------------------------------------------------------------------------------------

async function loadConfig(): Promise<AppConfig> {
  let res: Response;
  try {
    res = await fetch('./config.json', { cache: 'no-store' });
  } catch (cause) {
    throw new TypeError('config.json could not be fetched', { cause });
  }
  if (!res.ok)
    throw new Error(
      `this page\u2019s config.json is missing (HTTP ${res.status}); serve it from the broker with KEYHOLE_WEB_DIR`,
    );
  return (await res.json()) as AppConfig;
}

async function main(): Promise<void> {
  try {
    config = await loadConfig();
  } catch (err) {
    appRoot.replaceChildren(h('section', { class: 'card' }, h('h1', {}, 'Keyhole is not available')));
    report(err);
    return;
  }
  if (config.brokerUrl) brokerUrl = config.brokerUrl.endsWith('/') ? config.brokerUrl : config.brokerUrl + '/';
  try {
    const returning = config.oidc ? await completeOidcSignIn(config.oidc) : undefined;
    const session = returning ?? restoreSession(brokerUrl);
    if (session) {
      await enter(session);
      return;
    }
  } catch (err) {
    // A saved session the broker no longer accepts is dropped, so a reload does not repeat this.
    if (describe(err).kind === 'expired') signOut();
    renderSignIn();
    report(err);
    return;
  }
  renderSignIn();
}

void main();
