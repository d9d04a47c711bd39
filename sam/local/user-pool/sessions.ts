/**
 * Authentication sessions: what a challenge answer (`Session`, or SRP's `SECRET_BLOCK`) was issued
 * for — which user, app client and challenge — so a RespondToAuthChallenge is accepted only with a
 * session the pool really handed out for that user and challenge, within its lifetime.
 *
 * cognito-local checks none of this: it accepts any string as `Session`, and its
 * NEW_PASSWORD_REQUIRED answer sets the password of whichever USERNAME is named — locally anyone
 * could take over any account with one call. Cognito refuses with NotAuthorizedException.
 */
import { CognitoErrorType, CognitoServiceError } from './errors.js';

export interface PendingChallenge<T = undefined> {
  readonly challengeName: string;
  readonly clientId: string;
  readonly userPoolId: string;
  /** cognito-local's username of the user (USER_ID_FOR_SRP). */
  readonly username: string;
  /** Extra state (SRP's secret exponent and verifier). */
  readonly state: T;
}

/** Cognito's default `AuthSessionValidity`: 3 minutes. */
export const DEFAULT_SESSION_MS = 3 * 60_000;
/** Bounded: the oldest sessions go first when a flood of sign-in starts is never completed. */
const MAX_SESSIONS = 10_000;

export const INVALID_SESSION = 'Invalid session for the user.';
export const EXPIRED_SESSION = 'Invalid session for the user, session is expired.';

export interface SessionStore<T> {
  remember(id: string, challenge: PendingChallenge<T>): void;
  /**
   * The challenge `id` was issued for, if it was issued for this client and challenge; else
   * Cognito's NotAuthorizedException. Does not consume it (a wrong MFA code may be retried).
   */
  get(id: string | undefined, clientId: string, challengeName: string): PendingChallenge<T>;
  forget(id: string): void;
  readonly size: number;
}

export function createSessionStore<T>(
  now: () => number,
  lifetimeMs = DEFAULT_SESSION_MS,
): SessionStore<T> {
  const sessions = new Map<string, { challenge: PendingChallenge<T>; expiresAt: number }>();
  const purge = () => {
    const t = now();
    // Kept one lifetime past expiry, so a late answer hears "session is expired", not "invalid".
    for (const [id, s] of sessions) if (s.expiresAt <= t - lifetimeMs) sessions.delete(id);
    while (sessions.size >= MAX_SESSIONS) {
      const [oldest] = sessions.keys();
      if (oldest === undefined) break;
      sessions.delete(oldest);
    }
  };
  return {
    remember(id, challenge) {
      purge();
      sessions.set(id, { challenge, expiresAt: now() + lifetimeMs });
    },
    get(id, clientId, challengeName) {
      const entry = id === undefined ? undefined : sessions.get(id);
      if (
        !entry ||
        entry.challenge.clientId !== clientId ||
        entry.challenge.challengeName !== challengeName
      )
        throw new CognitoServiceError(CognitoErrorType.notAuthorized, INVALID_SESSION);
      if (now() >= entry.expiresAt) {
        sessions.delete(id as string);
        throw new CognitoServiceError(CognitoErrorType.notAuthorized, EXPIRED_SESSION);
      }
      return entry.challenge;
    },
    forget(id) {
      sessions.delete(id);
    },
    get size() {
      return sessions.size;
    },
  };
}
