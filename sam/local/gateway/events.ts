/**
 * The shapes API Gateway exchanges with Lambda, built and read in one place: authorizer events in
 * (REST TOKEN / REQUEST, HTTP API payload 2.0), authorizer results out, proxy events in (REST v1,
 * HTTP API 2.0), proxy results out, and the gateway's own error responses.
 *
 * Sources: api-gateway-lambda-authorizer-input/-output, http-api-lambda-authorizer,
 * set-up-lambda-proxy-integrations, http-api-develop-integrations-lambda and
 * supported-gateway-response-types in the API Gateway developer guide.
 */
import { InvalidLambdaResponseError } from './errors.js';
import { type PolicyDocument, parsePolicyDocument } from './iam-match.js';
import type { RouteMatch } from './routing.js';

/** The API a request arrived at. */
export interface ApiDescriptor {
  readonly kind: 'rest' | 'http';
  readonly apiId: string;
  readonly region: string;
  readonly accountId: string;
  readonly stage: string;
}

/** An HTTP request as the gateway received it. */
export interface GatewayRequest {
  /** Upper case. */
  readonly method: string;
  /** The path as sent (still percent-encoded), without the query string. */
  readonly path: string;
  /** The query string as sent, without `?`; `''` when none. */
  readonly rawQueryString: string;
  /** Header name/value pairs in arrival order, names as the client spelled them. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly requestId: string;
  /** Arrival time, ms since the epoch. */
  readonly timeEpoch: number;
}

/** A response the gateway writes. */
export interface GatewayResponse {
  readonly statusCode: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

// ---------------------------------------------------------------------------------------------
// Request pieces

const safeDecode = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/** Query parameters, decoded, every value kept in order. */
export function queryParameters(rawQueryString: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  if (rawQueryString === '') return params;
  for (const pair of rawQueryString.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = safeDecode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : safeDecode(pair.slice(eq + 1));
    params.set(name, [...(params.get(name) ?? []), value]);
  }
  return params;
}

/** REST v1: `headers` keeps the last value of a repeated header, `multiValueHeaders` all of them. */
function restHeaders(request: GatewayRequest) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of request.headers) {
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return { headers, multiValueHeaders };
}

/** REST v1 query: the last value in `queryStringParameters`, all in the multi-value map; null if none. */
function restQuery(request: GatewayRequest) {
  const params = queryParameters(request.rawQueryString);
  if (params.size === 0) {
    return { queryStringParameters: null, multiValueQueryStringParameters: null };
  }
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, values] of params) {
    single[name] = values[values.length - 1] as string;
    multi[name] = values;
  }
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

/**
 * HTTP API 2.0: header names lower-cased, repeated headers comma-joined; cookies move to `cookies`
 * (one entry per cookie).
 */
