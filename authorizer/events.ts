/**
 * The only file that knows API Gateway's authorizer event and response shapes: REST TOKEN, REST
 * REQUEST, HTTP API payload 1.0 and 2.0 in; IAM policy or HTTP API simple response out.
 */

/** Which API Gateway flavour sent the event; decides the response shape. */
export const EventKind = {
  restToken: 'rest-token',
  restRequest: 'rest-request',
  httpV1: 'http-v1',
  httpV2: 'http-v2',
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** `arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path…>` split up. */
export interface ExecuteApiArn {
  readonly prefix: string; // arn:<partition>:execute-api:<region>:<account>:<apiId>
  readonly stage: string;
  readonly method: string;
  /** Resource path with a leading `/`, `''` for `$default` routes. */
  readonly path: string;
}

/** An authorizer event reduced to what authorization needs. */
export interface AuthorizationRequest {
  readonly kind: EventKind;
  /** The raw token (a `Bearer ` prefix removed), or undefined when none was sent. */
  readonly token: string | undefined;
  /** The ARN the policy must cover (`methodArn` or `routeArn`). */
  readonly arn: string;
  readonly parsedArn: ExecuteApiArn | undefined;
  /** `METHOD /path` of the route: the template where API Gateway gives it, else the ARN's path. */
  readonly route: string;
  /** The request's host, lower case, port removed; undefined for TOKEN events. */
  readonly host: string | undefined;
}

/** A policy statement's effect. */
export type Effect = 'Allow' | 'Deny';

/** The answer to a REST API (or HTTP API `iam`) authorizer event: an IAM policy for `execute-api:Invoke`. */
export interface IamPolicyResponse {
  /** The caller's `sub` (API Gateway's `$context.authorizer.principalId`). */
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow' | 'Deny'; Resource: string[] }[];
  };
  /** The tenant context (all values strings); decode it with `readTenantContext`. */
  context?: Record<string, string>;
}

/** The answer to an HTTP API payload 2.0 event with `EnableSimpleResponses`. */
export interface SimpleResponse {
  isAuthorized: boolean;
  /** The tenant context (all values strings), or `denyReason` on a refusal. */
  context?: Record<string, string>;
}

/** What the authorizer handler resolves to: an IAM policy, or an HTTP API simple response. */
export type AuthorizerResponse = IamPolicyResponse | SimpleResponse;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/**
 * Strip an optional `Bearer ` scheme (case-insensitive, as RFC 6750 allows) and surrounding
 * whitespace. An empty result is "no token".
 */
export function extractToken(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim().replace(/^bearer(?:\s+|$)/i, '');
  return value === '' ? undefined : value;
}

/**
 * Case-insensitive header lookup over `headers` and `multiValueHeaders`. Several values (a repeated
 * header) are ambiguous for a credential, so they yield undefined: we refuse rather than pick one.
 */
export function findHeader(event: Json, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const found: string[] = [];
  const { headers, multiValueHeaders } = event;
  if (isObject(headers)) {
    for (const key in headers) {
      if (key.toLowerCase() !== wanted) continue;
      const value = asString(headers[key]);
      if (value !== undefined) found.push(value);
    }
  }
  if (isObject(multiValueHeaders)) {
    for (const key in multiValueHeaders) {
      if (key.toLowerCase() !== wanted) continue;
      const values = multiValueHeaders[key];
      if (Array.isArray(values)) for (const v of values) if (typeof v === 'string') found.push(v);
    }
  }
  const distinct = new Set(found);
  return distinct.size === 1 ? found[0] : undefined;
}

/** Parse an execute-api method or route ARN; undefined when it is not one. */
export function parseExecuteApiArn(arn: string): ExecuteApiArn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || parts[2] !== 'execute-api') return undefined;
  const [apiId, stage, method, ...rest] = parts.slice(5).join(':').split('/');
  if (!apiId || !stage || !method) return undefined;
  return {
    prefix: `${parts.slice(0, 5).join(':')}:${apiId}`,
    stage,
    method: method.toUpperCase(),
    path: rest.length === 0 ? '' : `/${rest.join('/')}`,
  };
}

const normalizeHost = (host: string | undefined): string | undefined => {
  if (host === undefined) return undefined;
  const trimmed = host.trim().toLowerCase();
  // Drop a port; IPv6 literals are not tenant hosts, so no bracket handling is needed.
  const colon = trimmed.lastIndexOf(':');
  const bare = colon === -1 ? trimmed : trimmed.slice(0, colon);
  return bare === '' ? undefined : bare.replace(/\.$/, '');
};

