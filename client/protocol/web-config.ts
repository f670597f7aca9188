import * as z from 'zod/mini';

/** Path of the web app's configuration, served by the broker next to the built app. */
export const WEB_CONFIG_PATH = 'config.json';

/** What the web app reads from `/config.json` at startup. */
export const WebAppConfigSchema = z.object({
  /** Base URL of the broker. Default: the page's own origin. */
  brokerUrl: z.optional(z.url({ protocol: /^https?$/ })),
  /** Offer the broker's dev login (a name field). */
  devLogin: z.boolean(),
  /**
   * Ask the broker for each upload's verdict (`POST /v1/uploads/complete`), and show a rejection
   * ("rejected: not an image"). True when the broker checks uploads.
   */
  confirmUploads: z.optional(z.boolean()),
  /** OpenID Connect sign-in (authorization code + PKCE), when configured. */
  oidc: z.optional(
    z.object({
      issuer: z.url({ protocol: /^https?$/ }),
      clientId: z.string().check(z.minLength(1)),
      scope: z.string().check(z.minLength(1)),
      /** Which token the broker accepts: the ID token (default) or the access token. */
      token: z.enum(['id_token', 'access_token']),
    }),
  ),
});

/** What the web app reads from `/config.json` at startup. */
export type WebAppConfig = z.infer<typeof WebAppConfigSchema>;
