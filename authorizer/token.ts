/**
 * ID token verification: the only file that imports aws-jwt-verify. The production
 * `CognitoJwtVerifier` over one or several user pools, fronted by a small verified-token cache:
 * a repeated token costs a SHA-256 and a Map lookup (~1.6–1.9 µs per verify, measured with a 920-byte
 * token on a 2-core box) instead of an RS256 verify through aws-jwt-verify (~50–55 µs there).
 */
import * as nodeCrypto from 'node:crypto';
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
import { isTimeoutMs, withTimeout } from './deadline.js';
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
  /** `<region>_<id>`, e.g. `eu-west-1_AbCdEf123`. */
  readonly userPoolId: string;
  /** The app clients whose ID tokens are accepted (the token's `aud`). At least one. */
  readonly clientIds: readonly string[];
  /** Siloed mode: the tenant this pool serves. */
  readonly tenantId?: string;
}

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  /** The trusted user pools and their app clients. */
  readonly userPools: readonly UserPoolOptions[];
  /**
   * Fetches the JWKS (default: HTTPS). Tests and the local stack pass one that serves in-memory keys
   * or maps the issuer to cognito-local. Every fetched key set is compared with the last one of its
   * URI: when a pool's JWKS changes, the verified-token cache is dropped, so a rotated-out key keeps
   * no token alive. Ignored when `jwksCache` is given.
   */
  readonly fetcher?: Fetcher;
  /**
   * A JWKS cache of your own (aws-jwt-verify's interface). Key sets passed through its `addJwks` or
   * `getJwks` are compared as above; when its `getJwk` has to go past its own store (it may have
   * refetched, unseen by us), the token cache is dropped. Prefer `fetcher`, which sees every fetch.
   */
  readonly jwksCache?: JwksCache;
  /** Clock for the token cache's expiry checks. */
  readonly now?: Clock;
  /** Verified-token cache entries; 0 disables the cache. Default 5 000. */
  readonly cacheSize?: number;
  /** Told of every token-cache hit and miss (metrics). */
  readonly observer?: AuthorizerObserver;
  /**
   * A JWKS download (aws-jwt-verify's one immediate retry included) is abandoned after this long, so
   * a stalled endpoint costs a request this much rather than the function timeout. Applies to
   * `fetcher` and `jwksCache` too (the wait ends even if they ignore it). Default 1 000 ms.
   */
  readonly fetchTimeoutMs?: number;
}

/** Verifies Cognito ID tokens of the trusted pools, with a cache of verified tokens. */
export interface TokenVerifier {
  /**
   * Verify a Cognito ID token. Rejects with `TokenRejectedError` (a 401) when the token is not a
   * valid ID token of a trusted pool and client, `JwksUnavailableError` (a 500) when the keys cannot
   * be had.
   */
  verify(token: string): Promise<VerifiedIdToken>;
  /**
   * Fetch every pool's JWKS now (init or warm-up), so the first request pays no fetch. Resolves when
   * at least one key set was fetched (aws-jwt-verify's rule: a pool that failed is fetched again on
   * its first token); rejects with `JwksUnavailableError` when none was.
   */
  hydrate(): Promise<void>;
}

/** Cognito's `<region>_<id>`; the region part as aws-jwt-verify accepts it (incl. GovCloud, EUSC). */
const POOL_ID = /^((?:eusc-[a-z]{2}|[a-z]{2})-(?:gov-)?[a-z]+-\d)_[0-9A-Za-z]+$/;

const DEFAULT_CACHE_SIZE = 5000;
/** aws-jwt-verify's own default is 3 s per attempt, with one retry: up to 6 s on a stalled host. */
const DEFAULT_FETCH_TIMEOUT_MS = 1000;

