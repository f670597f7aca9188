import type { RequestHandler } from 'express';
import { isLoopbackPeer, type DevLogin } from '../auth/dev-login.js';
import { brokerError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * `POST /v1/dev/token` (after a JSON body parser): `{ "token" }` signed by the dev login, for
 * loopback callers only (403 `dev_login_remote` otherwise). Logs a warning once, when built, so a
 * broker with dev login on never starts silently.
 */
export function devTokenHandler(devLogin: DevLogin, logger: Logger): RequestHandler {
  logger.warn(
    { event: 'dev_login.enabled' },
    'POST /v1/dev/token is enabled: anyone can sign in as anyone. Local development only.',
  );
  return async (req, res) => {
    // The TCP peer, not req.ip: a trusted proxy's X-Forwarded-For must not make a remote caller local.
    if (!isLoopbackPeer(req.socket.remoteAddress)) {
      throw brokerError('dev_login_remote', 'dev login answers loopback callers only');
    }
    const token = await devLogin.mint(req.body);
    res.set('Cache-Control', 'no-store').json({ token });
  };
}
