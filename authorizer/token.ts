/**
 * ID token verification: the only file that imports aws-jwt-verify. The production
 * `CognitoJwtVerifier` over one or several user pools, fronted by a small verified-token cache:
 * a repeated token costs a SHA-256 and a Map lookup (~2 µs) instead of an RS256 verify through
 * aws-jwt-verify (~47 µs here).
 */
import { createHash } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwkValidationError,
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidClaimError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  ParameterValidationError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleFetcher } from 'aws-jwt-verify/https';
import { type JwksCache, SimpleJwksCache } from 'aws-jwt-verify/jwk';
import {
  AuthorizerConfigError,
  JwksUnavailableError,
  TokenRejectedError,
  TokenRejectReason,
} from './errors.js';
import type { AuthorizerObserver, Clock, VerifiedIdToken } from './types.js';

export type { Fetcher, JwksCache };

/** One trusted user pool and the app clients whose ID tokens it accepts. */
export interface UserPoolOptions {
  readonly userPoolId: string;
  readonly clientIds: readonly string[];
  /** Siloed mode: the tenant this pool serves. */
  readonly tenantId?: string;
}

export interface TokenVerifierOptions {
  readonly userPools: readonly UserPoolOptions[];
  /**
   * Fetches the JWKS (default: HTTPS). Tests and the local stack pass one that serves in-memory keys
   * or maps the issuer to cognito-local. Fetched key sets are watched: when a pool's JWKS changes,
   * the verified-token cache is dropped, so a rotated-out key keeps no token alive.
   */
  readonly fetcher?: Fetcher;
  /**
   * A JWKS cache of your own (aws-jwt-verify's interface). Its `getJwks`/`addJwks` results are
   * watched for changes as above; keys it fetches internally are not, so prefer `fetcher`.
   */
  readonly jwksCache?: JwksCache;
  /** Clock for the token cache's expiry checks. */
  readonly now?: Clock;
  /** Verified-token cache entries; 0 disables the cache. Default 5 000. */
  readonly cacheSize?: number;
  readonly observer?: AuthorizerObserver;
}

export interface TokenVerifier {
  /**
   * Verify a Cognito ID token. Rejects with `TokenRejectedError` (a 401) when the token is not a
   * valid ID token of a trusted pool and client, `JwksUnavailableError` (a 500) when the keys cannot
   * be had.
   */
  verify(token: string): Promise<VerifiedIdToken>;
  /** Fetch every pool's JWKS now (init or warm-up), so the first request pays no fetch. */
  hydrate(): Promise<void>;
}

const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$/;

/** Map aws-jwt-verify's errors to our outcomes. Order matters: subclasses before their bases. */
function classify(error: unknown): Error {
  const reject = (reason: TokenRejectReason, message: string) =>
    new TokenRejectedError(reason, message, { cause: error });
  // Anything that is not a verdict on the token (a custom fetcher's network error, say) is
  // infrastructure: typed as such, and a 500, never a 401 that would hide an outage.
  if (!(error instanceof JwtBaseError)) {
    return new JwksUnavailableError('signing keys unavailable', { cause: error });
  }
  // Keys could not be had, or what was fetched is not a usable JWKS: infrastructure, fail closed.
  if (
    error instanceof FetchError ||
    error instanceof JwksNotAvailableInCacheError ||
    error instanceof JwksValidationError ||
    error instanceof JwkValidationError ||
    error instanceof JwkInvalidUseError ||
    error instanceof JwkInvalidKtyError
  ) {
    return new JwksUnavailableError(`signing keys unavailable: ${error.name}`, { cause: error });
  }
  // A kid the (reachable) JWKS does not hold: the token was not signed by a trusted key.
  if (
    error instanceof KidNotFoundInJwksError ||
    error instanceof JwtWithoutValidKidError ||
    error instanceof WaitPeriodNotYetEndedJwkError
  ) {
    return reject(TokenRejectReason.unknownKey, 'token signed by an unknown key');
  }
  if (error instanceof JwtParseError)
    return reject(TokenRejectReason.malformed, 'token is not a valid JWT');
  if (error instanceof JwtInvalidSignatureAlgorithmError) {
    return reject(TokenRejectReason.algorithm, 'token signature algorithm not accepted');
  }
  if (error instanceof JwtInvalidSignatureError)
    return reject(TokenRejectReason.signature, 'invalid token signature');
  if (error instanceof JwtExpiredError) return reject(TokenRejectReason.expired, 'token expired');
  if (error instanceof JwtNotBeforeError)
    return reject(TokenRejectReason.notYetValid, 'token not yet valid');
  if (error instanceof JwtInvalidIssuerError)
    return reject(TokenRejectReason.issuer, 'token issuer not trusted');
  if (error instanceof CognitoJwtInvalidTokenUseError) {
    return reject(TokenRejectReason.tokenUse, 'not an ID token');
  }
  if (error instanceof CognitoJwtInvalidClientIdError || error instanceof JwtInvalidAudienceError) {
    return reject(TokenRejectReason.audience, 'token audience not trusted');
  }
  // At verify time this means the token names no issuer, or one that is not configured.
  if (error instanceof ParameterValidationError)
    return reject(TokenRejectReason.issuer, 'token issuer not trusted');
  if (error instanceof JwtInvalidClaimError)
    return reject(TokenRejectReason.claims, 'token claims invalid');
  return reject(TokenRejectReason.claims, `token rejected: ${error.name}`);
}