function httpHeaders(request: GatewayRequest) {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [rawName, value] of request.headers) {
    const name = rawName.toLowerCase();
    if (name === 'cookie') {
      cookies.push(...value.split(/;\s*/).filter((c) => c !== ''));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return { headers, cookies };
}

function httpQuery(request: GatewayRequest): Record<string, string> | undefined {
  const params = queryParameters(request.rawQueryString);
  if (params.size === 0) return undefined;
  const joined: Record<string, string> = {};
  for (const [name, values] of params) joined[name] = values.join(',');
  return joined;
}

/** Case-insensitive header lookup; a repeated header yields its values comma-joined. */
export function headerValue(request: GatewayRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const values = request.headers.filter(([n]) => n.toLowerCase() === wanted).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(',');
}

/** Text bodies travel as strings; anything that is not valid UTF-8 as base64. */
function encodeBody(body: Buffer): { body: string | null; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: null, isBase64Encoded: false };
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body)
    ? { body: text, isBase64Encoded: false }
    : { body: body.toString('base64'), isBase64Encoded: true };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `$context.requestTime`: `04/Mar/2020:19:15:17 +0000`. */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  return (
    `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  );
}

/**
 * The method ARN (REST) or route ARN (HTTP API) of a request: the request's own method and path, so
 * `GET /aircraft/42` → `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/GET/aircraft/42` and
 * `GET /` → `…/<stage>/GET/`.
 */
export function executeApiArn(api: ApiDescriptor, method: string, path: string): string {
  return `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${api.stage}/${method}/${path.replace(/^\//, '')}`;
}

const domainOf = (api: ApiDescriptor, request: GatewayRequest) =>
  headerValue(request, 'host') ?? `${api.apiId}.execute-api.${api.region}.amazonaws.com`;

function restRequestContext(api: ApiDescriptor, request: GatewayRequest, resourcePath: string) {
  const domainName = domainOf(api, request);
  return {
    accountId: api.accountId,
    apiId: api.apiId,
    domainName,
    domainPrefix: domainName.split('.')[0] ?? domainName,
    extendedRequestId: request.requestId,
    httpMethod: request.method,
    identity: {
      accessKey: null,
      accountId: null,
      caller: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: request.sourceIp,
      user: null,
      userAgent: headerValue(request, 'user-agent') ?? null,
      userArn: null,
    },
    path: `/${api.stage}${request.path}`,
    protocol: 'HTTP/1.1',
    requestId: request.requestId,
    requestTime: formatRequestTime(request.timeEpoch),
    requestTimeEpoch: request.timeEpoch,
    resourceId: null,
    resourcePath,
    stage: api.stage,
  };
}

function httpRequestContext(
  api: ApiDescriptor,
  request: GatewayRequest,
  routeKey: string,
): Record<string, unknown> {
  const domainName = domainOf(api, request);
  return {
    accountId: api.accountId,
    apiId: api.apiId,
    domainName,
    domainPrefix: domainName.split('.')[0] ?? domainName,
    http: {
      method: request.method,
      path: request.path,
      protocol: 'HTTP/1.1',
      sourceIp: request.sourceIp,
      userAgent: headerValue(request, 'user-agent') ?? '',
    },
    requestId: request.requestId,
    routeKey,
    stage: api.stage,
    time: formatRequestTime(request.timeEpoch),
    timeEpoch: request.timeEpoch,
  };
}

// ---------------------------------------------------------------------------------------------
// Authorizer events

/** REST TOKEN authorizer input: the token header's value as sent (a `Bearer ` prefix included). */
export const tokenAuthorizerEvent = (authorizationToken: string, methodArn: string) => ({
  type: 'TOKEN' as const,
  authorizationToken,
  methodArn,
});

/** REST REQUEST authorizer input (no body). */
export function restRequestAuthorizerEvent(
  api: ApiDescriptor,
  request: GatewayRequest,
  match: RouteMatch<unknown>,
  methodArn: string,
) {
  return {
    type: 'REQUEST' as const,
    methodArn,
    resource: match.route.path,
    path: request.path,
    httpMethod: request.method,
    ...restHeaders(request),
    ...restQuery(request),
    pathParameters: match.pathParameters ?? {},
    stageVariables: {},
    requestContext: restRequestContext(api, request, match.route.path),
  };
}

/** HTTP API payload 2.0 authorizer input; `identitySource` holds the identity source values. */
export function httpAuthorizerEvent(
  api: ApiDescriptor,
  request: GatewayRequest,
  match: RouteMatch<unknown>,
  routeArn: string,
  identitySource: readonly string[],
) {
  const { headers, cookies } = httpHeaders(request);
  const queryStringParameters = httpQuery(request);
  return {
    version: '2.0' as const,
    type: 'REQUEST' as const,
    routeArn,
    identitySource: [...identitySource],
    routeKey: match.route.routeKey,
    rawPath: request.path,
    rawQueryString: request.rawQueryString,
    ...(cookies.length === 0 ? {} : { cookies }),
    headers,
    ...(queryStringParameters === undefined ? {} : { queryStringParameters }),
    requestContext: httpRequestContext(api, request, match.route.routeKey),
    ...(match.pathParameters === null ? {} : { pathParameters: match.pathParameters }),
  };
}

// ---------------------------------------------------------------------------------------------
// Authorizer results

/** What an authorizer decided, kept whole so a cached result is re-evaluated per request. */
export type AuthorizerResult =
  | {
      readonly kind: 'policy';
      readonly principalId: string;
      readonly policy: PolicyDocument;
      /** REST: values stringified; HTTP API: values as returned. */
      readonly context: Readonly<Record<string, unknown>>;
    }
  | {
      readonly kind: 'simple';
      readonly isAuthorized: boolean;
      readonly context: Readonly<Record<string, unknown>>;
    };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const invalidAuthorizer = (message: string) =>
  new InvalidLambdaResponseError('authorizer', message);

/**
 * REST context values reach the function as strings: numbers and booleans are stringified, and
 * "you cannot set a JSON object or array as a valid value of any key in the context map".
 */
function stringifyContext(context: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(context)) {
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else throw invalidAuthorizer(`context.${key} must be a string, number or boolean`);
  }
  return out;
}

function readContext(result: Record<string, unknown>): Record<string, unknown> {
  const context = result.context;
  if (context === undefined || context === null) return {};
  if (!isRecord(context)) throw invalidAuthorizer('context must be an object');
  return context;
}

function readPolicyResult(
  result: Record<string, unknown>,
  context: Record<string, unknown>,
): AuthorizerResult {
  if (typeof result.principalId !== 'string') {
    throw invalidAuthorizer('principalId must be a string');
  }
  return Object.freeze({
    kind: 'policy',
    principalId: result.principalId,
    policy: parsePolicyDocument(result.policyDocument),
    context: Object.freeze(context),
  });
}

/**
 * Read a REST authorizer's result (after JSON serialization, as Lambda returns it).
 * @throws InvalidLambdaResponseError when API Gateway would answer AuthorizerConfigurationException.
 */
export function parseRestAuthorizerResult(result: unknown): AuthorizerResult {
  if (!isRecord(result)) throw invalidAuthorizer('the result must be an object');
  return readPolicyResult(result, stringifyContext(readContext(result)));
}

/** Read an HTTP API payload 2.0 authorizer's result: a simple response or an IAM policy. */
export function parseHttpAuthorizerResult(
  result: unknown,
  simpleResponses: boolean,
): AuthorizerResult {
  if (!isRecord(result)) throw invalidAuthorizer('the result must be an object');
  const context = readContext(result);
  if (simpleResponses) {
    if (typeof result.isAuthorized !== 'boolean') {
      throw invalidAuthorizer('isAuthorized must be a boolean');
    }
    return Object.freeze({
      kind: 'simple',
      isAuthorized: result.isAuthorized,
      context: Object.freeze(context),
    });
  }
  return readPolicyResult(result, context);
}

// ---------------------------------------------------------------------------------------------
// Proxy events

/** REST API Lambda proxy (v1) event; `authorizer` is the stringified context plus `principalId`. */
export function restProxyEvent(
  api: ApiDescriptor,
  request: GatewayRequest,
  match: RouteMatch<unknown>,
  authorizer: Readonly<Record<string, unknown>> | undefined,
) {
  const requestContext = restRequestContext(api, request, match.route.path);
  return {
    resource: match.route.path,
    path: request.path,
    httpMethod: request.method,
    ...restHeaders(request),
    ...restQuery(request),
    requestContext: authorizer === undefined ? requestContext : { ...requestContext, authorizer },
    pathParameters: match.pathParameters,
    stageVariables: null,
    ...encodeBody(request.body),
  };
}

/** HTTP API payload 2.0 event; a Lambda authorizer's context sits in `authorizer.lambda`. */
export function httpProxyEvent(
  api: ApiDescriptor,
  request: GatewayRequest,
  match: RouteMatch<unknown>,
  lambdaContext: Readonly<Record<string, unknown>> | undefined,
) {
  const { headers, cookies } = httpHeaders(request);
  const queryStringParameters = httpQuery(request);
  const requestContext = httpRequestContext(api, request, match.route.routeKey);
  const { body, isBase64Encoded } = encodeBody(request.body);
  return {
    version: '2.0' as const,
    routeKey: match.route.routeKey,
    rawPath: request.path,
    rawQueryString: request.rawQueryString,
    ...(cookies.length === 0 ? {} : { cookies }),
    headers,
    ...(queryStringParameters === undefined ? {} : { queryStringParameters }),
    requestContext:
      lambdaContext === undefined
        ? requestContext
        : { ...requestContext, authorizer: { lambda: lambdaContext } },
    ...(body === null ? {} : { body }),
    ...(match.pathParameters === null ? {} : { pathParameters: match.pathParameters }),
    isBase64Encoded,
  };
}

// ---------------------------------------------------------------------------------------------
// Proxy results

const invalidFunction = (message: string) => new InvalidLambdaResponseError('function', message);

const headerText = (value: unknown, label: string): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw invalidFunction(`${label} must be a string`);
};

