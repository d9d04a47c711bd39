/**
 * Tenant-scoped AWS credentials from a Cognito identity pool with developer-authenticated identities,
 * minted only here, server-side, after the token and tenant checks (beside the membership check, whose
 * pass alone lets them into a response):
 *   1. GetOpenIdTokenForDeveloperIdentity (IAM-signed with the authorizer's own role) registers the user
 *      under the pool's developer provider and names the principal tags itself: `tenant_id` = the
 *      checked tenant, `user_id` = the user. No user-supplied value reaches a tag;
 *   2. GetCredentialsForIdentity with that OpenID token (`cognito-identity.amazonaws.com` login).
 * The pool trusts no user-pool provider, so a user's own ID token gets nothing from the public
 * Cognito Identity APIs: these credentials exist only in the authorizer context.
 *
 * This is where a cross-tenant leak would happen: the tags bake the tenant into the session, so a
 * cache entry is only ever right for the very same (provider, user, tenant). Keys hold all three,
 * encoded without ambiguity.
 *
 * Two caches, because the calls and quotas differ (per account: GetOpenIdTokenForDeveloperIdentity
 * 50/s, GetCredentialsForIdentity 200/s): the OpenID token is kept for its lifetime (`openIdTokenSeconds`,
 * in memory only), so a credentials refresh costs one GetCredentialsForIdentity instead of two calls.
 */

