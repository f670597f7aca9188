// DOM helpers shared by the page's parts: an element builder, the upload icon, and the banner
// that shows one message at a time.
import type { Message } from './messages.js';

/** What {@link h} accepts as children; falsy ones are skipped, so conditions can be written inline. */
export type Child = Node | string | null | undefined | false;

/** Attributes, plus `on…` event listeners (`onclick` → `click`). `true` sets an empty attribute. */
export type Props = Record<string, string | number | boolean | ((event: Event) => void)>;

/** Builds an element. Text always goes through text nodes, never innerHTML: file names are user data. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
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

/** The arrow-into-tray icon of the drop zone, decorative (aria-hidden). */
export function uploadIcon(): SVGSVGElement {
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

/** The page's message strip (`#banner`). */
export interface Banner {
  /** Replaces whatever is shown with `message`; an `expired` one offers to sign in again. */
  show(message: Message): void;
  /** Hides the banner. */
  clear(): void;
}

/**
 * Drives the `#banner` element. `onSignInAgain` runs when the user presses "Sign in again" on an
 * expired-session message.
 */
export function createBanner(el: HTMLElement, onSignInAgain: () => void): Banner {
  const clear = (): void => {
    el.hidden = true;
    el.replaceChildren();
    delete el.dataset.kind;
  };
  const show = (message: Message): void => {
    el.replaceChildren();
    el.dataset.kind = message.kind;
    const text = h('p', { class: 'banner-text' }, message.text);
    const actions = h('div', { class: 'banner-actions' });
    if (message.kind === 'expired') {
      actions.append(
        h('button', { type: 'button', class: 'primary', onclick: () => onSignInAgain() }, 'Sign in again'),
      );
    }
    actions.append(h('button', { type: 'button', class: 'ghost', 'aria-label': 'Dismiss', onclick: clear }, '×'));
    el.append(text, actions);
    el.hidden = false;
  };
  return { show, clear };
}
