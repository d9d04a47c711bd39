/**
 * IAM enforced locally: an HTTP proxy in front of DynamoDB Local (which enforces no IAM) that judges
 * every call signed by a principal of the stack — a tenant session from the identity pool, or a
 * function's own role — against that principal's identity-based policy, as IAM would, and answers
 * refusals as DynamoDB does. So a bug that builds another tenant's key, or a template that forgets
 * (or overgrants) a function's permission, fails on a laptop with `AccessDeniedException`, not in
 * production.
 *
 * A judged call (its SigV4 access key id is one `lookupSession` knows) is, in order: authenticated
 * like STS/DynamoDB would (session token, expiry → `ExpiredTokenException`, signature with the
 * session's secret), mapped to IAM checks (`dynamodb-requests.ts`: LeadingKeys from the request,
 * transactions per item), judged (`iam.ts`) with the session's evaluator (a tenant session: the
 * tenant data role's policy with its principal tags), then forwarded byte for byte (headers,
 * signature, body) with the response streamed back — or refused with a DynamoDB-shaped 400 and
 * nothing forwarded. Any other call (the stack's own provisioning key, dummy keys) is streamed
 * through untouched.
 */
import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import {
  DescribeTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../../authorizer/index.js';
import { listen } from '../listen.js';
import { credentialAccessKeyId, parseAuthorization, verifySignature } from '../sigv4.js';
import {
  type AccessCheck,
  analyzeRequest,
  dynamoDbErrorType,
  type KeySchemaLookup,
  parseRequestBody,
  parseTarget,
  type TableKeySchema,
} from './dynamodb-requests.js';
import {
  IamPolicyError,
  IsolationConfigError,
  IsolationError,
  KeySchemaUnavailableError,
  RequestRejectedError,
} from './errors.js';
import {
  createIamEvaluator,
  type IamContextValue,
  IamDecision,
  type IamEvaluator,
  type IamPolicyDocument,
  principalTagContext,
} from './iam.js';

/**
 * A principal the proxy judges: a tenant session the identity-pool stand-in handed out, or a
 * function's stand-in role.
 */
export interface SessionInfo {
  readonly secretAccessKey: string;
  /** When known, the call's `X-Amz-Security-Token` must be exactly this. */
  readonly sessionToken?: string;
  /** Temporary credentials expire; absent: valid while the stack runs (a function's role key). */
  readonly expiration?: Date;
  /** Session tags (`aws:PrincipalTag/…`). */
  readonly principalTags?: Readonly<Record<string, string>>;
  /** The Cognito identity of a tenant session (`cognito-identity.amazonaws.com:sub`, logs). */
  readonly identityId?: string;
  /** Judges this principal's calls. Default: the proxy's `policy` (the tenant data role's). */
  readonly evaluator?: IamEvaluator;
  /**
   * Named in refusals. Default `arn:aws:sts::<account>:assumed-role/<roleName>/CognitoIdentityCredentials`
   * (a tenant session of the tenant data role).
   */
  readonly principalArn?: string;
  /** `aws:PrincipalArn`, the role's ARN. Default the tenant data role's. */
  readonly roleArn?: string;
}

export interface IsolationProxyOptions {
  /** DynamoDB Local, e.g. `http://127.0.0.1:8000` (run with `-sharedDb`: keys differ per session). */
  readonly target: string;
  /** The principals judged: an access key id → its session, or undefined to pass the call through. */
  readonly lookupSession: (accessKeyId: string) => SessionInfo | undefined;
  /**
   * The tenant data role's policy, `!Sub`-resolved except its `${aws:PrincipalTag/…}` variables:
   * judges every session that brings no evaluator of its own.
   */
  readonly policy: IamPolicyDocument;
  readonly region: string;
  readonly accountId: string;
  /** The role the sessions assume, for the `assumed-role` ARN in refusals. Default `TenantDataRole`. */
  readonly roleName?: string;
  /** Known key schemas by table name; other tables are read once with DescribeTable and cached. */
  readonly keySchemas?: Readonly<Record<string, TableKeySchema>>;
  /** How an unknown table's key schema is read. Default: DescribeTable against `target`. */
  readonly describeKeySchema?: KeySchemaLookup;
  /** Verify judged calls' SigV4 signatures with the session's secret. Default true. */
  readonly verifySignatures?: boolean;
  /** Largest judged request body read. Default 16 MiB (DynamoDB's own request limit). */
  readonly maxBodyBytes?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. The proxy passes unknown credentials through: keep it off shared networks. */
  readonly host?: string;
}

/** Counts since start, for tests and the local stack's summary. */
export interface IsolationDecisions {
  /** Authorizations granted (checks of forwarded calls), by IAM action. */
  readonly allowed: Readonly<Record<string, number>>;
  /** Calls refused by IAM, by the IAM action of the first check refused. */
  readonly denied: Readonly<Record<string, number>>;
  /** Judged calls refused before IAM (expired, bad signature, malformed), by DynamoDB error name. */
  readonly rejected: Readonly<Record<string, number>>;
  /** Judged calls (allowed or denied) by the principal ARN they were judged as. */
  readonly byPrincipal: Readonly<Record<string, number>>;
  /** Calls with credentials that are no principal's, forwarded untouched. */
  readonly passedThrough: number;
}

export interface IsolationProxy {
  readonly endpoint: string;
  decisions(): IsolationDecisions;
  /** Stops listening and closes connections; idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
/** The session name Cognito Identity gives the role sessions it creates. */
const SESSION_NAME = 'CognitoIdentityCredentials';
/** Table operations after which a cached key schema may be stale. */
const SCHEMA_CHANGES = new Set(['CreateTable', 'DeleteTable', 'UpdateTable']);
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function validate(options: IsolationProxyOptions): {
  target: URL;
  evaluator: IamEvaluator;
} {
  const issues: string[] = [];
  let target: URL | undefined;
  try {
    target = new URL(options.target);
    if (target.protocol !== 'http:') issues.push('target must be an http:// URL');
  } catch {
    issues.push(`target must be a URL, got ${JSON.stringify(options.target)}`);
  }
  if (typeof options.lookupSession !== 'function') issues.push('lookupSession must be a function');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(String(options.region)))
    issues.push('region must be an AWS region, e.g. us-east-1');
  if (!/^\d{12}$/.test(String(options.accountId))) issues.push('accountId must be 12 digits');
  if (options.roleName !== undefined && !/^[\w+=,.@-]{1,64}$/.test(options.roleName))
    issues.push('roleName must be an IAM role name');
  if (options.now !== undefined && typeof options.now !== 'function')
    issues.push('now must be a function');
  if (options.describeKeySchema !== undefined && typeof options.describeKeySchema !== 'function')
    issues.push('describeKeySchema must be a function');
  if (
    options.maxBodyBytes !== undefined &&
    !(Number.isSafeInteger(options.maxBodyBytes) && options.maxBodyBytes > 0)
  )
    issues.push('maxBodyBytes must be a positive integer');
  if (
    options.port !== undefined &&
    !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)
  )
    issues.push('port must be an integer from 0 to 65535');
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host === ''))
    issues.push('host must be a non-empty string');
  for (const [table, schema] of Object.entries(options.keySchemas ?? {})) {
    if (typeof schema?.partitionKey !== 'string' || schema.partitionKey === '')
      issues.push(`keySchemas.${table}.partitionKey must be a non-empty string`);
  }
  let evaluator: IamEvaluator | undefined;
  try {
    evaluator = createIamEvaluator(options.policy);
  } catch (error) {
    if (!(error instanceof IamPolicyError)) throw error;
    issues.push(...error.issues.map((i) => `policy: ${i}`));
  }
  if (issues.length > 0 || !target || !evaluator) throw new IsolationConfigError(issues);
  return { target, evaluator };
}

