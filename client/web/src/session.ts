// Who is signed in and their storage: opening a session (first credentials, grant), closing it
// (stop uploads and timers, drop credentials), and signing out. One `Sessions` is made in main.ts;
// the signed-in page gets the `SignedIn` it draws, never a global.
import { brokerCredentials, createStorage, indexedDbUploadStore, type Grant, type Storage } from 'keyhole/client';
import { signOut as forgetSavedSession, type Session } from './auth.js';
import { trackExpiry } from './track-expiry.js';
import { XhrRequestHandler } from './xhr-handler.js';

/** One sign-in's storage and grant. Replaced, not reused, when someone signs in again. */
export interface SignedIn {
  readonly session: Session;
  readonly storage: Storage;
  readonly grant: Grant;
  /** The S3 request handler, for per-key upload progress and stopping a cancelled upload's parts. */
  readonly xhr: XhrRequestHandler;
  /** Aborted when this sign-in ends: uploads stop, timers are cleared, late results are dropped. */
  readonly closed: AbortSignal;
  /** When the credentials in use expire (ms since the epoch); moves on at every refresh. */
  expiresAt(): number;
}

/** The page's sign-in state. */
export interface Sessions {
  /** The current sign-in, if any. */
  readonly current: SignedIn | undefined;
  /**
   * Ends any current sign-in, then opens `session`: fetches the first credentials and the grant.
   * Rejects (and nothing is current) when the broker refuses or cannot be reached.
   */
  open(session: Session): Promise<SignedIn>;
  /** Ends the current sign-in but keeps the saved token. */
  close(): void;
  /** Ends the current sign-in and forgets the saved token, so a reload shows the sign-in form. */
  signOut(): void;
}

/** Creates the page's sign-in state for the broker at `brokerUrl` (with a trailing slash). */
export function createSessions(brokerUrl: string): Sessions {
  let current: { signedIn: SignedIn; end: AbortController } | undefined;

  const close = (): void => {
    if (!current) return;
    const { signedIn, end } = current;
    current = undefined;
    end.abort();
    signedIn.storage.signOut();
  };

  const open = async (session: Session): Promise<SignedIn> => {
    close();
    const provider = brokerCredentials({ brokerUrl, getToken: (o) => session.getToken(o) });
    let expiresAt = 0;
    const credentials = trackExpiry(provider, (at) => (expiresAt = at));
    const xhr = new XhrRequestHandler();
    // Part size and queue are left to the client, which picks them from each file's size; progress
    // moves by the byte anyway (the XHR handler's upload events).
    // Resumable uploads keep their records in IndexedDB, so a reload can list and resume them.
    const storage = createStorage({
      credentials,
      s3: { requestHandler: xhr as never },
      uploadStore: indexedDbUploadStore(),
    });
    await credentials();
    const grant = await provider.grant();
    const end = new AbortController();
    const signedIn: SignedIn = { session, storage, grant, xhr, closed: end.signal, expiresAt: () => expiresAt };
    // Another open() may have finished meanwhile: end it rather than leave its uploads running.
    close();
    current = { signedIn, end };
    return signedIn;
  };

  return {
    get current() {
      return current?.signedIn;
    },
    open,
    close,
    signOut() {
      close();
      forgetSavedSession();
    },
  };
}