/**
 * SHA-256 of the whole token as the cache key. Keying by the token itself would be exact too but
 * keeps another ~1 KB string per entry (~5 MB at the default size) against 44 bytes; a key of the
 * signature alone would let a forged payload that reuses a real signature hit. SHA-256 is collision resistant and
 * costs ~1.1 µs for a 1 KB token with the one-shot `crypto.hash` (Node ≥ 20.12; ~1.8 µs through
 * `createHash`, the fallback). A faster non-cryptographic hash would need the token compared on hit.
 */
const tokenKey: (token: string) => string =
  typeof nodeCrypto.hash === 'function'
    ? (token) => nodeCrypto.hash('sha256', token, 'base64')
    : (token) => nodeCrypto.createHash('sha256').update(token).digest('base64');

/** Map aws-jwt-verify's errors to our outcomes. Order matters: subclasses before their bases. */
function classify(error: unknown): TokenRejectedError | JwksUnavailableError {
  const reject = (reason: TokenRejectReason, message: string) =>
    new TokenRejectedError(reason, message, { cause: error });
  // Anything that is not a verdict on the token (a custom fetcher's network error, say) is
  // infrastructure: typed as such, and a 500, never a 401 that would hide an outage.
  if (!(error instanceof JwtBaseError)) {
    return new JwksUnavailableError('signing keys unavailable', { cause: error });
  }
  // Keys could not be had, or what was fetched is not a usable JWKS: infrastructure, fail closed.
  // (A JwkValidationError is a trusted key lacking its modulus or curve: the JWKS is broken.)
  if (
    error instanceof FetchError ||
    error instanceof JwksNotAvailableInCacheError ||
    error instanceof JwksValidationError ||
    error instanceof JwkValidationError
  ) {
    return new JwksUnavailableError(`signing keys unavailable: ${error.name}`, { cause: error });
  }
  // The (reachable) JWKS holds no signing key under the token's kid: not signed by a trusted key.
  // The kid is the caller's choice, so these must stay 401s: a 500 here would let anyone raise
  // alarms. WaitPeriodNotYetEnded is aws-jwt-verify's back-off after an unknown kid, not an outage.
  if (
    error instanceof KidNotFoundInJwksError ||
    error instanceof JwtWithoutValidKidError ||
    error instanceof WaitPeriodNotYetEndedJwkError ||
    error instanceof JwkInvalidUseError ||
    error instanceof JwkInvalidKtyError
  ) {
    return reject(TokenRejectReason.unknownKey, 'token signed by an unknown key');
  }
  if (error instanceof JwtParseError) {
    return reject(TokenRejectReason.malformed, 'token is not a valid JWT');
  }
  if (error instanceof JwtInvalidSignatureAlgorithmError) {
    return reject(TokenRejectReason.algorithm, 'token signature algorithm not accepted');
  }
  if (error instanceof JwtInvalidSignatureError) {
    return reject(TokenRejectReason.signature, 'invalid token signature');
  }
  if (error instanceof JwtExpiredError) return reject(TokenRejectReason.expired, 'token expired');
  if (error instanceof JwtNotBeforeError) {
    return reject(TokenRejectReason.notYetValid, 'token not yet valid');
  }
  if (error instanceof JwtInvalidIssuerError) {
    return reject(TokenRejectReason.issuer, 'token issuer not trusted');
  }
  if (error instanceof CognitoJwtInvalidTokenUseError) {
    return reject(TokenRejectReason.tokenUse, 'not an ID token');
  }
  if (error instanceof CognitoJwtInvalidClientIdError || error instanceof JwtInvalidAudienceError) {
    return reject(TokenRejectReason.audience, 'token audience not trusted');
  }
  // At verify time this means the token names no issuer, or one that is not configured.
  if (error instanceof ParameterValidationError) {
    return reject(TokenRejectReason.issuer, 'token issuer not trusted');
  }
  if (error instanceof JwtInvalidClaimError) {
    return reject(TokenRejectReason.claims, 'token claims invalid');
  }
  return reject(TokenRejectReason.claims, `token rejected: ${error.name}`);
}