/** DescribeTable against DynamoDB Local, straight (not through the proxy), with dummy credentials. */
function describeWith(client: DynamoDBClient): KeySchemaLookup {
  return async (name) => {
    let table: TableDescription | undefined;
    try {
      table = (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
    const hash = (keys: readonly KeySchemaElement[] | undefined) =>
      keys?.find((k) => k.KeyType === 'HASH')?.AttributeName;
    const partitionKey = hash(table?.KeySchema);
    if (!partitionKey) throw new Error(`DescribeTable ${name} returned no HASH key`);
    const indexes: Record<string, string> = {};
    for (const i of [
      ...(table?.GlobalSecondaryIndexes ?? []),
      ...(table?.LocalSecondaryIndexes ?? []),
    ]) {
      const key = hash(i.KeySchema);
      if (i.IndexName && key) indexes[i.IndexName] = key;
    }
    return { partitionKey, indexes };
  };
}

/**
 * Start the isolation proxy on loopback. Options are validated first (every problem in one
 * `IsolationConfigError`, the policy's included); resolves once listening.
 */
export async function startIsolationProxy(options: IsolationProxyOptions): Promise<IsolationProxy> {
  const { target, evaluator } = validate(options);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silent;
  const roleName = options.roleName ?? 'TenantDataRole';
  const tenantPrincipal = `arn:aws:sts::${options.accountId}:assumed-role/${roleName}/${SESSION_NAME}`;
  const tenantRoleArn = `arn:aws:iam::${options.accountId}:role/${roleName}`;
  const verifySignatures = options.verifySignatures ?? true;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const agent = new Agent({ keepAlive: true });

  let client: DynamoDBClient | undefined;
  const describe =
    options.describeKeySchema ??
    ((table: string) => {
      client ??= new DynamoDBClient({
        endpoint: options.target,
        region: options.region,
        // DynamoDB Local 2.x refuses access key ids that are not [A-Za-z0-9]+.
        credentials: { accessKeyId: 'IsolationProxy', secretAccessKey: 'local' },
        maxAttempts: 2,
      });
      return describeWith(client)(table);
    });
  // Only found schemas are cached: a missing table may be created next, and a failure retried.
  const schemas = new Map<string, Promise<TableKeySchema | undefined>>();
  const keySchema: KeySchemaLookup = (table) => {
    const known = options.keySchemas?.[table];
    if (known) return known;
    let found = schemas.get(table);
    if (!found) {
      found = Promise.resolve(describe(table));
      schemas.set(table, found);
      found.then(
        (s) => s === undefined && schemas.delete(table),
        () => schemas.delete(table),
      );
    }
    return found;
  };

  const counts = {
    allowed: {} as Record<string, number>,
    denied: {} as Record<string, number>,
    rejected: {} as Record<string, number>,
    byPrincipal: {} as Record<string, number>,
    passedThrough: 0,
  };
  const bump = (map: Record<string, number>, key: string) => {
    map[key] = (map[key] ?? 0) + 1;
  };

  const answer = (res: ServerResponse, status: number, errorType: string, message: string) => {
    const body = JSON.stringify({ __type: dynamoDbErrorType(errorType), Message: message });
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(body);
  };
  const reject = (res: ServerResponse, status: number, errorType: string, message: string) => {
    bump(counts.rejected, errorType);
    answer(res, status, errorType, message);
  };

  /** Forward as received: raw headers (signature included), the body, and stream the answer back. */
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    const operation = parseTarget(req.headers['x-amz-target']);
    const upstream = httpRequest({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.rawHeaders,
      setHost: false,
      agent,
    });
    upstream.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
      up.pipe(res);
      if (operation && SCHEMA_CHANGES.has(operation)) up.on('end', () => schemas.clear());
    });
    upstream.on('error', (error) => {
      if (res.headersSent) res.destroy(error);
      else
        answer(res, 502, 'InternalServerError', `DynamoDB Local did not answer: ${error.message}`);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (body) upstream.end(body);
    else req.pipe(upstream);
  };

  const readBody = async (req: IncomingMessage): Promise<Buffer | undefined> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= maxBodyBytes) chunks.push(chunk); // past the limit: drain, keep nothing
    }
    return size <= maxBodyBytes ? Buffer.concat(chunks) : undefined;
  };

  const contextFor = (session: SessionInfo, check: AccessCheck) => {
    const context: Record<string, IamContextValue> = {
      ...principalTagContext(session.principalTags ?? {}),
      'aws:PrincipalType': 'AssumedRole',
      'aws:PrincipalAccount': options.accountId,
      'aws:PrincipalArn': session.roleArn ?? tenantRoleArn,
      'aws:RequestedRegion': options.region,
    };
    if (session.identityId !== undefined)
      context['cognito-identity.amazonaws.com:sub'] = session.identityId;
    if (check.leadingKeys) context['dynamodb:LeadingKeys'] = check.leadingKeys;
    return context;
  };

  const judgeCall = async (req: IncomingMessage, res: ServerResponse, session: SessionInfo) => {
    const body = await readBody(req);
    if (!body)
      return reject(res, 413, 'ValidationException', `Request body exceeds ${maxBodyBytes} bytes`);
    // Authentication first, as AWS does: a bad token or signature is never an authorization question.
    const token = req.headersDistinct['x-amz-security-token'];
    if (
      session.sessionToken !== undefined &&
      (token?.length !== 1 || token[0] !== session.sessionToken)
    )
      return reject(
        res,
        400,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    if (session.expiration !== undefined && session.expiration.getTime() <= now())
      return reject(
        res,
        400,
        'ExpiredTokenException',
        'The security token included in the request is expired',
      );
    if (verifySignatures) {
      const auth = parseAuthorization(req.headers.authorization);
      if (!auth)
        return reject(
          res,
          400,
          'IncompleteSignatureException',
          'The Authorization header is not a valid AWS4-HMAC-SHA256 signature',
        );
      const problem = verifySignature(
        {
          method: req.method ?? 'POST',
          url: req.url ?? '/',
          headers: req.headersDistinct,
          body,
        },
        auth,
        session.secretAccessKey,
        { region: options.region, service: 'dynamodb', now: now() },
      );
      if (problem) return reject(res, 400, problem.errorType, problem.message);
    }
    const operation = parseTarget(req.headers['x-amz-target']);
    if (!operation)
      return reject(res, 400, 'UnknownOperationException', 'An unknown operation was requested.');
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity')
      return reject(res, 400, 'SerializationException', `Unsupported Content-Encoding ${encoding}`);

    let checks: AccessCheck[];
    try {
      checks = await analyzeRequest(operation, parseRequestBody(body.toString('utf8')), {
        region: options.region,
        accountId: options.accountId,
        keySchema,
      });
    } catch (error) {
      if (error instanceof RequestRejectedError)
        return reject(res, 400, error.errorType, error.message);
      logger.error('isolation proxy: could not judge a call', {
        operation,
        error: String(error),
        cause: String((error as Error).cause ?? ''),
      });
      const message =
        error instanceof KeySchemaUnavailableError
          ? `isolation proxy: ${error.message}`
          : 'isolation proxy: the request could not be judged';
      return reject(res, 500, 'InternalServerError', message);
    }

    const principal = session.principalArn ?? tenantPrincipal;
    const judge = session.evaluator ?? evaluator;
    bump(counts.byPrincipal, principal);
    for (const check of checks) {
      const refuse = (why: string) => {
        bump(counts.denied, check.action);
        logger.warn('isolation proxy: AccessDenied', {
          action: check.action,
          resource: check.resource,
          principal,
          ...(session.identityId === undefined ? {} : { identityId: session.identityId }),
          why,
        });
        answer(
          res,
          400,
          'AccessDeniedException',
          `User: ${principal} is not authorized to perform: ${check.action} on resource: ${check.resource} ${why}`,
        );
      };
      if (check.undetermined)
        return refuse(
          `because the isolation proxy could not determine dynamodb:LeadingKeys: ${check.undetermined}`,
        );
      const { decision } = judge.evaluate({
        action: check.action,
        resource: check.resource,
        context: contextFor(session, check),
      });
      if (decision === IamDecision.explicitDeny)
        return refuse('with an explicit deny in an identity-based policy');
      if (decision !== IamDecision.allow)
        return refuse(`because no identity-based policy allows the ${check.action} action`);
    }
    for (const check of checks) bump(counts.allowed, check.action);
    forward(req, res, body);
  };

  const server = createServer((req, res) => {
    const accessKeyId = credentialAccessKeyId(req.headers.authorization);
    let session: SessionInfo | undefined;
    try {
      session = accessKeyId === undefined ? undefined : options.lookupSession(accessKeyId);
    } catch (error) {
      // Fail closed: a registry that cannot answer must not turn a judged call into a pass-through.
      logger.error('isolation proxy: lookupSession threw', { error: String(error) });
      req.resume();
      return reject(res, 500, 'InternalServerError', 'isolation proxy: session lookup failed');
    }
    if (!session) {
      counts.passedThrough++;
      return forward(req, res);
    }
    judgeCall(req, res, session).catch((error: unknown) => {
      logger.error('isolation proxy: judged call failed', { error: String(error) });
      if (!res.headersSent) answer(res, 500, 'InternalServerError', 'isolation proxy failure');
      else res.destroy();
    });
  });

  const host = options.host ?? '127.0.0.1';
  const endpoint = await listen(server, host, options.port ?? 0).catch((error: unknown) => {
    throw new IsolationError(`isolation proxy could not listen on ${host}`, { cause: error });
  });
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    decisions: () => ({
      allowed: { ...counts.allowed },
      denied: { ...counts.denied },
      rejected: { ...counts.rejected },
      byPrincipal: { ...counts.byPrincipal },
      passedThrough: counts.passedThrough,
    }),
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
        client?.destroy();
      });
      return stopped;
    },
  };
}