import {
  type CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  type GetCredentialsForIdentityCommandOutput,
  GetOpenIdTokenForDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import { isTimeoutMs, withTimeout } from './deadline.js';
import { AuthorizerConfigError, CredentialsUnavailableError } from './errors.js';
import type { AuthorizerObserver, AwsCredentials, Clock } from './types.js';

export interface CredentialsProviderOptions {
  /**
   * The Cognito Identity client, signed with the authorizer's own role (it must be allowed
   * `cognito-identity:GetOpenIdTokenForDeveloperIdentity` on this pool). Build it with `maxAttempts: 1`:
   * the provider retries with full jitter itself, and SDK retries underneath would multiply the attempts.
   */
  readonly client: CognitoIdentityClient;
  /** `<region>:<uuid>`, e.g. `eu-west-1:1c0f4d2e-…`. */
  readonly identityPoolId: string;
  /** The pool's `DeveloperProviderName` (1–128 of `[\w._-]`). */
  readonly developerProviderName: string;
  /** Principal tag names for the tenant and the user. Default `tenant_id`, `user_id`. */
  readonly tenantTag?: string;
  readonly userTag?: string;
  /**
   * `TokenDuration` of the OpenID token, kept in memory only and reused until shortly before it
   * expires. 900–86 400; default 3600.
   */
  readonly openIdTokenSeconds?: number;
  /**
   * A credentials entry is served only while it has at least this long left; fresh credentials
   * with less are refused. Must be > 0 and < 3600 (Cognito hands out one-hour credentials).
   */
  readonly refreshMarginSeconds: number;
  /** Credentials LRU bound, and the OpenID token LRU's. Default 5 000. */
  readonly maxEntries?: number;
  /** Attempts per Cognito call, retries included. Default 3. */
  readonly maxAttempts?: number;
  /** Full-jitter backoff base: retry `n` (0-based) waits `random() * base * 2^n` ms. Default 50. */
  readonly baseDelayMs?: number;
  /**
   * Each attempt of each Cognito call is abandoned after this long (its abort signal fires, and the
   * wait ends even if the client ignores the signal). Default 1 000 ms: Cognito Identity answers in
   * tens of milliseconds in-region.
   */
  readonly timeoutMs?: number;
  /**
   * The whole exchange for one caller — OpenID token and credentials, retries included — ends within
   * this long: a retry, or the second call, gets only what is left, and none starts when nothing is.
   * Default twice `timeoutMs` (two sequential calls), so a stalled Cognito Identity costs a request
   * about 2 s, never the function timeout.
   */
  readonly budgetMs?: number;
  /**
   * Where OpenID tokens are shared across environments (see {@link SharedOpenIdTokens}); consulted
   * on an in-memory miss before minting, within the budget. Default: none (memory only).
   */
  readonly sharedOpenIdTokens?: SharedOpenIdTokens;
  readonly now?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly observer?: AuthorizerObserver;
}

/** An OpenID token as a {@link SharedOpenIdTokens} store keeps it. A bearer secret: never log it. */
export interface SharedOpenIdToken {
  /** The Cognito identity the token is for. */
  readonly identityId: string;
  /** The OpenID token from GetOpenIdTokenForDeveloperIdentity. */
  readonly token: string;
  /** When it stops being accepted, ms since the epoch (counted from before the mint). */
  readonly expiresAtMs: number;
}

/**
 * The runtime's `AbortSignal` where the consumer's types declare one (DOM or @types/node), otherwise
 * the part a store can rely on. Our published declarations must type-check without either
 * (test/package/consumer.test.ts): a bare `AbortSignal` there is "Cannot find name".
 */
export type DependencySignal = typeof globalThis extends { AbortSignal: { prototype: infer S } }
  ? S
  : { readonly aborted: boolean };

/**
 * OpenID tokens shared by all environments of the authorizer. Without one, each warm environment
 * mints its own token per (user, tenant): at internet scale API Gateway spreads a user's few
 * authorizer calls over as many environments, nearly every call is a new environment, and
 * GetOpenIdTokenForDeveloperIdentity (50/s per account by default) is the first quota hit
 * (bench/internet-scale.ts). With one, a token minted anywhere serves every environment for its
 * lifetime. The store holds bearer secrets: it must be readable and writable by the authorizer alone
 * (sam/openid-token-store.ts keeps them in `AUTHZ#` items only the authorizer's role may touch).
 * A lookup that fails, stalls or finds nothing usable is a miss: the provider mints.
 */
export interface SharedOpenIdTokens {
  /**
   * The token stored for `key`, or undefined. `key` is the provider's unambiguous cache key; `signal`
   * aborts when the provider's time limit for the lookup passes.
   */
  get(key: string, signal: DependencySignal): Promise<SharedOpenIdToken | undefined>;
  /** Store a freshly minted token for `key` (done in the background; a failure is ignored). */
  put(key: string, token: SharedOpenIdToken): Promise<void>;
}

/** Whom credentials are for: a user of a user pool, checked as a member of a tenant. */
export interface CredentialsPrincipal {
  /** `cognito-idp.<region>.amazonaws.com/<userPoolId>`: users of two pools never share an identity. */
  readonly providerName: string;
  /** The user's `sub`. */
  readonly userId: string;
  /** The active tenant, after the tenant and membership checks. */
  readonly tenantId: string;
}

/** Credentials for one caller in one tenant. `cached` is true when served from the LRU. */
export interface TenantCredentials {
  readonly identityId: string;
  readonly credentials: AwsCredentials;
  readonly cached: boolean;
}

/**
 * Hands out tenant-scoped credentials for a verified ID token (Cognito Identity
 * GetOpenIdTokenForDeveloperIdentity and GetCredentialsForIdentity, cached). `AuthorizerOptions.credentials`
 * accepts one of your own.
 */
export interface CredentialsProvider {
  /**
   * Credentials tagged with the principal's tenant and user, with at least the refresh margin left.
   * It mints whatever it is asked for: call it only after the token and tenant checks, and let its
   * result reach a response only after the membership check passed (the authorizer starts it beside
   * that check and drops it on a Deny or a failed check).
   * @throws CredentialsUnavailableError when Cognito does not hand out usable credentials (→ 500).
   */
  get(principal: CredentialsPrincipal): Promise<TenantCredentials>;
}

/** Credentials from GetCredentialsForIdentity (enhanced flow) last one hour. */
const COGNITO_CREDENTIALS_LIFETIME_SECONDS = 3600;
/** An OpenID token is reused only while it has at least this long left (clock skew, the call itself). */
const OPENID_TOKEN_MARGIN_MS = 5 * 60_000;
/** Per-attempt time limit of a Cognito call by default. */
const DEFAULT_TIMEOUT_MS = 1000;
/** The login key of an OpenID token from the pool itself (enhanced flow). */
const COGNITO_IDENTITY_LOGIN = 'cognito-identity.amazonaws.com';

const IDENTITY_POOL_ID =
  /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;
const DEVELOPER_PROVIDER = /^[\w._-]{1,128}$/;
// Session tag keys: letters, digits, spaces and _ . : / = + - @, at most 128, never `aws:`.
const TAG_KEY = /^(?!aws:)[\p{L}\p{N} _.:/=+\-@]{1,128}$/u;

type Operation = 'GetOpenIdTokenForDeveloperIdentity' | 'GetCredentialsForIdentity';

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
  // Our own per-attempt limit (deadline.ts), and the SDK's answer to the abort signal it fires.
  'DependencyTimeoutError',
  'AbortError',
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
 * An OpenID token for one (user, tenant): never logged, never handed out; in memory only, unless a
 * {@link SharedOpenIdTokens} store is configured.
 */
interface OpenIdToken {
  readonly identityId: string;
  readonly token: string;
  readonly expiresAtMs: number;
}

/** Every option problem, in the order of the options. */
function optionIssues(options: CredentialsProviderOptions): string[] {
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
  if (
    typeof options.developerProviderName !== 'string' ||
    !DEVELOPER_PROVIDER.test(options.developerProviderName)
  ) {
    issues.push(
      `developerProviderName must be 1 to 128 of [A-Za-z0-9_.-], got "${String(options.developerProviderName)}"`,
    );
  }
  const tenantTag = options.tenantTag ?? 'tenant_id';
  const userTag = options.userTag ?? 'user_id';
  for (const [name, tag] of [
    ['tenantTag', tenantTag],
    ['userTag', userTag],
  ] as const) {
    if (typeof tag !== 'string' || !TAG_KEY.test(tag))
      issues.push(
        `${name} must be a session tag key (1 to 128 characters, not aws:…), got "${tag}"`,
      );
  }
  if (tenantTag === userTag) issues.push('tenantTag and userTag must differ');
  const tokenSeconds = options.openIdTokenSeconds ?? 3600;
  if (!Number.isSafeInteger(tokenSeconds) || tokenSeconds < 900 || tokenSeconds > 86_400) {
    issues.push(`openIdTokenSeconds must be an integer from 900 to 86400, got ${tokenSeconds}`);
  }
  const margin = options.refreshMarginSeconds;
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
  for (const [name, value] of [
    ['maxEntries', options.maxEntries ?? 5_000],
    ['maxAttempts', options.maxAttempts ?? 3],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1)
      issues.push(`${name} must be a positive integer, got ${String(value)}`);
  }
  const baseDelayMs = options.baseDelayMs ?? 50;
  if (typeof baseDelayMs !== 'number' || !Number.isFinite(baseDelayMs) || baseDelayMs < 0) {
    issues.push(`baseDelayMs must be a finite number >= 0, got ${String(baseDelayMs)}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!isTimeoutMs(timeoutMs))
    issues.push(`timeoutMs must be an integer from 1 to 60000, got ${String(timeoutMs)}`);
  const budgetMs =
    options.budgetMs ?? 2 * (isTimeoutMs(timeoutMs) ? timeoutMs : DEFAULT_TIMEOUT_MS);
  if (!isTimeoutMs(budgetMs))
    issues.push(`budgetMs must be an integer from 1 to 60000, got ${String(budgetMs)}`);
  return issues;
}

/** Per-request input checks (not options): fail closed rather than key on, or tag with, garbage. */
const principalProblem = (p: CredentialsPrincipal): string | undefined => {
  for (const [name, value] of Object.entries({
    providerName: p?.providerName,
    userId: p?.userId,
    tenantId: p?.tenantId,
  })) {
    // Session tag values: at most 256 characters, never empty.
    if (typeof value !== 'string' || value.length === 0 || value.length > 256)
      return `principal has no usable ${name}`;
  }
  return undefined;
};

const unavailable = (operation: Operation, message: string, cause?: unknown) =>
  new CredentialsUnavailableError(operation, message, cause === undefined ? undefined : { cause });

/** The credentials of a GetCredentialsForIdentity response, or why they are unusable. */
function readCredentials(
  identityId: string,
  response: GetCredentialsForIdentityCommandOutput,
): CachedCredentials {
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
}

/** A cached OpenID token Cognito no longer takes (expired early, identity deleted): get a new one. */
const isStaleOpenIdToken = (error: unknown) =>
  error instanceof CredentialsUnavailableError &&
  error.cause instanceof Error &&
  (error.cause.name === 'NotAuthorizedException' ||
    error.cause.name === 'ResourceNotFoundException');

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

/**
 * Build the provider once, at init. Validates every option (all problems in one
 * `AuthorizerConfigError`); `get` does no validation of options.
 */
export function createCredentialsProvider(
  options: CredentialsProviderOptions,
): CredentialsProvider {
  const issues = optionIssues(options);
  if (issues.length > 0) throw new AuthorizerConfigError(issues);

  const { client, identityPoolId, developerProviderName } = options;
  const tenantTag = options.tenantTag ?? 'tenant_id';
  const userTag = options.userTag ?? 'user_id';
  const tokenSeconds = options.openIdTokenSeconds ?? 3600;
  const margin = options.refreshMarginSeconds;
  const marginMs = margin * 1000;
  const maxEntries = options.maxEntries ?? 5_000;
  const maxAttempts = options.maxAttempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 50;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const budgetMs = options.budgetMs ?? 2 * timeoutMs;
  const now = options.now ?? Date.now;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const observer = options.observer;

  const shared = options.sharedOpenIdTokens;
  const credentialsCache = createLruCache<CachedCredentials>(maxEntries);
  const openIdTokens = createLruCache<OpenIdToken>(maxEntries);
  const credentialsFlights = new Map<string, Promise<CachedCredentials>>();
  const tokenFlights = new Map<string, Promise<OpenIdToken>>();

  /**
   * One Cognito call with bounded, fully jittered retries on throttling and transient faults (a timed
   * out attempt included), all before `deadline`: each attempt is limited to `timeoutMs` or what is
   * left, whichever is less.
   */
  const call = async <T>(
    operation: Operation,
    deadline: number,
    send: (abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const left = deadline - now();
      if (left <= 0) {
        throw unavailable(
          operation,
          `${operation} not attempted: the ${budgetMs} ms budget is spent`,
        );
      }
      const started = now();
      try {
        const result = await withTimeout(operation, Math.min(timeoutMs, left), send);
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
        const delay = random() * baseDelayMs * 2 ** attempt;
        if (now() + delay >= deadline) {
          throw unavailable(
            operation,
            `${operation} failed within the ${budgetMs} ms budget: ${errorName(error)}`,
            error,
          );
        }
        await sleep(delay);
      }
    }
  };

  /** GetOpenIdTokenForDeveloperIdentity: the identity, and a token whose tags we chose. */
  const mintOpenIdToken = async (
    p: CredentialsPrincipal,
    deadline: number,
  ): Promise<OpenIdToken> => {
    const started = now();
    const response = await call('GetOpenIdTokenForDeveloperIdentity', deadline, (abortSignal) =>
      client.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: identityPoolId,
          // One developer identity per user of a user pool: the provider name keeps two pools apart.
          Logins: { [developerProviderName]: `${p.providerName}:${p.userId}` },
          PrincipalTags: { [tenantTag]: p.tenantId, [userTag]: p.userId },
          TokenDuration: tokenSeconds,
        }),
        { abortSignal },
      ),
    );
    const identityId = nonEmpty(response.IdentityId);
    const token = nonEmpty(response.Token);
    if (!identityId || !token) {
      throw unavailable(
        'GetOpenIdTokenForDeveloperIdentity',
        `GetOpenIdTokenForDeveloperIdentity response lacks ${identityId ? 'Token' : 'IdentityId'}`,
      );
    }
    // Counted from before the call: never believed to live longer than it does.
    return Object.freeze({ identityId, token, expiresAtMs: started + tokenSeconds * 1000 });
  };

  /**
   * The shared store's token for `key` when it is usable (complete, with the margin left, and never
   * believed to outlive a token minted now); undefined on a miss, a failure or a stall.
   */
  const fromShared = async (key: string, deadline: number): Promise<OpenIdToken | undefined> => {
    const left = deadline - now();
    if (shared === undefined || left <= 0) return undefined;
    let found: SharedOpenIdToken | undefined;
    try {
      found = await withTimeout('OpenID token store', Math.min(timeoutMs, left), (signal) =>
        shared.get(key, signal),
      );
    } catch {
      found = undefined;
    }
    const identityId = nonEmpty(found?.identityId);
    const token = nonEmpty(found?.token);
    const expiresAtMs = Math.min(
      typeof found?.expiresAtMs === 'number' ? found.expiresAtMs : Number.NaN,
      now() + tokenSeconds * 1000,
    );
    const usable =
      identityId !== undefined &&
      token !== undefined &&
      expiresAtMs - now() >= OPENID_TOKEN_MARGIN_MS;
    observer?.sharedOpenIdToken?.(usable);
    return usable ? Object.freeze({ identityId, token, expiresAtMs }) : undefined;
  };

  /**
   * The (user, tenant)'s OpenID token: from memory while it has the margin left, else from the shared
   * store (when there is one), else minted once (and shared). `fresh` skips both caches: the kept
   * token was just refused by Cognito.
   */
  const openIdToken = (
    key: string,
    p: CredentialsPrincipal,
    deadline: number,
    fresh = false,
  ): Promise<OpenIdToken> => {
    const cached = fresh ? undefined : openIdTokens.get(key);
    const usable = cached !== undefined && cached.expiresAtMs - now() >= OPENID_TOKEN_MARGIN_MS;
    observer?.openIdTokenCache?.(usable);
    if (usable) return Promise.resolve(cached);
    return singleFlight(tokenFlights, key, async () => {
      const kept = fresh ? undefined : await fromShared(key, deadline);
      if (kept !== undefined) {
        openIdTokens.set(key, kept);
        return kept;
      }
      const minted = await mintOpenIdToken(p, deadline);
      openIdTokens.set(key, minted);
      shared?.put(key, minted).catch(() => {});
      return minted;
    });
  };

  const getCredentials = async (
    openId: OpenIdToken,
    deadline: number,
  ): Promise<CachedCredentials> =>
    readCredentials(
      openId.identityId,
      await call('GetCredentialsForIdentity', deadline, (abortSignal) =>
        client.send(
          new GetCredentialsForIdentityCommand({
            IdentityId: openId.identityId,
            Logins: { [COGNITO_IDENTITY_LOGIN]: openId.token },
          }),
          { abortSignal },
        ),
      ),
    );

  /** A credentials miss: the OpenID token (cached or minted), then GetCredentialsForIdentity. */
  const fetchCredentials = async (
    key: string,
    p: CredentialsPrincipal,
  ): Promise<CachedCredentials> => {
    const deadline = now() + budgetMs;
    const openId = await openIdToken(key, p, deadline);
    try {
      return await getCredentials(openId, deadline);
    } catch (error) {
      if (!isStaleOpenIdToken(error)) throw error;
      // Cognito refused the token we kept (revoked, identity deleted, pool recreated): forget it and
      // mint one fresh token; a second refusal is final.
      if (openIdTokens.get(key) === openId) openIdTokens.delete(key);
      return getCredentials(await openIdToken(key, p, deadline, true), deadline);
    }
  };

  const hasMargin = (entry: CachedCredentials) => entry.expirationMs - now() >= marginMs;

  return {
    async get(principal) {
      const problem = principalProblem(principal);
      if (problem !== undefined) throw unavailable('GetOpenIdTokenForDeveloperIdentity', problem);
      // JSON of an array: no delimiter to inject, every string quoted, so `a","b` cannot pose as two.
      const key = JSON.stringify([principal.providerName, principal.userId, principal.tenantId]);
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
        const fresh = await fetchCredentials(key, principal);
        // Fresh credentials already inside the margin (clock skew, or a Cognito change) would be
        // served past their usefulness: refuse them, and cache nothing. Every caller sharing this
        // flight is answered in the same turn of microtasks, so this check is theirs too: a second
        // check per caller after the await could only differ if the clock moved within that turn,
        // and was removed as redundant (issue 17: no test could tell it from this one).
        if (!hasMargin(fresh)) {
          throw unavailable(
            'GetCredentialsForIdentity',
            `fresh credentials expire within the ${margin}s refresh margin`,
          );
        }
        credentialsCache.set(key, fresh);
        return fresh;
      });
      return serve(entry, false);
    },
  };
}