/**
 * Freeze the decoded claims all the way down. The same object is handed to every request that
 * repeats the token: a caller pushing onto `cognito:groups` must not change what the next sees.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function validate(options: TokenVerifierOptions): string[] {
  const issues: string[] = [];
  const pools: readonly UserPoolOptions[] = Array.isArray(options.userPools)
    ? options.userPools
    : [];
  if (pools.length === 0) issues.push('userPools must name at least one user pool');
  const seen = new Set<string>();
  for (const [i, pool] of pools.entries()) {
    const id: unknown = pool?.userPoolId;
    if (typeof id !== 'string' || !POOL_ID.test(id)) {
      issues.push(`userPools[${i}].userPoolId must look like <region>_<id>, got "${String(id)}"`);
    } else if (seen.has(id)) {
      issues.push(`userPools[${i}]: user pool ${id} listed twice`);
    } else {
      seen.add(id);
    }
    const clients: unknown = pool?.clientIds;
    if (
      !Array.isArray(clients) ||
      clients.length === 0 ||
      clients.some((c) => typeof c !== 'string' || c.trim() === '')
    ) {
      issues.push(`userPools[${i}].clientIds must be a non-empty list of app client ids`);
    }
  }
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    issues.push(`cacheSize must be a non-negative integer, got ${cacheSize}`);
  }
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  if (!isTimeoutMs(fetchTimeoutMs)) {
    issues.push(`fetchTimeoutMs must be an integer from 1 to 60000, got ${String(fetchTimeoutMs)}`);
  }
  return issues;
}

/** aws-jwt-verify's multi-pool verifier: ID tokens only, each pool with its own app clients. */
function createCognitoVerifier(userPools: readonly UserPoolOptions[], jwksCache: JwksCache) {
  const [first, ...rest] = userPools.map((p) => ({
    userPoolId: p.userPoolId,
    tokenUse: 'id' as const,
    clientId: [...p.clientIds],
  }));
  if (first === undefined) throw new Error('no user pool');
  return CognitoJwtVerifier.create([first, ...rest], { jwksCache });
}

