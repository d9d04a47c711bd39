/**
 * The orchestration: event → verified token → tenant → credentials → response, and the one place
 * that maps errors to API Gateway's fixed outcomes:
 * - no / invalid token → `throw new Error('Unauthorized')` (401);
 * - valid token without permission → Deny (403), reason in the log and the context;
 * - infrastructure failure → the error is thrown (500). Nothing Allows on an error path.
 */

import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import type { MembershipCheck } from './authorize-types.js';
import { ContextKey, encodeTenantContext, encodeTenantlessContext } from './context.js';
import {
  type CredentialsProvider,
  createCredentialsProvider,
  type SharedOpenIdTokens,
} from './credentials.js';
import { isTimeoutMs, withTimeout } from './deadline.js';
import {
  AuthorizerConfigError,
  AuthorizerError,
  DependencyTimeoutError,
  MembershipCheckError,
  TokenRejectedError,
} from './errors.js';
import {
  type AuthorizationRequest,
  type AuthorizerResponse,
  apiWideArn,
  EventKind,
  iamResponse,
  parseAuthorizerEvent,
  routeArn,
  simpleResponse,
} from './events.js';
import { createObservability, type Outcome, withObservability } from './observability.js';
import { createTenantRules, DenyReason, type Member, type TenantMode } from './tenant.js';
import {
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
  type UserPoolOptions,
} from './token.js';
import type { Clock, Logger, MetricsSink } from './types.js';

export type { MembershipCheck };

/**
 * Options of {@link createAuthorizer}. Only `userPools` and `identityPoolId` are required; every
 * other option has a default that matches the SAM template. All are validated once, when the
 * factory runs.
 */
export interface AuthorizerOptions {
  /** One or several user pools; in siloed mode each names the tenant it serves. */
  readonly userPools: readonly UserPoolOptions[];
  /** `<region>:<uuid>` of the identity pool that hands out tenant-scoped credentials. */
  readonly identityPoolId: string;
  /**
   * The identity pool's `DeveloperProviderName`. The authorizer registers each user under it
   * (GetOpenIdTokenForDeveloperIdentity, IAM-signed with its own role) and names the principal tags.
   */
  readonly developerProviderName: string;
  /** Lifetime of the OpenID token kept per (user, tenant), in memory only. 900–86 400; default 3600. */
  readonly openIdTokenSeconds?: number;
  /** `pooled` (tenant from a claim, checked against groups) or `siloed` (tenant from the pool). */
  readonly mode?: TenantMode;
  /** The ID-token claim naming the active tenant (pooled mode). Default `custom:tenant_id`. */
  readonly tenantClaim?: string;
  /** The ID-token claim naming the caller's role in the active tenant. Default `custom:role`. */
  readonly roleClaim?: string;
  /** Principal tag name of the tenant (the tenant role's policy uses it). Default `tenant_id`. */
  readonly tenantTag?: string;
  /** Principal tag name of the user. Default `user_id`. */
  readonly userTag?: string;
  /** API Gateway's authorizer result TTL. Default 300. */
  readonly resultTtlSeconds?: number;
  /** Allowed clock difference with AWS. Default 60. */
  readonly clockSkewSeconds?: number;
  /** Cached credentials are served only with at least this long left. Default 900. */
  readonly refreshMarginSeconds?: number;
  /** `api` (default): Allow the whole API stage, so a cached result is right for every route. */
  readonly policyScope?: 'api' | 'method';
  /** Serve tenant `t` only on host `t.<hostBaseDomain>` (REQUEST and HTTP API events). */
  readonly hostBaseDomain?: string;
  /** Routes a token without a tenant may reach. Default `POST /tenants`, `GET /me/tenants`, `POST /me/tenant`. */
  readonly tenantlessRoutes?: readonly string[];
  /** HTTP API payload 2.0 response: `simple` (default, `EnableSimpleResponses`) or `iam`. */
  readonly httpApiResponse?: 'simple' | 'iam';
  /**
   * Re-checks, after the token, that the member still holds the token's role (removals bite in
   * seconds instead of at token expiry). `createMembershipCheck` from `tenantgate/tenants` reads the
   * membership item. Default: no check.
   */
  readonly membershipCheck?: MembershipCheck;
  /** Verified-token cache entries; 0 disables the cache. Default 5 000. */
  readonly tokenCacheSize?: number;
  /** Tenant-scoped credentials cache entries. Default 5 000. */
  readonly credentialsCacheSize?: number;
  /**
   * OpenID tokens shared across the authorizer's environments, so a token minted in one serves all
   * (see `SharedOpenIdTokens`). Default: none, each environment keeps its own, in memory only.
   */
  readonly sharedOpenIdTokens?: SharedOpenIdTokens;
  /**
   * Time limit of one dependency call attempt, in ms: a JWKS download, each Cognito Identity call,
   * the membership read. The credential exchange (both Cognito calls, retries included) and the
   * membership read each get twice this; they run side by side. A request therefore ends within
   * 3× this even when every dependency stalls (default 1 000 → 3 s, against a 10 s function timeout).
   */
  readonly dependencyTimeoutMs?: number;
  /**
   * Download the pools' JWKS when the authorizer is built (Lambda init), so the first request does
   * not wait for it; a request that comes while it runs joins that download. Default `true`
   * (ignored with an injected `verifier`).
   */
  readonly prefetchJwks?: boolean;
  // Seams: everything with a side effect can be injected.
  /** Replaces the Cognito ID-token verifier (tests); `userPools` is then only used for siloed tenants. */
  readonly verifier?: Pick<TokenVerifier, 'verify'>;
  /** Replaces the identity-pool credentials provider (tests, or a provider of your own). */
  readonly credentials?: CredentialsProvider;
  /**
   * The Cognito Identity client the default credentials provider uses. Default: one for the
   * identity pool's region with `maxAttempts: 1` (the provider retries with jitter itself).
   */
  readonly cognitoIdentity?: CognitoIdentityClient;
  /** A JWKS cache of your own (aws-jwt-verify's interface); prefer `jwksFetcher`. */
  readonly jwksCache?: TokenVerifierOptions['jwksCache'];
  /** Fetches JWKS (default HTTPS); the local stack maps the issuer to cognito-local with it. */
  readonly jwksFetcher?: TokenVerifierOptions['fetcher'];
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: Clock;
  /** Decision and error logs (never tokens or secrets). Default: silent. */
  readonly logger?: Logger;
  /** Powertools `Metrics` or any {@link MetricsSink}. Default: no metrics. */
  readonly metrics?: MetricsSink;
  /** Metrics are batched and written at most this often; 0 writes on every invocation. Default 10 000. */
  readonly metricsFlushIntervalMs?: number;
}

