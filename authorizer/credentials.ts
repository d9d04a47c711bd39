/**
 * Tenant-scoped AWS credentials from a Cognito identity pool (enhanced flow: GetId, then
 * GetCredentialsForIdentity), cached and single-flighted.
 *
 * This is where a cross-tenant leak would happen: the identity pool bakes the token's mapped claims
 * (tenant id, sub, …) into the session as principal tags, so a credentials entry is only ever right
 * for tokens with the very same values of every mapped claim. The cache key therefore holds the
 * provider, the sub and the value of every principal-tag claim, encoded without ambiguity.
 *
 * Two caches, because the quotas differ: GetId is 25 requests/s per account by default,
 * GetCredentialsForIdentity 200/s. The IdentityId of a user never changes, so it is cached apart,
 * unbounded in time (LRU-bounded in count), and a credentials refresh costs only the cheaper call.
 */

import {
  type CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import { AuthorizerConfigError, CredentialsUnavailableError } from './errors.js';
import type { AuthorizerObserver, AwsCredentials, Clock, VerifiedIdToken } from './types.js';

export interface CredentialsProviderOptions {
  /**
   * The Cognito Identity client. Build it with `maxAttempts: 1`: the provider retries with full
   * jitter itself, and SDK retries underneath would multiply the attempts (3 × 3 = 9 calls against
   * a 25/s GetId quota) and the latency.
   */
  readonly client: CognitoIdentityClient;
  /** `<region>:<uuid>`, e.g. `eu-west-1:1c0f4d2e-…`. */
  readonly identityPoolId: string;
  /** Optional `AccountId` for GetId. */
  readonly accountId?: string;
  /**
   * Claims the identity pool maps to principal tags; the credentials cache keys on every one of
   * them. Default `['custom:tenant_id', 'sub']`; must include `sub`.
   */
  readonly principalTagClaims?: readonly string[];
  /**
   * A credentials entry is served only while it has at least this long left; fresh credentials
   * with less are refused. Must be > 0 and < 3600 (Cognito hands out one-hour credentials).
   */
  readonly refreshMarginSeconds: number;
  /** Credentials LRU bound. Default 5 000. */
  readonly maxEntries?: number;
  /** IdentityId LRU bound. Default 50 000 (an entry is ~150 bytes: ~7.5 MB at most). */
  readonly identityIdMaxEntries?: number;
  /** Attempts per Cognito call, retries included. Default 3. */
  readonly maxAttempts?: number;
  /** Full-jitter backoff base: retry `n` (0-based) waits `random() * base * 2^n` ms. Default 50. */
  readonly baseDelayMs?: number;
  readonly now?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly observer?: AuthorizerObserver;
}

/** Credentials for one caller in one tenant. `cached` is true when served from the LRU. */
export interface TenantCredentials {
  readonly identityId: string;
  readonly credentials: AwsCredentials;
  readonly cached: boolean;
}

/**
 * Hands out tenant-scoped credentials for a verified ID token (Cognito Identity GetId and
 * GetCredentialsForIdentity, cached). `AuthorizerOptions.credentials` accepts one of your own.
 */
export interface CredentialsProvider {
  /**
   * Credentials scoped to the token's principal tags, with at least the refresh margin left.
   * @param token the raw ID token; it goes into `Logins` and nowhere else (never logged).
   * @param verified its verified claims.
   * @throws CredentialsUnavailableError when Cognito does not hand out usable credentials (→ 500).
   */
  get(token: string, verified: VerifiedIdToken): Promise<TenantCredentials>;
}

export const DEFAULT_PRINCIPAL_TAG_CLAIMS = Object.freeze(['custom:tenant_id', 'sub'] as const);

/** Credentials from GetCredentialsForIdentity (enhanced flow) last one hour. */
const COGNITO_CREDENTIALS_LIFETIME_SECONDS = 3600;

const IDENTITY_POOL_ID =
  /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;
const ACCOUNT_ID = /^\d{12}$/;

type Operation = 'GetId' | 'GetCredentialsForIdentity';

// Error names worth another attempt. Throttling first: the quotas above are per account and shared
// by every concurrent Lambda instance, so a burst of cold misses is the expected way to hit them.
const THROTTLING = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
]);
const TRANSIENT = new Set([
  'InternalErrorException',
  // A dependent identity provider did not answer in time: transient by definition.
  'ExternalServiceException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

type ErrorClass = 'throttled' | 'transient' | 'fatal';

interface ErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: { throttling?: unknown } | undefined;
  readonly $metadata?: { httpStatusCode?: unknown } | undefined;
}

/** Exported for tests. */
export function classifyCognitoError(error: unknown): ErrorClass {
  if (typeof error !== 'object' || error === null) return 'fatal';
  const e = error as ErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING.has(name) || status === 429 || e.$retryable?.throttling === true) {
    return 'throttled';
  }
  if (TRANSIENT.has(name) || (typeof e.code === 'string' && NETWORK_CODES.has(e.code))) {
    return 'transient';
  }
  if (typeof status === 'number' && status >= 500 && status <= 599) return 'transient';
  // A server fault with no status is a response that never fully arrived.
  if (e.$fault === 'server' && status === undefined) return 'transient';
  return 'fatal';
}