const routeOf = (method: string | undefined, path: string | undefined, arn?: ExecuteApiArn) => {
  const m = (method ?? arn?.method ?? '').toUpperCase();
  const p = path ?? arn?.path ?? '';
  return `${m} ${p === '' ? '/' : p}`;
};

/**
 * Reduce any supported authorizer event to an `AuthorizationRequest`. Never throws: an event of no
 * known shape yields `kind: rest-token` with no token and no ARN, which the orchestration turns
 * into `Unauthorized` — a malformed event must not find a path to Allow.
 */
export function parseAuthorizerEvent(event: unknown): AuthorizationRequest {
  const e: Json = isObject(event) ? event : {};
  if (e.version === '2.0') {
    const arn = asString(e.routeArn) ?? '';
    const parsedArn = parseExecuteApiArn(arn);
    const requestContext = isObject(e.requestContext) ? e.requestContext : {};
    const http = isObject(requestContext.http) ? requestContext.http : {};
    // identitySource may also carry `$context.routeKey` (needed with simple responses and caching),
    // so the Authorization header wins; identitySource[0] is the fallback for custom header names.
    const identitySource = Array.isArray(e.identitySource) ? e.identitySource : [];
    const token = extractToken(findHeader(e, 'authorization') ?? asString(identitySource[0]));
    const routeKey = asString(e.routeKey);
    return {
      kind: EventKind.httpV2,
      token,
      arn,
      parsedArn,
      route:
        routeKey && routeKey !== '$default'
          ? routeKey
          : routeOf(asString(http.method), asString(e.rawPath), parsedArn),
      host: normalizeHost(findHeader(e, 'host') ?? asString(requestContext.domainName)),
    };
  }
  const arn = asString(e.methodArn) ?? '';
  const parsedArn = parseExecuteApiArn(arn);
  if (e.type === 'TOKEN') {
    return {
      kind: EventKind.restToken,
      token: extractToken(asString(e.authorizationToken)),
      arn,
      parsedArn,
      route: routeOf(undefined, undefined, parsedArn),
      host: undefined,
    };
  }
  if (e.type === 'REQUEST') {
    const requestContext = isObject(e.requestContext) ? e.requestContext : {};
    // HTTP API 1.0 sends `version: '1.0'`, REST REQUEST sends no version.
    const kind = e.version === '1.0' ? EventKind.httpV1 : EventKind.restRequest;
    const headerToken = findHeader(e, 'authorization');
    const token = extractToken(
      headerToken ?? (kind === EventKind.httpV1 ? asString(e.authorizationToken) : undefined),
    );
    const resource = asString(e.resource);
    return {
      kind,
      token,
      arn,
      parsedArn,
      route: routeOf(
        asString(e.httpMethod),
        resource && resource !== '$default' ? resource : asString(e.path),
        parsedArn,
      ),
      host: normalizeHost(findHeader(e, 'host') ?? asString(requestContext.domainName)),
    };
  }
  return {
    kind: EventKind.restToken,
    token: undefined,
    arn,
    parsedArn,
    route: 'GET /',
    host: undefined,
  };
}

/** The ARN that covers every method and path of the event's API stage. */
export const apiWideArn = (arn: ExecuteApiArn): string => `${arn.prefix}/${arn.stage}/*/*`;

/**
 * The ARN of one `METHOD /path` route of the event's API stage. Path parameters (`{id}`, `{proxy+}`)
 * and the `ANY` method become `*`, which IAM matches across any characters.
 */
export const routeArn = (arn: ExecuteApiArn, route: string): string => {
  const space = route.indexOf(' ');
  const method = route.slice(0, space);
  const path = route
    .slice(space + 1)
    .split('/')
    .map((segment) => (/^\{[^}]+\}$/.test(segment) ? '*' : segment))
    .join('/');
  return `${arn.prefix}/${arn.stage}/${method === 'ANY' ? '*' : method}${path}`;
};

/** An IAM policy response with one statement. */
export function iamResponse(
  principalId: string,
  effect: Effect,
  resources: string[],
  context?: Record<string, string>,
): IamPolicyResponse {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resources }],
    },
    ...(context === undefined ? {} : { context }),
  };
}

/** An HTTP API simple response (`EnableSimpleResponses: true`). */
export const simpleResponse = (
  isAuthorized: boolean,
  context?: Record<string, string>,
): SimpleResponse => ({ isAuthorized, ...(context === undefined ? {} : { context }) });