/**
 * Build the verifier once, at init.
 * @throws AuthorizerConfigError listing every invalid option.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const issues: string[] = [];
  const cacheSize = options.cacheSize ?? 5000;
  const now = options.now ?? Date.now;
  const seen = new Set<string>();
  if (options.userPools.length === 0) issues.push('userPools must name at least one user pool');
  for (const [i, pool] of options.userPools.entries()) {
    if (!POOL_ID.test(pool.userPoolId)) {
      issues.push(
        `userPools[${i}].userPoolId must look like <region>_<id>, got "${pool.userPoolId}"`,
      );
    }
    if (seen.has(pool.userPoolId))
      issues.push(`userPools[${i}]: user pool ${pool.userPoolId} listed twice`);
    seen.add(pool.userPoolId);
    if (
      pool.clientIds.length === 0 ||
      pool.clientIds.some((c) => typeof c !== 'string' || c.trim() === '')
    ) {
      issues.push(`userPools[${i}].clientIds must be a non-empty list of app client ids`);
    }
  }
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    issues.push(`cacheSize must be a non-negative integer, got ${cacheSize}`);
  }
  if (issues.length > 0) throw new AuthorizerConfigError(issues);

  const issuerToPool = new Map<string, { userPoolId: string; providerName: string }>();
  for (const { userPoolId } of options.userPools) {
    const region = POOL_ID.exec(userPoolId)?.[1] ?? '';
    const providerName = `cognito-idp.${region}.amazonaws.com/${userPoolId}`;
    issuerToPool.set(`https://${providerName}`, { userPoolId, providerName });
    // aws-jwt-verify also trusts Cognito's global issuer form; the Logins key stays the regional one.
    issuerToPool.set(`https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`, {
      userPoolId,
      providerName,
    });
  }

  // Verified tokens by SHA-256 of the whole token. Never by signature alone: a forged payload
  // reusing a real signature must miss. SHA-256 of a ~1 KB token costs ~2 µs; collisions are not a
  // practical concern. Map insertion order gives the LRU.
  const cache = new Map<string, VerifiedIdToken>();
  const clearCache = () => cache.clear();

  const lastJwks = new Map<string, string>();
  const watch = (uri: string, jwks: unknown) => {
    const fingerprint = JSON.stringify(jwks);
    const before = lastJwks.get(uri);
    lastJwks.set(uri, fingerprint);
    if (before !== undefined && before !== fingerprint) clearCache();
  };

  let jwksCache: JwksCache;
  if (options.jwksCache) {
    const inner = options.jwksCache;
    jwksCache = {
      getJwk: (uri, decomposed) => inner.getJwk(uri, decomposed),
      getCachedJwk: (uri, decomposed) => inner.getCachedJwk(uri, decomposed),
      addJwks: (uri, jwks) => {
        watch(uri, jwks);
        inner.addJwks(uri, jwks);
      },
      getJwks: async (uri) => {
        const jwks = await inner.getJwks(uri);
        watch(uri, jwks);
        return jwks;
      },
    };
  } else {
    const fetcher = options.fetcher ?? new SimpleFetcher();
    jwksCache = new SimpleJwksCache({
      fetcher: {
        fetch: async (uri, requestOptions, data) => {
          const body = await fetcher.fetch(uri, requestOptions, data);
          watch(uri, Buffer.from(body).toString('base64'));
          return body;
        },
      },
    });
  }

  const pools = options.userPools.map((p) => ({
    userPoolId: p.userPoolId,
    tokenUse: 'id' as const,
    clientId: [...p.clientIds],
  }));
  const [first, ...rest] = pools;
  if (first === undefined)
    throw new AuthorizerConfigError(['userPools must name at least one user pool']);
  const verifier = CognitoJwtVerifier.create([first, ...rest], { jwksCache });

  const verifyUncached = async (token: string): Promise<VerifiedIdToken> => {
    let payload: Record<string, unknown>;
    try {
      payload = (await verifier.verify(token)) as unknown as Record<string, unknown>;
    } catch (error) {
      throw classify(error);
    }
    const pool = typeof payload.iss === 'string' ? issuerToPool.get(payload.iss) : undefined;
    const { sub, exp } = payload;
    if (pool === undefined)
      throw new TokenRejectedError(TokenRejectReason.issuer, 'token issuer not trusted');
    if (typeof sub !== 'string' || sub === '' || typeof exp !== 'number') {
      throw new TokenRejectedError(TokenRejectReason.claims, 'token lacks sub or exp');
    }
    return Object.freeze({
      payload: Object.freeze({ ...payload }),
      userPoolId: pool.userPoolId,
      providerName: pool.providerName,
      sub,
      exp,
    });
  };

  return {
    async verify(token: string): Promise<VerifiedIdToken> {
      if (typeof token !== 'string' || token.trim() === '') {
        throw new TokenRejectedError(TokenRejectReason.missing, 'no token');
      }
      if (cacheSize === 0) return verifyUncached(token);
      const key = createHash('sha256').update(token).digest('base64');
      const hit = cache.get(key);
      if (hit !== undefined) {
        // Expiry is re-checked on every use: a cached token is never served past its exp.
        if (hit.exp * 1000 > now()) {
          cache.delete(key);
          cache.set(key, hit);
          options.observer?.tokenCache?.(true);
          return hit;
        }
        cache.delete(key);
      }
      options.observer?.tokenCache?.(false);
      const verified = await verifyUncached(token);
      cache.set(key, verified);
      if (cache.size > cacheSize) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      return verified;
    },
    async hydrate() {
      try {
        await verifier.hydrate();
      } catch (error) {
        throw classify(error);
      }
    },
  };
}