/** The authorizer's Lambda handler: any supported authorizer event in, a response out. */
export type AuthorizerHandler = (event: unknown, context?: unknown) => Promise<AuthorizerResponse>;

/**
 * The AWS SDK's request handler options for a per-attempt time limit. `throwOnRequestTimeout`
 * matters: without it @smithy/node-http-handler (4.x) only logs a warning when `requestTimeout`
 * passes, and the request waits on.
 */
const httpTimeouts = (ms: number) => ({
  connectionTimeout: ms,
  requestTimeout: ms,
  socketTimeout: ms,
  throwOnRequestTimeout: true,
});

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const isNonNegativeInt = (n: number) => Number.isInteger(n) && n >= 0;

/** The error API Gateway turns into a 401: the message must be exactly `Unauthorized`. */
const unauthorized = () => new Error('Unauthorized');
/** The ARN an IAM response is scoped to; checked up front in `authorizeEvent`, re-checked here so
 * that no path can build a policy without one. */
const arnOf = (request: AuthorizationRequest) => {
  if (request.parsedArn === undefined) throw unauthorized();
  return request.parsedArn;
};
const isUnauthorized = (error: unknown) =>
  error instanceof Error && error.name === 'Error' && error.message === 'Unauthorized';

/**
 * Build the authorizer once, at init: validates every option (all problems in one
 * `AuthorizerConfigError`), builds the verifier, the credentials provider and the tenant rules.
 * The returned handler does no validation and no construction per request.
 */