function readStatusCode(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > 599) {
    throw invalidFunction('statusCode must be an integer from 100 to 599');
  }
  return value;
}

function readBody(result: Record<string, unknown>): Buffer {
  const { body, isBase64Encoded } = result;
  if (isBase64Encoded !== undefined && typeof isBase64Encoded !== 'boolean') {
    throw invalidFunction('isBase64Encoded must be a boolean');
  }
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body !== 'string') throw invalidFunction('body must be a string');
  return Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8');
}

function readHeaderMap(value: unknown, label: string): [string, string][] {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) throw invalidFunction(`${label} must be an object`);
  return Object.entries(value).map(([name, v]) => [name, headerText(v, `${label}.${name}`)]);
}

/**
 * Read a REST proxy integration result. "If the function output is of a different format, API
 * Gateway returns a 502 Bad Gateway error response."
 * @throws InvalidLambdaResponseError for that 502.
 */
export function parseRestProxyResult(result: unknown): GatewayResponse {
  if (!isRecord(result)) throw invalidFunction('the result must be an object with a statusCode');
  const statusCode = readStatusCode(result.statusCode);
  const single = readHeaderMap(result.headers, 'headers');
  const multi: [string, string][] = [];
  const multiNames = new Set<string>();
  if (result.multiValueHeaders !== undefined && result.multiValueHeaders !== null) {
    if (!isRecord(result.multiValueHeaders)) {
      throw invalidFunction('multiValueHeaders must be an object');
    }
    for (const [name, values] of Object.entries(result.multiValueHeaders)) {
      if (!Array.isArray(values)) throw invalidFunction(`multiValueHeaders.${name} must be a list`);
      multiNames.add(name.toLowerCase());
      for (const v of values) multi.push([name, headerText(v, `multiValueHeaders.${name}`)]);
    }
  }
  // "If the same key-value pair is specified in both, only the values from multiValueHeaders will
  // appear in the merged list."
  const headers = [...single.filter(([n]) => !multiNames.has(n.toLowerCase())), ...multi];
  return { statusCode, headers, body: readBody(result) };
}

