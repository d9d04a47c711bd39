/**
 * A stand-in for Cognito Identity (identity pools), which has no emulator anywhere. It serves the
 * two operations of the enhanced flow, GetId and GetCredentialsForIdentity, over AWS's awsJson1_1
 * protocol on loopback, so the production `@aws-sdk/client-cognito-identity` talks to it unchanged
 * (`AWS_ENDPOINT_URL_COGNITO_IDENTITY` or the client's `endpoint`). Requests may be signed or not
 * (both operations are public in AWS; the SDK sends them unsigned); signatures are not checked.
 *
 * Every `Logins` token is checked as the service does (tokens.ts), errors carry the service's
 * exception names (protocol.ts), IdentityIds are stable per user, and the credentials handed out
 * carry the principal tags of the configured claim mapping and are kept in `sessions` for the local
 * DynamoDB isolation layer (sessions.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../authorizer/index.js';
import {
  IdentityPoolConfigError,
  IdentityPoolError,
  ServiceError,
  ServiceErrorType,
} from './errors.js';
import {
  decodeGetCredentialsForIdentityInput,
  decodeGetIdInput,
  errorResponse,
  type GetCredentialsForIdentityInput,
  type GetIdInput,
  OPERATIONS,
  type Operation,
  parseJsonObject,
  parseTarget,
  readBody,
  successResponse,
  writeResponse,
} from './protocol.js';
import {
  createSessionStore,
  identityIdFor,
  isValidTagKey,
  MAX_TAG_VALUE_LENGTH,
  principalTagsFor,
  type RandomBytes,
  type SessionRegistry,
} from './sessions.js';
import { createLoginVerifier, type IdentityPoolProvider, providerIssues } from './tokens.js';

export interface IdentityPoolOptions {
  /** The identity pool's region, e.g. `us-east-1`; IdentityIds start with it. */
  readonly region: string;
  /** `<region>:<uuid>`, e.g. the template's `!Ref IdentityPool` in a deployed stack. */
  readonly identityPoolId: string;
  /** The user pools the identity pool trusts (`CognitoIdentityProviders`). */
  readonly providers: readonly IdentityPoolProvider[];
  /**
   * Principal tag → claim (`AWS::Cognito::IdentityPoolPrincipalTag.PrincipalTags`), e.g.
   * `{ tenant_id: 'custom:tenant_id', user_id: 'sub' }`. At most 50 entries.
   */
  readonly principalTags: Readonly<Record<string, string>>;
  /** Lifetime of the credentials handed out. Default 3600 (Cognito's), 1–43 200. */
  readonly credentialsTtlSeconds?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Default 0: a free port. */
  readonly port?: number;
  /** A loopback address: `127.0.0.1` (default), `::1` or `localhost`. */
  readonly host?: string;
  /** For `jwksUri` downloads. Default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Randomness of access keys, secrets and session tokens. Default `crypto.randomBytes`. */
  readonly randomBytes?: RandomBytes;
  /** Timeout of one JWKS download. Default 3000 ms. */
  readonly jwksTimeoutMs?: number;
  /** An unknown `kid` refetches the JWKS at most once per this interval. Default 10 000 ms. */
  readonly jwksRefetchIntervalMs?: number;
  /** Where internal errors (bugs) are reported. Default: nowhere. */
  readonly logger?: Logger;
  /**
   * `ServerSideTokenCheck`: asked after a login's token passed every local check, whether its user
   * may still get credentials (exists, enabled). Only for providers whose name it is given for.
   */
  readonly serverSideTokenCheck?: (providerName: string, sub: string) => Promise<boolean>;
}

/** Calls received per operation (answered or refused), refusals by exception name. */
export interface IdentityPoolStats {
  readonly GetId: number;
  readonly GetCredentialsForIdentity: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly jwksFetches: number;
}