export function createAuthorizer(options: AuthorizerOptions): AuthorizerHandler {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const resultTtl = options.resultTtlSeconds ?? 300;
  const skew = options.clockSkewSeconds ?? 60;
  const margin = options.refreshMarginSeconds ?? 900;
  const scope = options.policyScope ?? 'api';
  const httpApiResponse = options.httpApiResponse ?? 'simple';
  const observability = createObservability({
    metrics: options.metrics,
    now,
    flushIntervalMs: options.metricsFlushIntervalMs,
  });

  const issues: string[] = [];
  const collect = <T>(build: () => T): T | undefined => {
    try {
      return build();
    } catch (error) {
      if (error instanceof AuthorizerConfigError) issues.push(...error.issues);
      else throw error;
      return undefined;
    }
  };
  if (!isNonNegativeInt(resultTtl) || resultTtl > 3600) {
    issues.push(`resultTtlSeconds must be an integer from 0 to 3600, got ${resultTtl}`);
  }
  if (!isNonNegativeInt(skew))
    issues.push(`clockSkewSeconds must be a non-negative integer, got ${skew}`);
  // A cached authorizer result carries credentials for up to resultTtl more seconds: they must not
  // expire while API Gateway still serves that result, whatever the clocks say.
  if (!(margin >= resultTtl + skew)) {
    issues.push(
      `refreshMarginSeconds (${margin}) must be at least resultTtlSeconds + clockSkewSeconds (${resultTtl + skew})`,
    );
  }
  if (scope !== 'api' && scope !== 'method')
    issues.push(`policyScope must be api or method, got "${scope}"`);
  if (httpApiResponse !== 'simple' && httpApiResponse !== 'iam') {
    issues.push(`httpApiResponse must be simple or iam, got "${httpApiResponse}"`);
  }
  if (options.userPools.length === 0) issues.push('userPools must name at least one user pool');
  const timeoutMs = options.dependencyTimeoutMs ?? 1000;
  if (!isTimeoutMs(timeoutMs) || timeoutMs > 20_000)
    issues.push(`dependencyTimeoutMs must be an integer from 1 to 20000, got ${String(timeoutMs)}`);

  const poolTenants: Record<string, string> = {};
  for (const pool of options.userPools)
    if (pool.tenantId) poolTenants[pool.userPoolId] = pool.tenantId;
  const rules = collect(() =>
    createTenantRules({
      mode: options.mode,
      tenantClaim: options.tenantClaim,
      roleClaim: options.roleClaim,
      poolTenants,
      hostBaseDomain: options.hostBaseDomain,
      tenantlessRoutes: options.tenantlessRoutes,
    }),
  );
  const ownVerifier = options.verifier
    ? undefined
    : collect(() =>
        createTokenVerifier({
          userPools: options.userPools,
          jwksCache: options.jwksCache,
          fetcher: options.jwksFetcher,
          now,
          cacheSize: options.tokenCacheSize,
          observer: observability.observer,
          ...(isTimeoutMs(timeoutMs) ? { fetchTimeoutMs: timeoutMs } : {}),
        }),
      );
  const verifier = options.verifier ?? ownVerifier;
  const region = options.identityPoolId.split(':')[0] ?? '';
  const credentials =
    options.credentials ??
    collect(() =>
      createCredentialsProvider({
        // maxAttempts 1: the provider retries with jitter itself; SDK retries on top would multiply.
        client:
          options.cognitoIdentity ??
          new CognitoIdentityClient({
            region,
            maxAttempts: 1,
            requestHandler: httpTimeouts(isTimeoutMs(timeoutMs) ? timeoutMs : 1000),
          }),
        identityPoolId: options.identityPoolId,
        developerProviderName: options.developerProviderName,
        ...(options.openIdTokenSeconds === undefined
          ? {}
          : { openIdTokenSeconds: options.openIdTokenSeconds }),
        ...(options.tenantTag === undefined ? {} : { tenantTag: options.tenantTag }),
        ...(options.userTag === undefined ? {} : { userTag: options.userTag }),
        refreshMarginSeconds: margin,
        ...(isTimeoutMs(timeoutMs) ? { timeoutMs, budgetMs: 2 * timeoutMs } : {}),
        ...(options.sharedOpenIdTokens ? { sharedOpenIdTokens: options.sharedOpenIdTokens } : {}),
        maxEntries: options.credentialsCacheSize,
        now,
        observer: observability.observer,
      }),
    );
  if (issues.length > 0 || !rules || !verifier || !credentials)
    throw new AuthorizerConfigError(issues);

  const tenantlessRoutes = rules.tenantlessRoutes;
  const membershipCheck = options.membershipCheck;
  const membershipBudgetMs = 2 * timeoutMs;

  // JWKS downloaded during init (a Lambda's init runs at full CPU, before any request waits), not on
  // the first request. A first request that arrives while it runs joins that same download
  // (aws-jwt-verify keeps one fetch per JWKS URI in flight), so it never waits twice. A failure is
  // not fatal: the first request's verify fetches again, within the same time limit.
  if (ownVerifier && options.prefetchJwks !== false) ownVerifier.hydrate().catch(() => {});

  const record = (outcome: Outcome, reason: string, fields: Record<string, unknown>) => {
    observability.decision(outcome, reason);
    const entry = { outcome, reason, ...fields };
    if (outcome === 'allow') logger.debug('authorized', entry);
    else if (outcome === 'error') logger.error('authorizer failed', entry);
    else logger.info('refused', entry);
  };

  const deny = (
    request: AuthorizationRequest,
    userId: string,
    reason: string,
  ): AuthorizerResponse => {
    record('deny', reason, { userId });
    const context = { [ContextKey.denyReason]: reason };
    if (request.kind === EventKind.httpV2 && httpApiResponse === 'simple') {
      return simpleResponse(false, context);
    }
    // API-wide Deny, so a cached result refuses every route alike.
    return iamResponse(userId, 'Deny', [apiWideArn(arnOf(request))], context);
  };

  /** The membership answer within its budget; anything but true/false is a 500. */
  const checkMembership = async (check: MembershipCheck, member: Member): Promise<boolean> => {
    try {
      return await withTimeout('membership check', membershipBudgetMs, () =>
        check({ tenantId: member.tenantId, userId: member.userId, role: member.role }),
      );
    } catch (error) {
      if (error instanceof AuthorizerError && !(error instanceof DependencyTimeoutError))
        throw error;
      throw new MembershipCheckError('membership check failed', { cause: error });
    }
  };

  const allowMember = async (
    request: AuthorizationRequest,
    providerName: string,
    member: Member,
  ): Promise<AuthorizerResponse> => {
    // The credential exchange starts now, beside the membership read, so a cold request waits for
    // the longer of the two rather than their sum. Its result reaches a response only below, after
    // the check passed: a Deny or a failed check drops it (the provider may keep it cached, and
    // serves it only to a later request that passes its own checks). Tags come from the checked
    // token and tenant, never from the request.
    const minted = credentials.get({
      providerName,
      userId: member.userId,
      tenantId: member.tenantId,
    });
    // Observed here so that a Deny or a failed check, which never await it, leaves no unhandled
    // rejection; the awaited copy below still throws.
    minted.catch(() => {});
    if (membershipCheck) {
      const stillMember = await checkMembership(membershipCheck, member);
      if (!stillMember) return deny(request, member.userId, DenyReason.membershipRevoked);
    }
    // Never Allow without credentials: a failure here throws (500).
    const { identityId, credentials: creds } = await minted;
    const context = encodeTenantContext({ ...member, identityId, credentials: creds });
    record('allow', 'allowed', {
      tenantId: member.tenantId,
      userId: member.userId,
      role: member.role,
    });
    if (request.kind === EventKind.httpV2 && httpApiResponse === 'simple') {
      return simpleResponse(true, context);
    }
    const resource = scope === 'api' ? apiWideArn(arnOf(request)) : request.arn;
    return iamResponse(member.userId, 'Allow', [resource], context);
  };

  const authorizeEvent = async (event: unknown): Promise<AuthorizerResponse> => {
    const request = parseAuthorizerEvent(event);
    if (request.token === undefined) {
      record('unauthorized', 'missing', {});
      throw unauthorized();
    }
    const needsArn = !(request.kind === EventKind.httpV2 && httpApiResponse === 'simple');
    if (needsArn && request.parsedArn === undefined) {
      // No ARN to scope a policy to: refuse rather than guess a resource.
      record('unauthorized', DenyReason.invalidRequest, {});
      throw unauthorized();
    }
    let verified: Awaited<ReturnType<TokenVerifier['verify']>>;
    try {
      verified = await verifier.verify(request.token);
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        record('unauthorized', error.reason, {});
        throw unauthorized();
      }
      throw error;
    }
    const principal = rules.resolve(verified, request);
    switch (principal.kind) {
      case 'member':
        return allowMember(request, verified.providerName, principal);
      case 'denied':
        return deny(request, principal.userId, principal.reason);
      case 'tenantless': {
        const onRoute = rules.isTenantlessRoute(request.route);
        const context = encodeTenantlessContext(principal);
        if (request.kind === EventKind.httpV2 && httpApiResponse === 'simple') {
          if (!onRoute) return deny(request, principal.userId, DenyReason.noTenant);
          record('allow', 'tenantless', { userId: principal.userId });
          return simpleResponse(true, context);
        }
        // Always the same policy for a tenant-less token: Allow on the tenant-less routes only, no
        // credentials. Other routes get API Gateway's implicit deny (403), and a cached result stays
        // right for every route.
        if (onRoute) record('allow', 'tenantless', { userId: principal.userId });
        else record('deny', DenyReason.noTenant, { userId: principal.userId });
        const arn = arnOf(request);
        return iamResponse(
          principal.userId,
          'Allow',
          tenantlessRoutes.map((route) => routeArn(arn, route)),
          context,
        );
      }
    }
  };

  const handler = withObservability(
    async (event: unknown) => {
      try {
        return await authorizeEvent(event);
      } catch (error) {
        // Unauthorized was recorded with its reason where it was decided; anything else is a 500.
        if (!isUnauthorized(error)) {
          const name = error instanceof Error ? error.name : 'UnknownError';
          record('error', name, { error: error instanceof Error ? error.message : String(error) });
        }
        throw error;
      }
    },
    observability,
    options.metrics,
  );
  return handler;
}
