// The page's own errors whose messages are written for the user and shown as is. DOM-free, so the
// message code that tells them apart is unit-tested in Node.

/** A sign-in failure whose message is fit to show as is. */
export class SignInError extends Error {
  override readonly name = 'SignInError';
}

/** config.json is missing, not JSON, or not the shape the page needs. Its message is fit to show as is. */
export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
}
