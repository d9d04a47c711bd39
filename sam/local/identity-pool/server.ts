/**
 * A stand-in for Cognito Identity (identity pools), which has no emulator anywhere. It serves, over
 * AWS's awsJson1_1 protocol on loopback, so the production `@aws-sdk/client-cognito-identity` talks
 * to it unchanged (`AWS_ENDPOINT_URL_COGNITO_IDENTITY` or the client's `endpoint`):
 *
 * - GetOpenIdTokenForDeveloperIdentity (developer-authenticated identities, template.yaml's design):
 *   SigV4-authenticated and IAM-authorized like the AWS front end (caller.ts) against the callers
 *   the stack knows by access key id — a function's role or a tenant session — then checked as the
 *   service does (pool, the pool's developer provider alone in `Logins`, PrincipalTags and
 *   TokenDuration limits). It returns a stable IdentityId per developer user identifier and an
 *   OpenID token signed by the stand-in carrying the principal tags (openid-tokens.ts);
 * - GetCredentialsForIdentity, public: with `Logins {"cognito-identity.amazonaws.com": <that token>}`
 *   for that very identity, credentials tagged with the token's tags; with a user pool's ID token
 *   only when the pool trusts that user pool (`CognitoIdentityProviders`, tokens.ts) — a pool that
 *   trusts none answers every such token "Token is not from a supported provider of this identity
 *   pool.";
 * - GetId and GetOpenIdToken, public: user-pool logins as above; a Cognito token is refused ("Can't
 *   pass in a Cognito token."), and so is no login at all (unauthenticated identities are off).
 *
 * Errors carry the service's exception names (protocol.ts, caller.ts). The credentials handed out
 * are kept in `sessions` for the local DynamoDB isolation layer (sessions.ts).
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../../../authorizer/index.js';
import { listen } from '../listen.js';
import {
  authenticateCaller,
  authorizeCaller,
  type IamCaller,
  type IamCallerLookup,
} from './caller.js';
import {
  IdentityPoolConfigError,
  IdentityPoolError,
  ServiceError,
  ServiceErrorType,
} from './errors.js';
import {
  COGNITO_IDENTITY_LOGIN,
  createOpenIdTokens,
  type VerifiedOpenIdToken,
} from './openid-tokens.js';
import {
  decodeGetCredentialsForIdentityInput,
  decodeGetIdInput,
  decodeGetOpenIdTokenForDeveloperIdentityInput,
  decodeGetOpenIdTokenInput,
  errorResponse,
  type GetCredentialsForIdentityInput,
  type GetIdInput,
  type GetOpenIdTokenForDeveloperIdentityInput,
  type GetOpenIdTokenInput,
  OPERATIONS,
  type Operation,
  PUBLIC_OPERATIONS,
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
  sessionTagProblem,
} from './sessions.js';
import { createLoginVerifier, type IdentityPoolProvider, providerIssues } from './tokens.js';

export interface IdentityPoolOptions {
  /** The identity pool's region, e.g. `us-east-1`; IdentityIds start with it. */
  readonly region: string;
  /** `<region>:<uuid>`, e.g. the template's `!Ref IdentityPool` in a deployed stack. */
  readonly identityPoolId: string;
  /** The user pools the identity pool trusts (`CognitoIdentityProviders`). Default none. */
  readonly providers?: readonly IdentityPoolProvider[];
  /**
   * For user-pool logins: principal tag → claim (`AWS::Cognito::IdentityPoolPrincipalTag.PrincipalTags`),
   * e.g. `{ tenant_id: 'custom:tenant_id', user_id: 'sub' }`. At most 50 entries. Default none.
   */
  readonly principalTags?: Readonly<Record<string, string>>;
  /** The pool's `DeveloperProviderName` (`[\w._-]{1,128}`); without it no developer identities. */
  readonly developerProviderName?: string;
  /** The account of the pool's ARN (`…:identitypool/<id>`) that IAM policies name. Required with `developerProviderName`. */
  readonly accountId?: string;
  /**
   * The IAM principals of the stack by access key id (the functions' roles, tenant sessions): who
   * may sign GetOpenIdTokenForDeveloperIdentity, and what their policies allow. Default: nobody.
   */
  readonly callers?: IamCallerLookup;
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
  readonly GetOpenIdToken: number;
  readonly GetOpenIdTokenForDeveloperIdentity: number;
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
const DEVELOPER_PROVIDER = /^[\w._-]{1,128}$/;
const ACCOUNT_ID = /^\d{12}$/;
/** DeveloperUserIdentifier: 1–1024 characters (the model). */
const MAX_DEVELOPER_USER_LENGTH = 1024;
/** GetOpenIdTokenForDeveloperIdentity's default TokenDuration: 15 minutes. */
const DEFAULT_TOKEN_DURATION = 900;
/** GetOpenIdToken's tokens last 10 minutes (the model's documentation). */
const OPEN_ID_TOKEN_SECONDS = 600;

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
  issues.push(...providerIssues(o.providers ?? []));
  if (o.developerProviderName !== undefined) {
    if (
      typeof o.developerProviderName !== 'string' ||
      !DEVELOPER_PROVIDER.test(o.developerProviderName)
    )
      issues.push(
        `developerProviderName must be 1 to 128 of [A-Za-z0-9_.-], got ${JSON.stringify(o.developerProviderName)}`,
      );
    if (typeof o.accountId !== 'string' || !ACCOUNT_ID.test(o.accountId))
      issues.push(
        `accountId must be 12 digits (the pool's ARN), got ${JSON.stringify(o.accountId)}`,
      );
  } else if (Array.isArray(o.providers ?? []) && ((o.providers ?? []) as unknown[]).length === 0) {
    issues.push('the pool needs providers or a developerProviderName: it would serve nobody');
  }
  if (o.callers !== undefined && typeof o.callers !== 'function')
    issues.push('callers must be a function');
  const tags = o.principalTags ?? {};
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
  const { region, identityPoolId, developerProviderName } = options;
  const accountId = options.accountId ?? '';
  const mapping = Object.freeze({ ...(options.principalTags ?? {}) });
  const verifier = createLoginVerifier({
    providers: options.providers ?? [],
    now,
    fetch: options.fetch ?? fetch,
    jwksTimeoutMs: options.jwksTimeoutMs ?? 3000,
    jwksRefetchIntervalMs: options.jwksRefetchIntervalMs ?? 10_000,
  });
  // Drawn from node:crypto, not the injected `randomBytes` (which pins credentials in tests): the
  // key must never be predictable, and nothing needs to reproduce it.
  const tokens = createOpenIdTokens({ identityPoolId, secret: cryptoRandomBytes(32), now });
  const store = createSessionStore(options.randomBytes);
  /** IdentityIds handed out since start: an id not derivable from the caller's login but in here
   * belongs to someone else (NotAuthorized); one in neither does not exist (ResourceNotFound). */
  const issuedIdentityIds = new Set<string>();
  let calls = zeroCounts();
  let errors: Record<string, number> = {};

  const identityOf = (providerName: string, sub: string) =>
    identityIdFor(region, identityPoolId, providerName, sub);
  const notAuthorized = (message: string) =>
    new ServiceError(ServiceErrorType.notAuthorized, message);
  const LOGINS_MISMATCH =
    "Logins don't match. Please include at least one valid login for this identity or identity pool.";
  const NO_LINKING = 'The local stand-in does not link logins: send exactly one login';

  /**
   * The token verified, then — as Cognito does for a provider with ServerSideTokenCheck — the user
   * pool asked whether the user still stands: a deleted or disabled user gets no identity and no
   * credentials even with a token that is still valid. (The exception name is AWS's; the message
   * is ours.)
   */
  const verifyLogins = async (logins: Readonly<Record<string, string>>) => {
    // The pool's own OpenID tokens go to GetCredentialsForIdentity only (aws/aws-sdk-net#420,
    // aws-amplify/amplify-swift#2842 for GetId; the same answer on GetOpenIdToken is inferred).
    if (COGNITO_IDENTITY_LOGIN in logins)
      throw notAuthorized("Invalid login token. Can't pass in a Cognito token.");
    const login = await verifier.verify(logins);
    if (
      options.serverSideTokenCheck &&
      !(await options.serverSideTokenCheck(login.providerName, login.sub))
    ) {
      throw notAuthorized(
        'Invalid login token. The user pool no longer accepts this user (server-side token check).',
      );
    }
    return login;
  };

  /** The identity a login names must be the one asked for. */
  const checkIdentity = (asked: string, derived: string) => {
    if (asked === derived) return;
    if (issuedIdentityIds.has(asked)) throw notAuthorized(LOGINS_MISMATCH);
    throw new ServiceError(ServiceErrorType.resourceNotFound, `Identity '${asked}' not found.`);
  };

  const poolNotFound = (id: string) =>
    new ServiceError(ServiceErrorType.resourceNotFound, `IdentityPool '${id}' not found.`);

  /** Credentials for an identity, tagged; kept for the isolation layer. */
  const issueCredentials = (identityId: string, principalTags: Record<string, string>) => {
    issuedIdentityIds.add(identityId);
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

  const getId = async (input: GetIdInput) => {
    if (input.identityPoolId !== identityPoolId) throw poolNotFound(input.identityPoolId);
    const login = await verifyLogins(input.logins);
    const identityId = identityOf(login.providerName, login.sub);
    issuedIdentityIds.add(identityId);
    return { IdentityId: identityId };
  };

  /**
   * A token of this pool as the only login: its identity must be the one asked for, and its tags
   * must pass STS — a refusal there surfaces as InvalidIdentityPoolConfigurationException, the
   * service's error when the role cannot be assumed (inferred for tags; see sessions.ts).
   */
  const verifyCognitoLogin = (input: {
    identityId: string;
    logins: Readonly<Record<string, string>>;
  }) => {
    if (Object.keys(input.logins).length > 1)
      throw new ServiceError(ServiceErrorType.invalidParameter, NO_LINKING);
    const verified: VerifiedOpenIdToken = tokens.verify(input.logins[COGNITO_IDENTITY_LOGIN] ?? '');
    if (verified.identityId !== input.identityId || !verified.amr.includes('authenticated'))
      throw notAuthorized(LOGINS_MISMATCH);
    const keys = new Set<string>();
    for (const [key, value] of Object.entries(verified.principalTags)) {
      const problem =
        sessionTagProblem(key, value) ??
        (keys.has(key.toLowerCase()) ? `session tag ${key} is given twice` : undefined);
      keys.add(key.toLowerCase());
      if (problem)
        throw new ServiceError(
          ServiceErrorType.invalidIdentityPoolConfiguration,
          `Invalid identity pool configuration: ${problem}`,
        );
    }
    return verified;
  };

  const getCredentialsForIdentity = async (input: GetCredentialsForIdentityInput) => {
    if (COGNITO_IDENTITY_LOGIN in input.logins) {
      const verified = verifyCognitoLogin(input);
      return issueCredentials(verified.identityId, { ...verified.principalTags });
    }
    const login = await verifyLogins(input.logins);
    const identityId = identityOf(login.providerName, login.sub);
    checkIdentity(input.identityId, identityId);
    return issueCredentials(identityId, principalTagsFor(login.claims, mapping));
  };

  /** GetOpenIdToken: a user-pool login (only with a trusted provider) → a token of this pool. */
  const getOpenIdToken = async (input: GetOpenIdTokenInput) => {
    const login = await verifyLogins(input.logins);
    const identityId = identityOf(login.providerName, login.sub);
    checkIdentity(input.identityId, identityId);
    issuedIdentityIds.add(identityId);
    const token = tokens.mint(
      {
        identityId,
        amr: [
          'authenticated',
          login.providerName,
          `${login.providerName}:CognitoSignIn:${login.sub}`,
        ],
        principalTags: principalTagsFor(login.claims, mapping),
      },
      OPEN_ID_TOKEN_SECONDS,
    );
    return { IdentityId: identityId, Token: token };
  };

  /**
   * GetOpenIdTokenForDeveloperIdentity, after authentication: IAM on the pool's ARN first (as AWS
   * authorizes before it looks the pool up: a policy for this pool only gets AccessDenied for any
   * other id, existing or not), then the service's checks.
   */
  const getOpenIdTokenForDeveloperIdentity = (
    input: GetOpenIdTokenForDeveloperIdentityInput,
    caller: IamCaller,
  ) => {
    authorizeCaller(
      caller,
      'cognito-identity:GetOpenIdTokenForDeveloperIdentity',
      `arn:aws:cognito-identity:${region}:${accountId}:identitypool/${input.identityPoolId}`,
      { accountId, region },
    );
    if (input.identityPoolId !== identityPoolId) throw poolNotFound(input.identityPoolId);
    const user =
      developerProviderName === undefined ? undefined : input.logins[developerProviderName];
    if (user === undefined)
      // The text is the one users report (danilop/LambdAuth#32); the exception name is unconfirmed.
      throw notAuthorized('This identity pool does not support the specified developer provider');
    if (Object.keys(input.logins).length > 1)
      throw new ServiceError(ServiceErrorType.invalidParameter, NO_LINKING);
    if (user.length > MAX_DEVELOPER_USER_LENGTH)
      throw new ServiceError(
        ServiceErrorType.invalidParameter,
        `The developer user identifier must be 1 to ${MAX_DEVELOPER_USER_LENGTH} characters`,
      );
    const provider = developerProviderName as string;
    const identityId = identityOf(provider, user);
    if (input.identityId !== undefined && input.identityId !== identityId) {
      if (issuedIdentityIds.has(identityId))
        throw new ServiceError(
          ServiceErrorType.developerUserAlreadyRegistered,
          'This developer user identifier is already registered with Cognito.',
        );
      throw new ServiceError(
        ServiceErrorType.invalidParameter,
        'The local stand-in does not link a developer user to an existing identity',
      );
    }
    issuedIdentityIds.add(identityId);
    const token = tokens.mint(
      {
        identityId,
        amr: ['authenticated', provider, `${provider}:${identityPoolId}:${user}`],
        principalTags: input.principalTags ?? {},
      },
      input.tokenDuration ?? DEFAULT_TOKEN_DURATION,
    );
    return { IdentityId: identityId, Token: token };
  };

  const dispatch = async (
    operation: Operation,
    doc: Record<string, unknown>,
    caller?: IamCaller,
  ) => {
    switch (operation) {
      case 'GetId':
        return getId(decodeGetIdInput(doc));
      case 'GetCredentialsForIdentity':
        return getCredentialsForIdentity(decodeGetCredentialsForIdentityInput(doc));
      case 'GetOpenIdToken':
        return getOpenIdToken(decodeGetOpenIdTokenInput(doc));
      case 'GetOpenIdTokenForDeveloperIdentity':
        return getOpenIdTokenForDeveloperIdentity(
          decodeGetOpenIdTokenForDeveloperIdentityInput(doc),
          caller as IamCaller,
        );
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let bodyRead = false;
    try {
      const operation = parseTarget(
        req.method === 'POST' ? headerOf(req, 'x-amz-target') : undefined,
      );
      calls[operation]++;
      const body = await readBody(req);
      bodyRead = true;
      // Authentication before anything else, as the front end does: an unsigned or badly signed
      // call learns nothing about the pool, not even whether its input is valid.
      const caller = PUBLIC_OPERATIONS.has(operation)
        ? undefined
        : authenticateCaller(req, body, options.callers, { region, now: now() });
      const output = await dispatch(operation, parseJsonObject(body), caller);
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
  let endpoint: string;
  try {
    endpoint = await listen(server, host, options.port ?? 0);
  } catch (cause) {
    throw new IdentityPoolError(
      `identity pool stand-in could not listen on ${host}:${options.port ?? 0}`,
      { cause },
    );
  }
  let stopping: Promise<void> | undefined;

  return {
    endpoint,
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
