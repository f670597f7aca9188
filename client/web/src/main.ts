// The Keyhole web app: sign in, upload by drag and drop or picker, list, download and delete,
// straight between the browser and S3 with credentials from the broker.
//
// This file only wires the parts together; the state lives in the objects made here and is handed
// to each part: config.ts (config.json), session.ts (who is signed in and their storage),
// signin-view.ts and page-view.ts (what is drawn), uploads.ts and file-list.ts (the two lists),
// messages.ts (errors as sentences), view.ts (DOM helpers and the banner).
import { WEB_CONFIG_PATH, type WebAppConfig } from '../../protocol/web-config.js';
import { completeOidcSignIn, devSignIn, restoreSession, signOut, startOidcSignIn, type Session } from './auth.js';
import { brokerBaseUrl, loadConfig } from './config.js';
import { describe } from './messages.js';
import { renderSignedIn, type PageActions } from './page-view.js';
import { createSessions, type Sessions } from './session.js';
import { renderSignIn, type PageDom } from './signin-view.js';
import { createBanner, h, type Banner } from './view.js';
import './style.css';

/** Everything the page's parts share, made once at start. */
interface App {
  readonly dom: PageDom;
  readonly banner: Banner;
  readonly sessions: Sessions;
  readonly config: WebAppConfig;
  readonly brokerUrl: string;
}

function report(banner: Banner, sessions: Sessions | undefined, err: unknown): void {
  const current = sessions?.current;
  banner.show(describe(err, current ? { prefix: current.grant.prefix } : {}));
}

function showSignIn(app: App): void {
  renderSignIn(app.dom, app.config, {
    devSignIn: async (name) => enter(app, await devSignIn(app.brokerUrl, name)),
    oidcSignIn: (oidc) => startOidcSignIn(oidc),
    report: (err) => report(app.banner, app.sessions, err),
  });
}

/** Opens `session` and shows the signed-in page; on failure shows the sign-in form and rethrows. */
async function enter(app: App, session: Session): Promise<void> {
  app.banner.clear();
  let signedIn;
  try {
    signedIn = await app.sessions.open(session);
  } catch (err) {
    showSignIn(app);
    throw err;
  }
  const actions: PageActions = {
    show: (message) => app.banner.show(message),
    report: (err) => report(app.banner, app.sessions, err),
    clear: () => app.banner.clear(),
    signOut: () => leave(app),
    confirmUploads: app.config.confirmUploads === true,
  };
  renderSignedIn(app.dom, signedIn, actions);
}

/** Sign out: stop everything, forget the token, back to the sign-in form. */
function leave(app: App): void {
  app.sessions.signOut();
  app.banner.clear();
  showSignIn(app);
}

/** Resumes a session returning from the OIDC provider or saved in this tab, if there is one. */
async function resume(app: App): Promise<void> {
  try {
    const returning = app.config.oidc ? await completeOidcSignIn(app.config.oidc) : undefined;
    const session = returning ?? restoreSession(app.brokerUrl);
    if (session) {
      await enter(app, session);
      return;
    }
  } catch (err) {
    // A saved session the broker no longer accepts is dropped, so a reload does not repeat this.
    if (describe(err).kind === 'expired') signOut();
    showSignIn(app);
    report(app.banner, app.sessions, err);
    return;
  }
  showSignIn(app);
}

/** Makes the app's shared state for `config`, drawing into the page's `#app`, `#who` and `#banner`. */
function createApp(config: WebAppConfig, dom: PageDom, bannerElement: HTMLElement): App {
  const brokerUrl = brokerBaseUrl(config, location.origin);
  const app: App = {
    dom,
    banner: createBanner(bannerElement, () => leave(app)),
    sessions: createSessions(brokerUrl),
    config,
    brokerUrl,
  };
  // Last line of defence: whatever escapes becomes a sentence, never a blank page.
  window.addEventListener('unhandledrejection', (event) => {
    event.preventDefault();
    report(app.banner, app.sessions, event.reason);
  });
  window.addEventListener('error', (event) => report(app.banner, app.sessions, event.error ?? event.message));
  return app;
}

async function main(): Promise<void> {
  const dom: PageDom = { root: document.getElementById('app')!, who: document.getElementById('who')! };
  const bannerElement = document.getElementById('banner')!;
  let config: WebAppConfig;
  try {
    // no-store: a cached config.json would outlive a change of the broker's settings.
    config = await loadConfig(() => fetch(`./${WEB_CONFIG_PATH}`, { cache: 'no-store' }));
  } catch (err) {
    dom.root.replaceChildren(h('section', { class: 'card' }, h('h1', {}, 'Keyhole is not available')));
    // No one can be signed in yet, so this banner never needs its "Sign in again".
    createBanner(bannerElement, () => undefined).show(describe(err));
    return;
  }
  await resume(createApp(config, dom, bannerElement));
}

void main();
