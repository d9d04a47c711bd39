/**
 * The only place that reads `process.env`: once, at cold start, into a frozen typed config. Every
 * missing or invalid variable is reported in one `EnvConfigError`, so a bad deploy fails at init with
 * the whole list instead of one problem per redeploy.
 */
import type { AuthorizerOptions } from '../authorizer/index.js';
import { EnvConfigError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './telemetry.js';

type Env = Readonly<Record<string, string | undefined>>;

interface UserPoolConfig {
  readonly userPoolId: string;
  readonly clientIds: readonly string[];
  readonly tenantId?: string;
}

/** What `createAuthorizer` needs from the environment, plus Powertools settings. */
export interface AuthorizerConfig
  extends Pick<
    AuthorizerOptions,
    | 'identityPoolId'
    | 'developerProviderName'
    | 'openIdTokenSeconds'
    | 'mode'
    | 'tenantClaim'
    | 'roleClaim'
    | 'resultTtlSeconds'
    | 'clockSkewSeconds'
    | 'refreshMarginSeconds'
    | 'policyScope'
    | 'hostBaseDomain'
    | 'tenantlessRoutes'
    | 'httpApiResponse'
    | 'tokenCacheSize'
    | 'credentialsCacheSize'
    | 'metricsFlushIntervalMs'
    | 'dependencyTimeoutMs'
  > {
  readonly userPools: readonly UserPoolConfig[];
  readonly serviceName: string;
  readonly metricsNamespace: string;
  /** POWERTOOLS_LOG_LEVEL (the name the control plane's Powertools reads too). Default INFO. */
  readonly logLevel: LogLevel;
  /** POWERTOOLS_METRICS_DISABLED=true writes no metrics (local runs). */
  readonly metricsDisabled: boolean;
  /** AWS_LAMBDA_FUNCTION_NAME, the cold-start metric's `function_name` dimension. */
  readonly functionName?: string;
  /** The function's region (AWS_REGION), where the table is. */
  readonly region?: string;
  /** AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL, as the SDK honours them (the local stack). */
  readonly dynamodbEndpoint?: string;
  /** Re-check membership against this table (`MEMBERSHIP_CHECK=on`, the template's default). */
  readonly membershipTable?: string;
  /**
   * Share OpenID tokens across environments through this table (`SHARE_OPENID_TOKENS=on`, default
   * off): see sam/openid-token-store.ts.
   */
  readonly openIdTokenTable?: string;
  /** How long a membership answer is reused (MEMBERSHIP_CACHE_SECONDS, 0–60, default 60). */
  readonly membershipTtlMs: number;
}

/**
 * DEPENDENCY_TIMEOUT_MS: the time limit of one dependency call attempt (JWKS, Cognito, DynamoDB).
 * Bounded above so that the authorizer's worst case (3× this: JWKS, then the credential exchange
 * beside the membership read, each 2×) stays well inside the template's 10 s function timeout.
 */
const DEPENDENCY_TIMEOUT = { name: 'DEPENDENCY_TIMEOUT_MS', fallback: 1000, min: 100, max: 3000 };

/** The dependency time limit, or an issue when it is not an integer in range. */
function dependencyTimeout(env: Env, issues: string[]): number {
  const { name, fallback, min, max } = DEPENDENCY_TIMEOUT;
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    issues.push(`${name} must be an integer from ${min} to ${max} (ms), got "${raw}"`);
    return fallback;
  }
  return n;
}

