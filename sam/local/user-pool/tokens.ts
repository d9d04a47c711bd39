/**
 * JWT checks of the front. cognito-local reads access tokens with `jwt.decode` — no signature, no
 * expiry — in GetUser, UpdateUserAttributes, DeleteUser, ChangePassword and the other operations a
 * user calls with their access token: locally anyone could edit a token's `sub` and read, change or
 * delete another user. Cognito verifies the token; so does the front, before relaying, against the
 * pool's JWKS as cognito-local serves it (fetched once, again on an unknown `kid`).
 *
 * Answers (NotAuthorizedException) are Cognito's: "Invalid Access Token", "Access Token has
 * expired".
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { CognitoErrorType, CognitoServiceError } from './errors.js';

/** The payload of a compact JWS, or undefined when it is not one. Does not verify anything. */
export function jwtPayload(token: string | undefined): Record<string, unknown> | undefined {
  return jwtPart(token, 1);
}

function jwtPart(token: string | undefined, index: 0 | 1): Record<string, unknown> | undefined {
  const parts = token?.split('.');
  if (parts?.length !== 3) return undefined;
  try {
    const value = JSON.parse(Buffer.from(parts[index] as string, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export interface JsonWebKeySet {
  readonly keys: readonly (Record<string, unknown> & { kid?: string })[];
}

export interface AccessTokenVerifier {
  /**
   * The claims of a valid access token of `userPoolId` (signature, `token_use`, issuer, expiry),
   * else Cognito's NotAuthorizedException.
   */
  verify(
    token: string | undefined,
    userPoolId: (clientId: string) => Promise<string | undefined>,
  ): Promise<Record<string, unknown>>;
}

const invalid = () =>
  new CognitoServiceError(CognitoErrorType.notAuthorized, 'Invalid Access Token');

/** Unknown `kid`s refetch the JWKS at most this often. */
const REFETCH_MS = 10_000;

export function createAccessTokenVerifier(options: {
  /** A pool's JWKS (cognito-local serves one key for all its pools). */
  readonly jwks: (userPoolId: string) => Promise<JsonWebKeySet>;
  readonly now: () => number;
}): AccessTokenVerifier {
  let keys = new Map<string, KeyObject>();
  let fetchedAt = Number.NEGATIVE_INFINITY;
  const keyFor = async (kid: string, userPoolId: string): Promise<KeyObject | undefined> => {
    if (!keys.has(kid) && options.now() - fetchedAt >= REFETCH_MS) {
      fetchedAt = options.now();
      const set = await options.jwks(userPoolId);
      keys = new Map(
        set.keys
          .filter((k) => typeof k.kid === 'string')
          .map((k) => [k.kid as string, createPublicKey({ key: k as never, format: 'jwk' })]),
      );
    }
    return keys.get(kid);
  };
  return {
    async verify(token, userPoolOf) {
      const header = jwtPart(token, 0);
      const claims = jwtPayload(token);
      if (!token || !header || !claims || header.alg !== 'RS256' || typeof header.kid !== 'string')
        throw invalid();
      if (claims.token_use !== 'access' || typeof claims.client_id !== 'string') throw invalid();
      const poolId = await userPoolOf(claims.client_id);
      if (poolId === undefined) throw invalid();
      const key = await keyFor(header.kid, poolId);
      const [h, p, s] = token.split('.') as [string, string, string];
      if (!key || !verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')))
        throw invalid();
      if (
        typeof claims.iss !== 'string' ||
        !/^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\//.test(claims.iss) ||
        !claims.iss.endsWith(`/${poolId}`)
      )
        throw invalid();
      if (typeof claims.exp !== 'number' || claims.exp * 1000 <= options.now())
        throw new CognitoServiceError(CognitoErrorType.notAuthorized, 'Access Token has expired');
      return claims;
    },
  };
}
