// The sign-in card: the broker's dev login (a name), OpenID Connect (a button), or a notice saying
// how to configure either.
import type { WebAppConfig } from '../../protocol/web-config.js';
import type { OidcConfig } from './auth.js';
import { h } from './view.js';

/** What the sign-in card does when used. */
export interface SignInActions {
  /** Dev login with `name`; the form's button is disabled until it settles. */
  devSignIn(name: string): Promise<void>;
  /** Sends the browser to the OIDC provider. */
  oidcSignIn(oidc: OidcConfig): Promise<void>;
  /** Shows a failed sign-in in the banner. */
  report(err: unknown): void;
}

/** Where the page draws: `#app` for the main content, `#who` for the user and Sign out. */
export interface PageDom {
  readonly root: HTMLElement;
  readonly who: HTMLElement;
}

/** Replaces the page with the sign-in card for the methods `config` enables. */
export function renderSignIn(dom: PageDom, config: WebAppConfig, actions: SignInActions): void {
  dom.who.replaceChildren();
  const card = h('section', { class: 'card signin' }, h('h1', {}, 'Sign in'));
  card.append(
    h('p', { class: 'muted' }, 'Files go straight from your browser to storage, with credentials that last minutes.'),
  );
  if (config.devLogin) card.append(devLoginForm(actions));
  const oidc = config.oidc;
  if (oidc) {
    if (config.devLogin) card.append(h('div', { class: 'or' }, 'or'));
    card.append(
      h(
        'button',
        {
          type: 'button',
          class: config.devLogin ? 'secondary wide' : 'primary wide',
          onclick: () => actions.oidcSignIn(oidc).catch((err: unknown) => actions.report(err)),
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
  dom.root.replaceChildren(card);
  document.getElementById('dev-name')?.focus();
}

function devLoginForm(actions: SignInActions): HTMLFormElement {
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
    actions
      .devSignIn(input.value)
      .catch((err: unknown) => actions.report(err))
      .finally(() => (submit.disabled = false));
  });
  return form;
}
