/**
 * What the cognito vendor remembers per developer user identifier, i.e. per (issuer, subject),
 * exactly as Cognito keys its identities: a subject alone would let "alice" at issuer B be
 * answered with the identity (and in the enhanced flow, the credentials) of "alice" at issuer A.
 *
 * - Identity ids, which never change for one user, in LRU order, at most `maxIdentities`.
 * - The OpenID token `identityIdFor` just obtained, so that `issue` need not ask again: used once,
 *   and only while well inside its lifetime. At most 1000 are kept.
 */
export class CognitoIdentities {
  readonly #identities = new Map<string, string>();
  readonly #fresh = new Map<string, { token: string; at: number }>();
  readonly #maxIdentities: number;
  readonly #tokenDuration: number;

  constructor(maxIdentities: number, tokenDurationSeconds: number) {
    this.#maxIdentities = maxIdentities;
    this.#tokenDuration = tokenDurationSeconds;
  }

  /** The identity id last seen for `user`, if any. */
  identityId(user: string): string | undefined {
    return this.#identities.get(user);
  }

  /** Records `user`'s identity id, as the most recently used. */
  rememberIdentity(user: string, identityId: string): void {
    this.#identities.delete(user);
    this.#identities.set(user, identityId);
    while (this.#identities.size > this.#maxIdentities) {
      this.#identities.delete(this.#identities.keys().next().value as string);
    }
  }

  /** Keeps a token just obtained for `user`, for the `issue` that follows. */
  keepToken(user: string, token: string): void {
    this.#fresh.set(user, { token, at: Date.now() });
    while (this.#fresh.size > 1000) this.#fresh.delete(this.#fresh.keys().next().value as string);
  }

  /** The kept token for `user`, once, if it is still well inside its lifetime. */
  takeToken(user: string): string | undefined {
    const kept = this.#fresh.get(user);
    this.#fresh.delete(user);
    return kept && Date.now() - kept.at < Math.min(this.#tokenDuration, 30) * 500 ? kept.token : undefined;
  }
}