const nonEmpty = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

const errorName = (error: unknown): string =>
  error instanceof Error
    ? error.name
    : typeof error === 'object'
      ? 'non-Error object'
      : typeof error;

/** A bounded LRU over a `Map` (insertion order = recency). Exported for tests. */
export interface LruCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  readonly size: number;
}

/** `maxEntries` must be a positive integer; the factory that calls this has validated it. */
export function createLruCache<V>(maxEntries: number): LruCache<V> {
  const map = new Map<string, V>();
  return {
    get(key) {
      const value = map.get(key);
      if (value === undefined) return undefined;
      map.delete(key);
      map.set(key, value);
      return value;
    },
    set(key, value) {
      map.delete(key);
      map.set(key, value);
      while (map.size > maxEntries) {
        const oldest = map.keys().next();
        if (oldest.done) break;
        map.delete(oldest.value);
      }
    },
    delete(key) {
      map.delete(key);
    },
    get size() {
      return map.size;
    },
  };
}

/**
 * Concurrent callers for one key share one promise; it leaves the map once settled, so a failure is
 * never cached and the next caller starts afresh.
 */
function singleFlight<T>(
  flights: Map<string, Promise<T>>,
  key: string,
  start: () => Promise<T>,
): Promise<T> {
  const pending = flights.get(key);
  if (pending) return pending;
  const flight: Promise<T> = start().finally(() => {
    if (flights.get(key) === flight) flights.delete(key);
  });
  flights.set(key, flight);
  return flight;
}

interface CachedCredentials {
  readonly identityId: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Kept as a number: a `Date` handed out is mutable, and must not be able to alter the cache. */
  readonly expirationMs: number;
}

/**
 * Build the provider once, at init. Validates every option (all problems in one
 * `AuthorizerConfigError`); `get` does no validation of options.
 */