/** `{ [key]: value }` for a non-blank value, else nothing (so the config holds no empty strings). */
const optional = <K extends string>(key: K, value: string | undefined) => {
  const v = value?.trim();
  return (v ? { [key]: v } : {}) as Partial<Record<K, string>>;
};

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Reads the authorizer's variables (names in README's configuration table). */
export function readAuthorizerConfig(env: Env = process.env): Readonly<AuthorizerConfig> {
  const issues: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) issues.push(`${name} is required`);
    return value ?? '';
  };
  const integer = (name: string, fallback: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) {
      issues.push(`${name} must be a non-negative integer, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      issues.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };

  let userPools: UserPoolConfig[] = [];
  const poolsJson = env.USER_POOLS?.trim();
  if (poolsJson) {
    try {
      const parsed: unknown = JSON.parse(poolsJson);
      if (!Array.isArray(parsed)) throw new Error('not an array');
      userPools = parsed.map((p, i) => {
        const pool = p as Record<string, unknown>;
        const clientIds = pool.clientIds;
        if (
          typeof pool.userPoolId !== 'string' ||
          !Array.isArray(clientIds) ||
          !clientIds.every((c) => typeof c === 'string') ||
          (pool.tenantId !== undefined && typeof pool.tenantId !== 'string')
        ) {
          issues.push(
            `USER_POOLS[${i}] must be {"userPoolId": string, "clientIds": string[], "tenantId"?: string}`,
          );
        }
        return {
          userPoolId: String(pool.userPoolId),
          clientIds: Array.isArray(clientIds) ? clientIds.map(String) : [],
          ...(typeof pool.tenantId === 'string' ? { tenantId: pool.tenantId } : {}),
        };
      });
    } catch (error) {
      issues.push(`USER_POOLS must be a JSON array of user pools (${(error as Error).message})`);
    }
  } else {
    const userPoolId = required('USER_POOL_ID');
    const clientIds = list(env.USER_POOL_CLIENT_IDS);
    if (clientIds.length === 0) issues.push('USER_POOL_CLIENT_IDS is required (comma-separated)');
    userPools = [{ userPoolId, clientIds }];
  }

  const hostCheck = oneOf('HOST_CHECK', ['off', 'subdomain'] as const, 'off');
  const hostBaseDomain = env.HOST_BASE_DOMAIN?.trim();
  if (hostCheck === 'subdomain' && !hostBaseDomain) {
    issues.push('HOST_BASE_DOMAIN is required when HOST_CHECK=subdomain');
  }
  const membershipCheck = oneOf('MEMBERSHIP_CHECK', ['on', 'off'] as const, 'off');
  const tableName = env.TABLE_NAME?.trim();
  if (membershipCheck === 'on' && !tableName)
    issues.push('TABLE_NAME is required when MEMBERSHIP_CHECK=on');
  const shareTokens = oneOf('SHARE_OPENID_TOKENS', ['on', 'off'] as const, 'off');
  if (shareTokens === 'on' && !tableName)
    issues.push('TABLE_NAME is required when SHARE_OPENID_TOKENS=on');
  if (
    (membershipCheck === 'on' || shareTokens === 'on') &&
    !(env.AWS_REGION ?? env.AWS_DEFAULT_REGION)?.trim()
  )
    issues.push(
      'AWS_REGION is required when MEMBERSHIP_CHECK or SHARE_OPENID_TOKENS is on (the table’s region)',
    );
  const tenantlessRoutes =
    env.TENANTLESS_ROUTES === undefined ? undefined : list(env.TENANTLESS_ROUTES);

  const config: AuthorizerConfig = {
    userPools,
    identityPoolId: required('IDENTITY_POOL_ID'),
    developerProviderName: required('DEVELOPER_PROVIDER_NAME'),
    openIdTokenSeconds: integer('OPENID_TOKEN_SECONDS', 3600),
    mode: oneOf('TENANT_MODE', ['pooled', 'siloed'] as const, 'pooled'),
    tenantClaim: env.TENANT_CLAIM?.trim() || 'custom:tenant_id',
    roleClaim: env.ROLE_CLAIM?.trim() || 'custom:role',
    resultTtlSeconds: integer('RESULT_TTL_SECONDS', 300),
    clockSkewSeconds: integer('CLOCK_SKEW_SECONDS', 60),
    refreshMarginSeconds: integer('REFRESH_MARGIN_SECONDS', 900),
    policyScope: oneOf('POLICY_SCOPE', ['api', 'method'] as const, 'api'),
    ...(hostCheck === 'subdomain' && hostBaseDomain ? { hostBaseDomain } : {}),
    ...(tenantlessRoutes ? { tenantlessRoutes } : {}),
    httpApiResponse: oneOf('HTTP_API_RESPONSE', ['simple', 'iam'] as const, 'simple'),
    tokenCacheSize: integer('TOKEN_CACHE_SIZE', 5000),
    credentialsCacheSize: integer('CREDENTIALS_CACHE_SIZE', 5000),
    metricsFlushIntervalMs: integer('METRICS_FLUSH_INTERVAL_MS', 10_000),
    dependencyTimeoutMs: dependencyTimeout(env, issues),
    serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || 'tenantgate',
    metricsNamespace: env.POWERTOOLS_METRICS_NAMESPACE?.trim() || 'tenantgate',
    logLevel: oneOf('POWERTOOLS_LOG_LEVEL', LOG_LEVELS, 'INFO'),
    metricsDisabled: env.POWERTOOLS_METRICS_DISABLED?.trim().toLowerCase() === 'true',
    ...optional('functionName', env.AWS_LAMBDA_FUNCTION_NAME),
    ...optional('region', env.AWS_REGION ?? env.AWS_DEFAULT_REGION),
    ...optional('dynamodbEndpoint', env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL),
    ...(membershipCheck === 'on' && tableName ? { membershipTable: tableName } : {}),
    ...(shareTokens === 'on' && tableName ? { openIdTokenTable: tableName } : {}),
    membershipTtlMs: integer('MEMBERSHIP_CACHE_SECONDS', 60) * 1000,
  };
  if (config.membershipTtlMs > 60_000)
    issues.push(
      `MEMBERSHIP_CACHE_SECONDS must be at most 60 (the revocation bound), got ${config.membershipTtlMs / 1000}`,
    );
  if (issues.length > 0) throw new EnvConfigError(issues);
  return Object.freeze(config);
}

/** What the control-plane functions need (TenantsFunction, MembersFunction, RolesFunction, …). */
export interface ControlPlaneConfig {
  readonly tableName: string;
  /** Absent for functions that make no Cognito call (AircraftFunction, PostConfirmationFunction). */
  readonly userPoolId?: string;
  readonly clientId?: string;
  readonly tenantClaim: string;
  readonly roleClaim: string;
  /** How stale a role edit may be seen by reads here (ROLE_CACHE_TTL_SECONDS, default 30). */
  readonly roleCacheTtlMs: number;
  readonly serviceName: string;
  /** Time limit of one AWS call attempt (DEPENDENCY_TIMEOUT_MS, default 1 000). */
  readonly dependencyTimeoutMs: number;
  /** Browser origins the answers are readable from (ALLOWED_ORIGINS, comma-separated; default none). */
  readonly allowedOrigins: readonly string[];
}

/**
 * ALLOWED_ORIGINS: comma-separated browser origins, each exactly as a browser sends it (`https://host`
 * or `http://host:port`, lower-case host, no path, no trailing slash), since they are matched exactly.
 * `*` and `null` are refused: CORS would then let any page, or any sandboxed one, read the answers.
 */
export function readAllowedOrigins(env: Env = process.env): readonly string[] {
  const issues: string[] = [];
  const origins = allowedOrigins(env, issues);
  if (issues.length > 0) throw new EnvConfigError(issues);
  return Object.freeze(origins);
}

function allowedOrigins(env: Env, issues: string[]): readonly string[] {
  const origins = list(env.ALLOWED_ORIGINS);
  for (const origin of origins) {
    let canonical: string | undefined;
    try {
      const url = new URL(origin);
      if (url.protocol === 'https:' || url.protocol === 'http:') canonical = url.origin;
    } catch {
      canonical = undefined;
    }
    if (canonical !== origin)
      issues.push(
        `ALLOWED_ORIGINS: "${origin}" is not an origin${canonical ? ` (write it as ${canonical})` : ' (http(s)://host[:port], never * or null)'}`,
      );
  }
  return origins;
}

/**
 * Reads a control-plane function's variables once at init. `needsCognito`: the function calls the
 * user pool (USER_POOL_ID and USER_POOL_CLIENT_ID required).
 */
export function readControlPlaneConfig(
  env: Env = process.env,
  needsCognito = false,
): Readonly<ControlPlaneConfig> {
  const issues: string[] = [];
  const tableName = env.TABLE_NAME?.trim() ?? '';
  if (!tableName) issues.push('TABLE_NAME is required');
  const userPoolId = env.USER_POOL_ID?.trim();
  const clientId = env.USER_POOL_CLIENT_ID?.trim();
  if (needsCognito && !userPoolId) issues.push('USER_POOL_ID is required');
  if (needsCognito && !clientId) issues.push('USER_POOL_CLIENT_ID is required');
  const ttlRaw = env.ROLE_CACHE_TTL_SECONDS?.trim();
  const ttl = ttlRaw === undefined || ttlRaw === '' ? 30 : Number(ttlRaw);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 300)
    issues.push(`ROLE_CACHE_TTL_SECONDS must be an integer from 0 to 300, got "${ttlRaw}"`);
  const dependencyTimeoutMs = dependencyTimeout(env, issues);
  const origins = allowedOrigins(env, issues);
  if (issues.length > 0) throw new EnvConfigError(issues);
  return Object.freeze({
    tableName,
    ...(userPoolId ? { userPoolId } : {}),
    ...(clientId ? { clientId } : {}),
    tenantClaim: env.TENANT_CLAIM?.trim() || 'custom:tenant_id',
    roleClaim: env.ROLE_CLAIM?.trim() || 'custom:role',
    roleCacheTtlMs: ttl * 1000,
    serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || 'tenantgate',
    dependencyTimeoutMs,
    allowedOrigins: origins,
  });
}
