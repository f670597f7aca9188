// Loading and checking /config.json, the page's only setting. DOM-free, so it is unit-tested in
// Node. The broker writes this file (KEYHOLE_WEB_DIR); when the page is served some other way it
// may be missing, be the HTML of a catch-all route, or be hand-written with a mistake, and each
// case gets a sentence naming the field and the fix instead of a blank page.
import { WebAppConfigSchema, type WebAppConfig } from '../../protocol/web-config.js';
import { describeIssues, summarize } from '../../schema-issues.js';
import { WebConfigError } from './errors.js';

/** The fix for every config.json problem: the broker writes a valid one. */
const FIX = 'Serve the page from the Keyhole broker with KEYHOLE_WEB_DIR set: it writes config.json from its settings.';

/**
 * Checks a parsed config.json against {@link WebAppConfigSchema}.
 *
 * @throws WebConfigError naming each wrong field, e.g. `This page’s config.json is invalid: oidc.clientId
 *   must not be empty. Serve the page from the Keyhole broker with KEYHOLE_WEB_DIR set: …`
 */
export function parseWebConfig(json: unknown): WebAppConfig {
  const result = WebAppConfigSchema.safeParse(json);
  if (result.success) return result.data;
  // The document itself is wrong (an array, a string): say so rather than name a field.
  if (result.error.issues.some((issue) => issue.path.length === 0)) {
    throw new WebConfigError(`This page\u2019s config.json is not a JSON object. ${FIX}`);
  }
  const problems = summarize(describeIssues(result.error.issues, json));
  throw new WebConfigError(`This page\u2019s config.json is invalid: ${problems}. ${FIX}`);
}

/**
 * Reads and checks the page's config.json from the answer `get` resolves to (the browser's fetch in
 * the page, a fake in tests). A network failure is rethrown as `get` gave it, so the page reports it
 * like any other unreachable host.
 *
 * @throws WebConfigError when it is missing (HTTP error), is not JSON, or is invalid.
 */
export async function loadConfig(get: () => Promise<Response>): Promise<WebAppConfig> {
  const res = await get();
  if (!res.ok) throw new WebConfigError(`This page\u2019s config.json is missing (HTTP ${res.status}). ${FIX}`);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Typically a static host's catch-all route answering with index.html.
    const type = res.headers.get('content-type')?.split(';')[0]?.trim();
    throw new WebConfigError(
      `This page\u2019s config.json is not JSON${type ? ` (it was sent as ${type})` : ''}. ${FIX}`,
    );
  }
  return parseWebConfig(json);
}

/**
 * The broker's base URL with a trailing slash, so relative paths like `v1/dev/token` resolve under it:
 * `config.brokerUrl` when set, else the page's own origin.
 */
export function brokerBaseUrl(config: WebAppConfig, pageOrigin: string): string {
  const url = config.brokerUrl ?? pageOrigin;
  return url.endsWith('/') ? url : `${url}/`;
}
