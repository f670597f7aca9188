// The page side of cors-blocked.test.ts, bundled by esbuild with `keyhole/client` from this
// checkout: asks a broker for credentials and reports the outcome as plain data.
import { brokerCredentials } from '../../client/index.js';

// Browser globals this file uses that the test tsconfig (Node types, no DOM) does not declare.
declare const window: any;

async function credentials(brokerUrl: string, token: string, retries = 0) {
  try {
    await brokerCredentials({ brokerUrl, getToken: () => token, retries })();
    return { ok: true as const };
  } catch (err) {
    const e = err as { code?: string; message?: string; status?: number };
    return { ok: false as const, code: e.code, status: e.status, message: String(e.message) };
  }
}

window.khCors = { credentials };
