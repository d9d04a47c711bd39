/**
 * The local user pool's front door: an HTTP server on the user-pool port that relays to cognito-local
 * (bound to loopback on a port of its own, never handed out) and makes its answers Cognito's where
 * cognito-local is weaker or different — the way sam/local/isolation fronts DynamoDB Local.
 *
 * What the front adds is listed per operation in `operations.ts`; everything else (the JWKS, the
 * other operations) passes through untouched.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../../../authorizer/index.js';
import { listen } from '../listen.js';
import type { UserPoolMessage } from './accounts.js';
import { cognitoLocalData, type UserPoolData } from './data.js';
import {
  CognitoErrorType,
  CognitoServiceError,
  UserPoolFrontConfigError,
  UserPoolFrontError,
} from './errors.js';
import { assertSigned, type CallAuthorizer, type SecretLookup } from './iam.js';
import { type Call, createOperations } from './operations.js';
import {
  errorResponse,
  operationOf,
  PUBLIC_OPERATIONS,
  parseJsonObject,
  readBody,
  type WireResponse,
  writeResponse,
} from './protocol.js';
import { createUpstream } from './upstream.js';

export interface UserPoolFrontOptions {
  /** cognito-local, e.g. `http://127.0.0.1:40123`. */
  readonly target: string;
  /** cognito-local's database directory (`<its cwd>/.cognito/db`), read for clients, pools, users. */
  readonly dataDir: string;
  /** The pool's region: the SigV4 credential scope of IAM-authorized calls. */
  readonly region: string;
  /**
   * The secret of an access key allowed to make IAM-authorized calls (`Admin*`, …), else
   * undefined. The local stack passes its own keys and the functions' role key.
   */
  readonly secretFor: SecretLookup;
  /**
   * What an authenticated key may do (IAM over its identity-based policy). Default: a key
   * `secretFor` knows may call every operation.
   */
  readonly authorize?: CallAuthorizer;
  /** Default 0: a free port. */
  readonly port?: number;
  /** A loopback address. Default `127.0.0.1`. */
  readonly host?: string;
  /** Where internal errors (bugs, cognito-local unreachable) are reported. Default: nowhere. */
  readonly logger?: Logger;
  /** Replaces the reader of `dataDir` (tests). */
  readonly data?: UserPoolData;
  /**
   * Each confirmation code, reset code, verification code or temporary password the pool "sends"
   * (cognito-local prints them to an output nobody reads). Default: dropped.
   */
  readonly onMessage?: (message: UserPoolMessage) => void;
  /** Milliseconds since the epoch (session lifetimes). Default `Date.now`. */
  readonly now?: () => number;
}

/** Calls per operation, and the front's own refusals by exception name. */
export interface UserPoolFrontStats {
  readonly calls: Readonly<Record<string, number>>;
  readonly refused: Readonly<Record<string, number>>;
}

export interface UserPoolFront {
  /** `http://127.0.0.1:<port>`: the user pool endpoint clients are given. */
  readonly endpoint: string;
  stats(): UserPoolFrontStats;
  /** Stops listening and closes connections. Idempotent. */
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function optionIssues(options: UserPoolFrontOptions): string[] {
  const issues: string[] = [];
  try {
    const url = new URL(options.target);
    if (url.protocol !== 'http:') issues.push('target must be an http:// URL');
  } catch {
    issues.push(`target must be a URL, got ${JSON.stringify(options.target)}`);
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(String(options.region)))
    issues.push(`region must look like us-east-1, got ${JSON.stringify(options.region)}`);
  if (typeof options.secretFor !== 'function') issues.push('secretFor must be a function');
  if (options.authorize !== undefined && typeof options.authorize !== 'function')
    issues.push('authorize must be a function');
  if (options.now !== undefined && typeof options.now !== 'function')
    issues.push('now must be a function');
  if (typeof options.dataDir !== 'string' || options.dataDir === '')
    issues.push('dataDir must be cognito-local’s database directory');
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535))
    issues.push('port must be an integer in 0–65535 (0: a free port)');
  if (options.host !== undefined && !LOOPBACK.has(options.host))
    issues.push(`host must be a loopback address (${[...LOOPBACK].join(', ')})`);
  return issues;
}

/**
 * Starts the front on loopback.
 * @throws UserPoolFrontConfigError listing every invalid option, before listening.
 * @throws UserPoolFrontError when the port cannot be bound.
 */
export async function startUserPoolFront(options: UserPoolFrontOptions): Promise<UserPoolFront> {
  const issues = optionIssues(options);
  if (issues.length > 0) throw new UserPoolFrontConfigError(issues);
  const host = options.host ?? '127.0.0.1';
  const upstream = createUpstream(new URL(options.target));
  const data = options.data ?? cognitoLocalData(options.dataDir);
  const now = options.now ?? Date.now;
  const operations = createOperations({
    upstream,
    data,
    now,
    ...(options.onMessage ? { onMessage: options.onMessage } : {}),
  });
  const calls: Record<string, number> = {};
  const refused: Record<string, number> = {};

  const answer = async (req: IncomingMessage): Promise<WireResponse> => {
    const body = await readBody(req);
    const target = req.headers['x-amz-target'];
    const operation =
      req.method === 'POST' && (req.url ?? '/') === '/'
        ? operationOf(Array.isArray(target) ? target[0] : target)
        : undefined;
    // The JWKS, CORS preflights, unknown targets: cognito-local answers them as it does.
    if (operation === undefined)
      return upstream.relay(req.method ?? 'GET', req.url ?? '/', req.headers, body);
    calls[operation] = (calls[operation] ?? 0) + 1;
    // Authentication comes first in AWS too: an unsigned Admin* call is refused unparsed.
    const accessKeyId = PUBLIC_OPERATIONS.has(operation)
      ? undefined
      : assertSigned(req, body, {
          region: options.region,
          now: now(),
          secretFor: options.secretFor,
        });
    const call: Call = {
      operation,
      input: parseJsonObject(body),
      body,
      headers: req.headers,
    };
    if (accessKeyId !== undefined && options.authorize) {
      const poolId = call.input.UserPoolId;
      const denied = options.authorize(
        accessKeyId,
        operation,
        typeof poolId === 'string' ? poolId : undefined,
      );
      if (denied) throw new CognitoServiceError(CognitoErrorType.accessDenied, denied);
    }
    return operations.handle(call);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let response: WireResponse;
    try {
      response = await answer(req);
    } catch (error) {
      const serviceError =
        error instanceof CognitoServiceError
          ? error
          : new CognitoServiceError(CognitoErrorType.internalError, 'An internal error occurred', {
              cause: error,
            });
      if (serviceError.type === CognitoErrorType.internalError)
        options.logger?.error('user pool front: internal error', {
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
      refused[serviceError.type] = (refused[serviceError.type] ?? 0) + 1;
      res.setHeader('connection', 'close');
      response = errorResponse(serviceError);
    }
    writeResponse(res, response);
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  let endpoint: string;
  try {
    endpoint = await listen(server, host, options.port ?? 0);
  } catch (cause) {
    upstream.close();
    throw new UserPoolFrontError(
      `user pool front could not listen on ${host}:${options.port ?? 0}`,
      {
        cause,
      },
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    stats: () => ({ calls: { ...calls }, refused: { ...refused } }),
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => {
          upstream.close();
          resolve();
        });
        // SDK clients keep connections alive; without this `close` waits for them to time out.
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
