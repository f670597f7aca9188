import { isPerCaller, type PrefixTemplate } from './prefix-template.js';

/**
 * With more than one trusted token issuer, `sub` alone no longer names one person: "alice" at one
 * identity provider and "alice" at another would share `users/{sub}/`. Every per-caller template
 * must then contain `{iss}`. Throws a TypeError naming the option otherwise. The dev-login issuer
 * is not counted: it signs in anyone as anyone by design.
 */
export function checkIssuerSeparation(issuerCount: number, templates: readonly PrefixTemplate[]): void {
  if (issuerCount < 2) return;
  const shared = templates.find((t) => isPerCaller(t) && !t.segments.some((s) => 'claim' in s && s.claim === 'iss'));
  if (shared) {
    throw new TypeError(
      `options.issuers lists ${issuerCount} issuers, so subjects from different issuers could share prefix ` +
        `"${shared.source}"; put {iss} in every per-caller prefix template, e.g. "users/{iss}/{sub}/"`,
    );
  }
}