/**
 * Build the verifier once, at init.
 * @throws AuthorizerConfigError listing every invalid option.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const issues = validate(options);
  if (issues.length > 0) throw new AuthorizerConfigError(issues);
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const now = options.now ?? Date.now;
  const observer = options.observer;

  // The Logins key is always the regional form; aws-jwt-verify also trusts Cognito's global issuer.
  const issuerToPool = new Map<string, { userPoolId: string; providerName: string }>();
  for (const { userPoolId } of options.userPools) {
    const region = POOL_ID.exec(userPoolId)?.[1] ?? '';
    const pool = { userPoolId, providerName: `cognito-idp.${region}.amazonaws.com/${userPoolId}` };
    issuerToPool.set(`https://${pool.providerName}`, pool);
    issuerToPool.set(`https://issuer-cognito-idp.${region}.amazonaws.com/${userPoolId}`, pool);
  }

  // Verified tokens by tokenKey; Map insertion order gives the LRU. `generation` counts drops: a
  // verification that began before a drop does not store its result after it (it may have been
  // made with the key that was just rotated out).
  const cache = new Map<string, VerifiedIdToken>();
  let generation = 0;
  const dropCache = () => {
    cache.clear();
    generation++;
  };

  // Last seen key set per JWKS URI, by digest; a different one drops the token cache. A refetch we
  // cannot see (inside a custom JwksCache) gets a digest of its own, unequal to anything: it drops
  // the cache unless it is the URI's first fetch, before which no token of that pool was stored.
  const lastJwks = new Map<string, string>();
  let unseen = 0;
  const observeJwks = (uri: string, digest: string) => {
    const before = lastJwks.get(uri);
    lastJwks.set(uri, digest);
    if (before !== undefined && before !== digest) dropCache();
  };
  const watch = (uri: string, jwks: string | Uint8Array) =>
    observeJwks(uri, nodeCrypto.createHash('sha256').update(jwks).digest('base64'));

  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  let jwksCache: JwksCache;
  if (options.jwksCache) {
    const inner = options.jwksCache;
    jwksCache = {
      getJwk: async (uri, decomposed) => {
        let held = true;
        try {
          inner.getCachedJwk(uri, decomposed);
        } catch {
          held = false;
        }
        if (held) return inner.getJwk(uri, decomposed);
        let fetched = true;
        try {
          return await withTimeout('JWKS', fetchTimeoutMs, () => inner.getJwk(uri, decomposed));
        } catch (error) {
          // A back-off refusal fetched nothing: a stream of random kids must not flush the cache.
          if (error instanceof WaitPeriodNotYetEndedJwkError) fetched = false;
          throw error;
        } finally {
          if (fetched) observeJwks(uri, `unseen ${++unseen}`);
        }
      },
      getCachedJwk: (uri, decomposed) => inner.getCachedJwk(uri, decomposed),
      addJwks: (uri, jwks) => {
        watch(uri, JSON.stringify(jwks));
        inner.addJwks(uri, jwks);
      },
      getJwks: async (uri) => {
        const jwks = await withTimeout('JWKS', fetchTimeoutMs, () => inner.getJwks(uri));
        watch(uri, JSON.stringify(jwks));
        return jwks;
      },
    };
  } else {
    // aws-jwt-verify's fetch drops the socket at `responseTimeout`; the race below bounds the wait
    // for any fetcher, retry included.
    const fetcher =
      options.fetcher ??
      new SimpleFetcher({
        defaultRequestOptions: { responseTimeout: fetchTimeoutMs, timeout: fetchTimeoutMs },
      });
    jwksCache = new SimpleJwksCache({
      fetcher: {
        fetch: async (uri, requestOptions, data) => {
          const body = await withTimeout('JWKS', fetchTimeoutMs, () =>
            fetcher.fetch(uri, requestOptions, data),
          );
          watch(uri, new Uint8Array(body));
          return body;
        },
      },
    });
  }

  let verifier: ReturnType<typeof createCognitoVerifier>;
  try {
    verifier = createCognitoVerifier(options.userPools, jwksCache);
  } catch (error) {
    // Our checks mirror aws-jwt-verify's; should it still refuse, say so in the same error type.
    throw new AuthorizerConfigError(
      [`aws-jwt-verify refused userPools: ${(error as Error).message}`],
      { cause: error },
    );
  }

  const verifyUncached = async (token: string): Promise<VerifiedIdToken> => {
    let payload: Record<string, unknown>;
    try {
      payload = (await verifier.verify(token)) as unknown as Record<string, unknown>;
    } catch (error) {
      throw classify(error);
    }
    const pool = typeof payload.iss === 'string' ? issuerToPool.get(payload.iss) : undefined;
    const { sub, exp } = payload;
    if (pool === undefined) {
      throw new TokenRejectedError(TokenRejectReason.issuer, 'token issuer not trusted');
    }
    // aws-jwt-verify checks exp only when present; a token without one would never expire here.
    if (typeof sub !== 'string' || sub === '' || typeof exp !== 'number') {
      throw new TokenRejectedError(TokenRejectReason.claims, 'token lacks sub or exp');
    }
    return Object.freeze({
      payload: deepFreeze(payload),
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
      const key = tokenKey(token);
      const hit = cache.get(key);
      if (hit !== undefined) {
        // Expiry is re-checked on every use: a cached token is never served past its exp. An
        // expired entry goes back through aws-jwt-verify, which rejects it as expired.
        if (hit.exp * 1000 > now()) {
          cache.delete(key);
          cache.set(key, hit);
          observer?.tokenCache?.(true);
          return hit;
        }
        cache.delete(key);
      }
      observer?.tokenCache?.(false);
      const started = generation;
      const verified = await verifyUncached(token);
      if (started === generation) {
        cache.set(key, verified);
        if (cache.size > cacheSize) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
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
