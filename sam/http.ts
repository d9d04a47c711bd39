/**
 * The control-plane functions' HTTP edge: one router for REST (v1) and HTTP API (v2) proxy events,
 * JSON bodies, and the one mapping from typed errors to status codes. Clients get a status, a message
 * and, for 400s, every problem with its field — never a stack trace; a 500 says only its request id.
 * Bodies are never logged: they carry refresh tokens.
 */
import {
  type Logger,
  readCallerContext,
  readTenantContext,
  type TenantContext,
  TenantContextError,
} from '../authorizer/index.js';
import { PolicyValidationError } from '../policy/index.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  PermissionDeniedError,
  RefreshTokenError,
  ReservedRoleError,
  RightsExceededError,
  RoleConflictError,
  RoleNotFoundError,
  TenantAccessError,
} from '../tenants/index.js';
import { withCors } from './cors.js';

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface ApiRequest {
  /** `METHOD /resource/{param}` as declared in template.yaml, for both API kinds. */
  readonly route: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** The raw event, for the authorizer context. */
  readonly event: unknown;
  /** The JSON body; `{}` when empty. @throws InvalidInputError when not a JSON object. */
  json(): Record<string, unknown>;
}

export type RouteHandler = (request: ApiRequest) => Promise<ApiResponse>;

export const json = (statusCode: number, body?: unknown): ApiResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: body === undefined ? '' : JSON.stringify(body),
});

const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

const strings = (v: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(record(v)).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );

/** Read a REST v1 or HTTP API v2 proxy event into the route it matched. */
export function parseApiEvent(event: unknown): ApiRequest {
  const e = record(event);
  const rc = record(e.requestContext);
  // HTTP API v2 names the route (`POST /tenants`); REST v1 gives method and resource separately.
  const route =
    typeof rc.routeKey === 'string' && rc.routeKey !== '$default'
      ? rc.routeKey
      : typeof e.routeKey === 'string' && e.routeKey !== '$default'
        ? e.routeKey
        : `${String(e.httpMethod ?? record(rc.http).method)} ${String(e.resource ?? rc.resourcePath ?? e.rawPath)}`;
  return {
    route,
    pathParameters: strings(e.pathParameters),
    query: strings(e.queryStringParameters),
    event,
    json() {
      if (e.body === undefined || e.body === null || e.body === '') return {};
      const text =
        e.isBase64Encoded === true
          ? Buffer.from(String(e.body), 'base64').toString('utf8')
          : String(e.body);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new InvalidInputError([{ field: 'body', message: 'must be JSON' }]);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new InvalidInputError([{ field: 'body', message: 'must be a JSON object' }]);
      return parsed as Record<string, unknown>;
    },
  };
}

/** The caller's tenant context, or a 403 when the caller has no active tenant. */
export function tenantOf(request: ApiRequest): TenantContext {
  try {
    return readTenantContext(request.event);
  } catch (error) {
    if (error instanceof TenantContextError && readCallerScope(request.event) === 'tenantless') {
      throw new TenantAccessError('no-active-tenant', 'create or switch to a tenant first');
    }
    throw error;
  }
}

const readCallerScope = (event: unknown) => {
  try {
    return readCallerContext(event).scope;
  } catch {
    return undefined;
  }
};

/** The typed errors' status codes; anything else is a 500 that names only the request id. */
export function errorResponse(error: unknown, logger: Logger, requestId: string): ApiResponse {
  if (error instanceof InvalidInputError)
    return json(400, { message: 'invalid request', issues: error.issues });
  if (error instanceof PolicyValidationError) {
    return json(400, {
      message: 'invalid role',
      issues: error.issues.map((i) => ({
        field: i.index === undefined ? i.field : `${i.field}[${i.index}]`,
        message: i.message,
      })),
    });
  }
  if (error instanceof PermissionDeniedError) {
    return json(403, {
      message: error.message,
      action: error.action,
      reason: error.reason,
      ...(error.matched ? { matched: error.matched } : {}),
      // The role, and the first of its patterns beyond the caller's own, with an example action.
      ...(error instanceof RightsExceededError
        ? { role: error.roleId, pattern: error.pattern, example: error.example, gap: error.gap }
        : {}),
    });
  }
  if (error instanceof TenantAccessError)
    return json(403, { message: error.message, reason: error.reason });
  if (error instanceof ReservedRoleError)
    return json(403, { message: error.message, reason: 'reserved-role' });
  if (error instanceof RefreshTokenError)
    return json(401, { message: error.message, reason: 'refresh-token' });
  if (error instanceof NotFoundError)
    return json(404, { message: error.message, kind: error.kind });
  if (error instanceof RoleNotFoundError)
    return json(404, { message: error.message, kind: 'role' });
  if (error instanceof ConflictError)
    return json(409, { message: error.message, reason: error.reason });
  if (error instanceof RoleConflictError)
    return json(409, { message: error.message, reason: 'conflict' });
  if (error instanceof TenantContextError) {
    // The function is behind the authorizer; an event without its context is a wiring fault.
    logger.error('no authorizer context', { error: (error as Error).message, requestId });
    return json(500, { message: 'internal error', requestId });
  }
  logger.error('request failed', {
    error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
    requestId,
  });
  return json(500, { message: 'internal error', requestId });
}

export interface RouterOptions {
  /** Browser origins whose pages may read the answers (`corsHeaders`). Default: none. */
  readonly allowedOrigins?: readonly string[];
}

/**
 * A Lambda handler serving `routes` (keys as in template.yaml: `POST /tenants`). An unknown route is a
 * 404; errors map through `errorResponse`; every answer carries the CORS headers (`withCors`).
 */
export function createRouter(
  routes: Readonly<Record<string, RouteHandler>>,
  logger: Logger,
  options: RouterOptions = {},
) {
  return withCors(route(routes, logger), options.allowedOrigins ?? []);
}

function route(routes: Readonly<Record<string, RouteHandler>>, logger: Logger) {
  return async (event: unknown, context?: { awsRequestId?: string }): Promise<ApiResponse> => {
    const requestId = context?.awsRequestId ?? 'unknown';
    let request: ApiRequest;
    try {
      request = parseApiEvent(event);
    } catch (error) {
      return errorResponse(error, logger, requestId);
    }
    const handle = routes[request.route];
    if (!handle) return json(404, { message: `no route ${request.route}` });
    try {
      return await handle(request);
    } catch (error) {
      return errorResponse(error, logger, requestId);
    }
  };
}