/**
 * Read an HTTP API payload 2.0 result. Without a `statusCode`, API Gateway infers a 200
 * `application/json` response whose body is the result (a string as-is, anything else as JSON).
 * @throws InvalidLambdaResponseError for a structured result it would reject (500).
 */
export function parseHttpProxyResult(result: unknown): GatewayResponse {
  if (!isRecord(result) || result.statusCode === undefined) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return {
      statusCode: 200,
      headers: [['content-type', 'application/json']],
      body: Buffer.from(body, 'utf8'),
    };
  }
  const statusCode = readStatusCode(result.statusCode);
  const headers = readHeaderMap(result.headers, 'headers');
  if (result.cookies !== undefined && result.cookies !== null) {
    if (!Array.isArray(result.cookies) || !result.cookies.every((c) => typeof c === 'string')) {
      throw invalidFunction('cookies must be a list of strings');
    }
    for (const cookie of result.cookies as string[]) headers.push(['set-cookie', cookie]);
  }
  return { statusCode, headers, body: readBody(result) };
}

// ---------------------------------------------------------------------------------------------
// Gateway responses

/**
 * The gateway's own answers, with API Gateway's default bodies. REST responses carry
 * `x-amzn-ErrorType` as API Gateway does. The deny bodies use `Message` (capital M) as API Gateway
 * sends them on the wire; the explicit-deny text is the one AWS has sent since it began naming the
 * policy type in access-denied messages (earlier: "…with an explicit deny").
 */