export function createCredentialsProvider(
  options: CredentialsProviderOptions,
): CredentialsProvider {
  const claims = options.principalTagClaims ?? DEFAULT_PRINCIPAL_TAG_CLAIMS;
  const margin = options.refreshMarginSeconds;
  const maxEntries = options.maxEntries ?? 5_000;
  const idMaxEntries = options.identityIdMaxEntries ?? 50_000;
  const maxAttempts = options.maxAttempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 50;

  const issues: string[] = [];
  if (typeof options.client?.send !== 'function') {
    issues.push('client must be a CognitoIdentityClient');
  }
  if (
    typeof options.identityPoolId !== 'string' ||
    !IDENTITY_POOL_ID.test(options.identityPoolId)
  ) {
    issues.push(
      `identityPoolId must be "<region>:<uuid>", got "${String(options.identityPoolId)}"`,
    );
  }
  if (options.accountId !== undefined && !ACCOUNT_ID.test(String(options.accountId))) {
    issues.push(`accountId must be 12 digits, got "${String(options.accountId)}"`);
  }
  if (!Array.isArray(claims) || claims.length === 0) {
    issues.push('principalTagClaims must be a non-empty array of claim names');
  } else {
    if (!claims.includes('sub')) {
      issues.push('principalTagClaims must include "sub" (credentials are per user)');
    }
    const seen = new Set<string>();
    for (const claim of claims) {
      if (typeof claim !== 'string' || claim.length === 0) {
        issues.push(`principalTagClaims entries must be non-empty strings, got ${String(claim)}`);
      } else if (seen.has(claim)) {
        issues.push(`principalTagClaims has "${claim}" twice`);
      } else seen.add(claim);
    }
  }
  // Below 3600: credentials arrive with one hour left, so a larger margin could never be served.
  if (
    typeof margin !== 'number' ||
    !Number.isFinite(margin) ||
    margin <= 0 ||
    margin >= COGNITO_CREDENTIALS_LIFETIME_SECONDS
  ) {
    issues.push(
      `refreshMarginSeconds must be > 0 and < ${COGNITO_CREDENTIALS_LIFETIME_SECONDS} (Cognito credentials last one hour), got ${String(margin)}`,
    );
  }
  const positiveInt = (name: string, value: unknown) => {
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      issues.push(`${name} must be a positive integer, got ${String(value)}`);
    }
  };
  positiveInt('maxEntries', maxEntries);
  positiveInt('identityIdMaxEntries', idMaxEntries);
  positiveInt('maxAttempts', maxAttempts);
  if (typeof baseDelayMs !== 'number' || !Number.isFinite(baseDelayMs) || baseDelayMs < 0) {
    issues.push(`baseDelayMs must be a finite number >= 0, got ${String(baseDelayMs)}`);
  }
  if (issues.length > 0) throw new AuthorizerConfigError(issues);

  const client = options.client;
  const identityPoolId = options.identityPoolId;
  const accountId = options.accountId;
  const tagClaims: readonly string[] = Object.freeze([...claims]);
  const marginMs = margin * 1000;
  const now = options.now ?? Date.now;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const observer = options.observer;

  const credentialsCache = createLruCache<CachedCredentials>(maxEntries);
  const identityIds = createLruCache<string>(idMaxEntries);
  const credentialsFlights = new Map<string, Promise<CachedCredentials>>();
  const identityFlights = new Map<string, Promise<string>>();

  // JSON of an array: no delimiter to inject, and every string is quoted, so `a","b` cannot pose
  // as two values. A missing claim is `[0]`, a present one `[1, value]`: missing, null and "" differ.
  const identityKey = (v: VerifiedIdToken) => JSON.stringify([v.providerName, v.sub]);
  const credentialsKey = (v: VerifiedIdToken) =>
    JSON.stringify([
      v.providerName,
      v.sub,
      tagClaims.map((claim) => (Object.hasOwn(v.payload, claim) ? [1, v.payload[claim]] : [0])),
    ]);

  const unavailable = (operation: Operation, message: string, cause?: unknown) =>
    new CredentialsUnavailableError(
      operation,
      message,
      cause === undefined ? undefined : { cause },
    );

  /** One Cognito call with bounded, fully jittered retries on throttling and transient faults. */
  const call = async <T>(operation: Operation, send: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const started = now();
      try {
        const result = await send();
        observer?.cognitoCall?.(operation, now() - started, 'ok');
        return result;
      } catch (error) {
        const kind = classifyCognitoError(error);
        observer?.cognitoCall?.(operation, now() - started, kind === 'throttled' ? kind : 'error');
        if (kind === 'fatal') {
          throw unavailable(operation, `${operation} failed: ${errorName(error)}`, error);
        }
        if (attempt + 1 >= maxAttempts) {
          throw unavailable(
            operation,
            `${operation} failed after ${maxAttempts} attempts: ${errorName(error)}`,
            error,
          );
        }
        // Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): spreads the retries
        // of many Lambda instances throttled at the same moment instead of re-synchronising them.
        await sleep(random() * baseDelayMs * 2 ** attempt);
      }
    }
  };

  const getId = async (logins: Record<string, string>): Promise<string> => {
    const response = await call('GetId', () =>
      client.send(
        new GetIdCommand({
          IdentityPoolId: identityPoolId,
          Logins: logins,
          ...(accountId === undefined ? {} : { AccountId: accountId }),
        }),
      ),
    );
    const identityId = response.IdentityId;
    if (typeof identityId !== 'string' || identityId.length === 0) {
      throw unavailable('GetId', 'GetId response has no IdentityId');
    }
    return identityId;
  };

  /** IdentityId from Cognito, single-flighted per user and cached. */
  const resolveIdentityId = (key: string, logins: Record<string, string>): Promise<string> =>
    singleFlight(identityFlights, key, async () => {
      const identityId = await getId(logins);
      identityIds.set(key, identityId);
      return identityId;
    });

  const getCredentials = async (
    identityId: string,
    logins: Record<string, string>,
  ): Promise<CachedCredentials> => {
    const response = await call('GetCredentialsForIdentity', () =>
      client.send(new GetCredentialsForIdentityCommand({ IdentityId: identityId, Logins: logins })),
    );
    const c = response.Credentials;
    const accessKeyId = nonEmpty(c?.AccessKeyId);
    const secretAccessKey = nonEmpty(c?.SecretKey);
    const sessionToken = nonEmpty(c?.SessionToken);
    const expirationMs = c?.Expiration instanceof Date ? c.Expiration.getTime() : Number.NaN;
    if (!accessKeyId || !secretAccessKey || !sessionToken || Number.isNaN(expirationMs)) {
      // Names only: the values present are secrets.
      const missing = [
        accessKeyId ? '' : 'AccessKeyId',
        secretAccessKey ? '' : 'SecretKey',
        sessionToken ? '' : 'SessionToken',
        Number.isNaN(expirationMs) ? 'Expiration' : '',
      ].filter(Boolean);
      throw unavailable(
        'GetCredentialsForIdentity',
        `GetCredentialsForIdentity response lacks ${missing.join(', ')}`,
      );
    }
    if (response.IdentityId !== undefined && response.IdentityId !== identityId) {
      throw unavailable(
        'GetCredentialsForIdentity',
        'GetCredentialsForIdentity answered for another IdentityId',
      );
    }
    return Object.freeze({ identityId, accessKeyId, secretAccessKey, sessionToken, expirationMs });
  };

  const isUnknownIdentity = (error: unknown) =>
    error instanceof CredentialsUnavailableError &&
    error.cause instanceof Error &&
    error.cause.name === 'ResourceNotFoundException';

  /** A cache miss: IdentityId (cached or GetId), then GetCredentialsForIdentity. */
  const fetchCredentials = async (
    token: string,
    verified: VerifiedIdToken,
  ): Promise<CachedCredentials> => {
    const logins = { [verified.providerName]: token };
    const idKey = identityKey(verified);
    const cachedId = identityIds.get(idKey);
    observer?.identityIdCache?.(cachedId !== undefined);
    if (cachedId === undefined) {
      return getCredentials(await resolveIdentityId(idKey, logins), logins);
    }
    try {
      return await getCredentials(cachedId, logins);
    } catch (error) {
      if (!isUnknownIdentity(error)) throw error;
      // The identity was deleted from the pool (or the pool recreated): the cached id is stale.
      // Forget it and ask GetId once; a second ResourceNotFound is final.
      if (identityIds.get(idKey) === cachedId) identityIds.delete(idKey);
      return getCredentials(await resolveIdentityId(idKey, logins), logins);
    }
  };

  const serve = (entry: CachedCredentials, cached: boolean): TenantCredentials =>
    Object.freeze({
      identityId: entry.identityId,
      credentials: Object.freeze({
        accessKeyId: entry.accessKeyId,
        secretAccessKey: entry.secretAccessKey,
        sessionToken: entry.sessionToken,
        expiration: new Date(entry.expirationMs),
      }),
      cached,
    });

  const hasMargin = (entry: CachedCredentials) => entry.expirationMs - now() >= marginMs;

  return {
    async get(token, verified) {
      // Per-request input checks (not options): fail closed rather than key on garbage.
      if (typeof token !== 'string' || token.length === 0) {
        throw unavailable('GetId', 'no token to exchange for credentials');
      }
      if (
        typeof verified.providerName !== 'string' ||
        verified.providerName.length === 0 ||
        typeof verified.sub !== 'string' ||
        verified.sub.length === 0 ||
        verified.payload.sub !== verified.sub
      ) {
        throw unavailable('GetId', 'verified token has no consistent provider name and sub');
      }

      const key = credentialsKey(verified);
      const hit = credentialsCache.get(key);
      if (hit !== undefined) {
        if (hasMargin(hit)) {
          observer?.credentialsCache?.(true);
          return serve(hit, true);
        }
        credentialsCache.delete(key);
      }
      observer?.credentialsCache?.(false);

      const entry = await singleFlight(credentialsFlights, key, async () => {
        const fresh = await fetchCredentials(token, verified);
        // Fresh credentials already inside the margin (clock skew, or a Cognito change) would be
        // served past their usefulness: refuse them, and cache nothing.
        if (!hasMargin(fresh)) {
          throw unavailable(
            'GetCredentialsForIdentity',
            `fresh credentials expire within the ${margin}s refresh margin`,
          );
        }
        credentialsCache.set(key, fresh);
        return fresh;
      });
      // Re-checked per caller: a joiner must not get what the leader would no longer be served.
      if (!hasMargin(entry)) {
        throw unavailable(
          'GetCredentialsForIdentity',
          `credentials expire within the ${margin}s refresh margin`,
        );
      }
      return serve(entry, false);
    },
  };
}