export interface IdentityPool {
  /** `http://127.0.0.1:<port>`: the client's `endpoint`. */
  readonly endpoint: string;
  readonly identityPoolId: string;
  /** Credentials handed out, by access key id, for the isolation layer. */
  readonly sessions: SessionRegistry;
  stats(): IdentityPoolStats;
  /** Zeroes the call and error counters (not the sessions, nor `jwksFetches`). */
  resetStats(): void;
  /** Stops listening and closes open connections. Idempotent. */
  stop(): Promise<void>;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** STS caps a session at 12 hours; Cognito's enhanced flow hands out one hour. */
const MAX_TTL_SECONDS = 43_200;
const MAX_PRINCIPAL_TAGS = 50;

const isInteger = (value: unknown, min: number, max: number): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

function optionIssues(options: IdentityPoolOptions): string[] {
  if (typeof options !== 'object' || options === null) return ['options must be an object'];
  const issues: string[] = [];
  const o = options as Partial<Record<keyof IdentityPoolOptions, unknown>>;
  const regionOk = typeof o.region === 'string' && REGION.test(o.region);
  if (!regionOk) issues.push(`region must look like us-east-1, got ${JSON.stringify(o.region)}`);
  const [poolRegion, poolUuid, ...rest] =
    typeof o.identityPoolId === 'string' ? o.identityPoolId.split(':') : [];
  if (
    rest.length > 0 ||
    poolUuid === undefined ||
    !UUID.test(poolUuid) ||
    (regionOk && poolRegion !== o.region)
  ) {
    issues.push(
      `identityPoolId must be "<region>:<uuid>" in region ${String(o.region)}, got ${JSON.stringify(o.identityPoolId)}`,
    );
  }
  issues.push(...providerIssues(o.providers));
  const tags = o.principalTags;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    issues.push('principalTags must be an object of principal tag → claim name');
  } else {
    const entries = Object.entries(tags);
    if (entries.length > MAX_PRINCIPAL_TAGS) {
      issues.push(`principalTags has ${entries.length} entries, at most ${MAX_PRINCIPAL_TAGS}`);
    }
    for (const [tag, claim] of entries) {
      if (!isValidTagKey(tag))
        issues.push(`principalTags: ${JSON.stringify(tag)} is no valid tag key`);
      if (typeof claim !== 'string' || claim.length < 1 || claim.length > MAX_TAG_VALUE_LENGTH) {
        issues.push(
          `principalTags.${tag} must name a claim (1–${MAX_TAG_VALUE_LENGTH} characters)`,
        );
      }
    }
  }
  if (
    o.credentialsTtlSeconds !== undefined &&
    !isInteger(o.credentialsTtlSeconds, 1, MAX_TTL_SECONDS)
  ) {
    issues.push(`credentialsTtlSeconds must be an integer in 1–${MAX_TTL_SECONDS}`);
  }
  if (o.port !== undefined && !isInteger(o.port, 0, 65_535)) {
    issues.push('port must be an integer in 0–65535 (0: a free port)');
  }
  if (o.host !== undefined && !(typeof o.host === 'string' && LOOPBACK.has(o.host))) {
    issues.push(`host must be a loopback address (${[...LOOPBACK].join(', ')})`);
  }
  if (o.jwksTimeoutMs !== undefined && !isInteger(o.jwksTimeoutMs, 1, 60_000)) {
    issues.push('jwksTimeoutMs must be an integer in 1–60000');
  }
  if (
    o.jwksRefetchIntervalMs !== undefined &&
    !isInteger(o.jwksRefetchIntervalMs, 0, Number.MAX_SAFE_INTEGER)
  ) {
    issues.push('jwksRefetchIntervalMs must be a non-negative integer');
  }
  for (const name of ['now', 'fetch', 'randomBytes'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function')
      issues.push(`${name} must be a function`);
  }
  if (o.logger !== undefined && typeof (o.logger as Logger | null)?.error !== 'function') {
    issues.push('logger must have an error method');
  }
  return issues;
}

type Counts = Record<Operation, number>;
const zeroCounts = (): Counts => Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Counts;

/**
 * Starts the stand-in on loopback.
 * @throws IdentityPoolConfigError listing every invalid option, before listening.
 * @throws IdentityPoolError when the port cannot be bound.
 */
export async function startIdentityPool(options: IdentityPoolOptions): Promise<IdentityPool> {
  const issues = optionIssues(options);
  if (issues.length > 0) throw new IdentityPoolConfigError(issues);

  const now = options.now ?? Date.now;
  const ttlSeconds = options.credentialsTtlSeconds ?? 3600;
  const host = options.host ?? '127.0.0.1';
  const mapping = Object.freeze({ ...options.principalTags });
  const verifier = createLoginVerifier({
    providers: options.providers,
    now,
    fetch: options.fetch ?? fetch,
    jwksTimeoutMs: options.jwksTimeoutMs ?? 3000,
    jwksRefetchIntervalMs: options.jwksRefetchIntervalMs ?? 10_000,
  });
  const store = createSessionStore(options.randomBytes);
  /** IdentityIds handed out since start: an id not derivable from the caller's login but in here
   * belongs to someone else (NotAuthorized); one in neither does not exist (ResourceNotFound). */
  const issuedIdentityIds = new Set<string>();
  let calls = zeroCounts();
  let errors: Record<string, number> = {};

  const identityOf = (providerName: string, sub: string) =>
    identityIdFor(options.region, options.identityPoolId, providerName, sub);

  /**
   * The token verified, then — as Cognito does for a provider with ServerSideTokenCheck — the user
   * pool asked whether the user still stands: a deleted or disabled user gets no identity and no
   * credentials even with a token that is still valid. (The exception name is AWS's; the message
   * is ours.)
   */
  const verifyLogins = async (logins: Readonly<Record<string, string>>) => {
    const login = await verifier.verify(logins);
    if (
      options.serverSideTokenCheck &&
      !(await options.serverSideTokenCheck(login.providerName, login.sub))
    ) {
      throw new ServiceError(
        ServiceErrorType.notAuthorized,
        'Invalid login token. The user pool no longer accepts this user (server-side token check).',
      );
    }
    return login;
  };

  const getId = async (input: GetIdInput) => {
    if (input.identityPoolId !== options.identityPoolId) {
      throw new ServiceError(
        ServiceErrorType.resourceNotFound,
        `IdentityPool '${input.identityPoolId}' not found.`,
      );
    }
    const login = await verifyLogins(input.logins);
    const identityId = identityOf(login.providerName, login.sub);
    issuedIdentityIds.add(identityId);
    return { IdentityId: identityId };
  };

  const getCredentialsForIdentity = async (input: GetCredentialsForIdentityInput) => {
    const login = await verifyLogins(input.logins);
    const identityId = identityOf(login.providerName, login.sub);
    if (input.identityId !== identityId) {
      if (issuedIdentityIds.has(input.identityId)) {
        throw new ServiceError(
          ServiceErrorType.notAuthorized,
          "Logins don't match. Please include at least one valid login for this identity or identity pool.",
        );
      }
      throw new ServiceError(
        ServiceErrorType.resourceNotFound,
        `Identity '${input.identityId}' not found.`,
      );
    }
    // After a restart the set is empty, yet the id is derivable from the login: it exists.
    issuedIdentityIds.add(identityId);
    const principalTags = principalTagsFor(login.claims, mapping);
    const expirationMs = (Math.floor(now() / 1000) + ttlSeconds) * 1000;
    const credentials = store.issue(identityId, principalTags, expirationMs);
    return {
      IdentityId: identityId,
      Credentials: {
        AccessKeyId: credentials.accessKeyId,
        SecretKey: credentials.secretAccessKey,
        SessionToken: credentials.sessionToken,
        // awsJson timestamps are epoch seconds.
        Expiration: credentials.expirationMs / 1000,
      },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let bodyRead = false;
    try {
      const operation = parseTarget(
        req.method === 'POST' ? headerOf(req, 'x-amz-target') : undefined,
      );
      calls[operation]++;
      const doc = parseJsonObject(await readBody(req));
      bodyRead = true;
      const output =
        operation === 'GetId'
          ? await getId(decodeGetIdInput(doc))
          : await getCredentialsForIdentity(decodeGetCredentialsForIdentityInput(doc));
      writeResponse(res, successResponse(output));
    } catch (error) {
      const serviceError =
        error instanceof ServiceError
          ? error
          : new ServiceError(ServiceErrorType.internalError, 'An internal error occurred', {
              cause: error,
            });
      if (serviceError.type === ServiceErrorType.internalError) {
        options.logger?.error('identity-pool stand-in: internal error', {
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
      }
      errors[serviceError.type] = (errors[serviceError.type] ?? 0) + 1;
      // An unread (or oversized) body would otherwise be drained on a kept-alive connection.
      if (!bodyRead) res.setHeader('connection', 'close');
      writeResponse(res, errorResponse(serviceError));
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    throw new IdentityPoolError(
      `identity pool stand-in could not listen on ${host}:${options.port ?? 0}`,
      { cause },
    );
  }
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;

  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    identityPoolId: options.identityPoolId,
    sessions: {
      lookup: (accessKeyId) => store.lookup(accessKeyId),
      get size() {
        return store.size;
      },
    },
    stats: () => ({
      ...calls,
      errors: Object.freeze({ ...errors }),
      jwksFetches: verifier.jwksFetches(),
    }),
    resetStats() {
      calls = zeroCounts();
      errors = {};
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SDK clients keep connections alive; without this `close` waits for them to time out.
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