export const GatewayError = {
  /** REST: no resource or method matches (MISSING_AUTHENTICATION_TOKEN, 403). */
  missingAuthenticationToken: {
    status: 403,
    type: 'MissingAuthenticationTokenException',
    body: { message: 'Missing Authentication Token' },
  },
  /** HTTP API: no route matches. */
  notFound: { status: 404, type: undefined, body: { message: 'Not Found' } },
  /** Missing identity source, or the authorizer failed with `Unauthorized` (UNAUTHORIZED, 401). */
  unauthorized: { status: 401, type: 'UnauthorizedException', body: { message: 'Unauthorized' } },
  /** REST: the policy does not allow the method ARN (ACCESS_DENIED, 403). */
  implicitDeny: {
    status: 403,
    type: 'AccessDeniedException',
    body: { Message: 'User is not authorized to access this resource' },
  },
  /** REST: a Deny statement covers the method ARN (ACCESS_DENIED, 403). */
  explicitDeny: {
    status: 403,
    type: 'AccessDeniedException',
    body: {
      Message:
        'User is not authorized to access this resource with an explicit deny in an identity-based policy',
    },
  },
  /** HTTP API: the authorizer refused (simple response false, or a policy that does not allow). */
  forbidden: { status: 403, type: undefined, body: { message: 'Forbidden' } },
  /** REST: the authorizer threw (not `Unauthorized`) or returned an invalid result (500). */
  authorizerConfiguration: {
    status: 500,
    type: 'AuthorizerConfigurationException',
    body: { message: null },
  },
  /** REST: the function threw or returned a malformed proxy result (502). */
  badGateway: {
    status: 502,
    type: 'InternalServerErrorException',
    body: { message: 'Internal server error' },
  },
  /** HTTP API: the authorizer or the function failed (500). */
  internalServerError: { status: 500, type: undefined, body: { message: 'Internal Server Error' } },
  /** The payload exceeds API Gateway's 10 MB limit (REQUEST_TOO_LARGE, 413). */
  requestTooLarge: {
    status: 413,
    type: 'RequestTooLargeException',
    body: { message: 'Request Too Long' },
  },
} as const;
export type GatewayErrorKind = keyof typeof GatewayError;

/** Render a gateway error as the HTTP response API Gateway sends. */
export function gatewayErrorResponse(
  kind: GatewayErrorKind,
  api: ApiDescriptor,
  requestId: string,
): GatewayResponse {
  const error = GatewayError[kind];
  const headers: [string, string][] = [['content-type', 'application/json']];
  if (api.kind === 'rest') {
    headers.push(['x-amzn-RequestId', requestId]);
    if (error.type !== undefined) headers.push(['x-amzn-ErrorType', error.type]);
  } else {
    headers.push(['apigw-requestid', requestId]);
  }
  return {
    statusCode: error.status,
    headers,
    body: Buffer.from(JSON.stringify(error.body), 'utf8'),
  };
}
