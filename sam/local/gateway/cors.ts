/**
 * CORS as API Gateway does it, for the local gateway. Pure: options are validated once, then each
 * request is answered from them.
 *
 * - **REST** (SAM `Cors`, `GatewayResponses`): SAM adds an OPTIONS method with a mock integration to
 *   every path, answering 200 with static headers — the same `Access-Control-Allow-Origin` whatever
 *   the request's Origin, since a mock integration cannot check it — and, unless
 *   `Auth.AddDefaultAuthorizerToCorsPreflight: false`, with the default authorizer in front. The
 *   integration's own answers pass through unchanged. API Gateway's own answers (401, 403, 5XX…) get
 *   the headers of their gateway response type, else of DEFAULT_4XX / DEFAULT_5XX
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 * - **HTTP API** (`CorsConfiguration`): API Gateway answers a preflight itself when no route takes
 *   OPTIONS, checks the Origin against the list, and on every other answer to an allowed origin —
 *   the integration's or its own — replaces the integration's CORS headers with its own
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
 */
import type { GatewayErrorKind, GatewayRequest } from './events.js';
import { headerValue } from './events.js';

/** REST gateway response types the local gateway produces, and the defaults they fall back to. */
export const GATEWAY_RESPONSE_TYPES = {
  missingAuthenticationToken: 'MISSING_AUTHENTICATION_TOKEN',
  unauthorized: 'UNAUTHORIZED',
  implicitDeny: 'ACCESS_DENIED',
  explicitDeny: 'ACCESS_DENIED',
  authorizerConfiguration: 'AUTHORIZER_CONFIGURATION_ERROR',
  requestTooLarge: 'REQUEST_TOO_LARGE',
  // A failed or malformed Lambda proxy answer has no type of its own.
  badGateway: 'DEFAULT_5XX',
} as const satisfies Partial<Record<GatewayErrorKind, string>>;

export type GatewayResponseType =
  | (typeof GATEWAY_RESPONSE_TYPES)[keyof typeof GATEWAY_RESPONSE_TYPES]
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX';

const KNOWN_TYPES: readonly string[] = [
  ...new Set([...Object.values(GATEWAY_RESPONSE_TYPES), 'DEFAULT_4XX', 'DEFAULT_5XX']),
];

export interface GatewayResponseOptions {
  /** Overrides the status, as `StatusCode` does. */
  readonly statusCode?: number;
  /**
   * Header name → mapping expression, as in `ResponseParameters.Headers`: a static `'value'` or
   * `method.request.header.<Name>` (the request's header, or none when absent).
   */
  readonly headers?: Readonly<Record<string, string>>;
}

/** REST API CORS: the values of SAM's `Cors` property, unquoted. */
export interface RestCorsOptions {
  readonly allowOrigin: string;
  readonly allowHeaders?: string;
  /** Absent: each path lists its own methods and OPTIONS, upper case, sorted (as SAM does). */
  readonly allowMethods?: string;
  readonly maxAge?: string;
  readonly allowCredentials?: boolean;
  /** `Auth.AddDefaultAuthorizerToCorsPreflight`; SAM's default is true. */
  readonly preflightAuthorized?: boolean;
}

/** HTTP API CORS: `CorsConfiguration`. */
export interface HttpCorsOptions {
  readonly allowOrigins: readonly string[];
  readonly allowHeaders?: readonly string[];
  readonly allowMethods?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  readonly maxAge?: number;
  readonly allowCredentials?: boolean;
}

type Header = readonly [string, string];

/** A gateway response's header expression, checked: issues are returned, not thrown. */
export function checkHeaderExpression(expression: string): string | undefined {
  if (/^'[^']*'$/.test(expression)) return undefined;
  if (/^method\.request\.header\.[A-Za-z0-9!#$%&*+.^_`|~-]+$/.test(expression)) return undefined;
  return `"${expression}" must be a static 'value' or method.request.header.<Name> locally`;
}

/** Validate gateway responses once. */
export function checkGatewayResponses(
  responses: Readonly<Record<string, GatewayResponseOptions>>,
): string[] {
  const issues: string[] = [];
  for (const [type, response] of Object.entries(responses)) {
    if (!KNOWN_TYPES.includes(type))
      issues.push(
        `gatewayResponses.${type}: the local gateway produces only ${KNOWN_TYPES.join(', ')}`,
      );
    const status = response.statusCode;
    if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599))
      issues.push(`gatewayResponses.${type}.statusCode must be an HTTP status`);
    for (const [name, expression] of Object.entries(response.headers ?? {})) {
      const issue = checkHeaderExpression(expression);
      if (issue) issues.push(`gatewayResponses.${type}.headers.${name}: ${issue}`);
    }
  }
  return issues;
}

/**
 * The configured gateway response for a gateway error: its own type's, else DEFAULT_4XX or DEFAULT_5XX
 * by status; its headers evaluated against the request.
 */
export function gatewayResponseFor(
  kind: GatewayErrorKind,
  status: number,
  responses: Readonly<Record<string, GatewayResponseOptions>>,
  request: GatewayRequest | undefined,
): { statusCode: number; headers: Header[] } | undefined {
  const type = (GATEWAY_RESPONSE_TYPES as Partial<Record<GatewayErrorKind, string>>)[kind];
  const fallback = status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
  const response = (type === undefined ? undefined : responses[type]) ?? responses[fallback];
  if (response === undefined) return undefined;
  const headers: Header[] = [];
  for (const [name, expression] of Object.entries(response.headers ?? {})) {
    const value = expression.startsWith("'")
      ? expression.slice(1, -1)
      : request && headerValue(request, expression.slice('method.request.header.'.length));
    if (value !== undefined) headers.push([name, value]);
  }
  return { statusCode: response.statusCode ?? status, headers };
}

/** The static answer of SAM's mock OPTIONS method on a path whose routes take `methods`. */
export function restPreflightHeaders(cors: RestCorsOptions, methods: readonly string[]): Header[] {
  const allowMethods =
    cors.allowMethods ??
    [...new Set([...methods.map((m) => m.toUpperCase()), 'OPTIONS'])].sort().join(',');
  return [
    ['Content-Type', 'application/json'],
    ['Access-Control-Allow-Origin', cors.allowOrigin],
    ...(cors.allowHeaders === undefined
      ? []
      : [['Access-Control-Allow-Headers', cors.allowHeaders] as const]),
    ['Access-Control-Allow-Methods', allowMethods],
    ...(cors.maxAge === undefined ? [] : [['Access-Control-Max-Age', cors.maxAge] as const]),
    ...(cors.allowCredentials ? [['Access-Control-Allow-Credentials', 'true'] as const] : []),
  ];
}

const ORIGIN_FORM = /^https?:\/\/[^/\s]+$/;

/** Validate an HTTP API CORS configuration once. */
export function checkHttpCors(cors: HttpCorsOptions): string[] {
  const issues: string[] = [];
  if (!Array.isArray(cors.allowOrigins) || cors.allowOrigins.length === 0)
    issues.push('cors.allowOrigins must list at least one origin');
  for (const origin of cors.allowOrigins ?? [])
    if (origin !== '*' && !ORIGIN_FORM.test(origin))
      issues.push(`cors.allowOrigins: "${origin}" is not an origin (scheme://host[:port])`);
  if (cors.allowCredentials && cors.allowOrigins?.includes('*'))
    issues.push('cors: allowCredentials cannot go with the * origin');
  if (cors.maxAge !== undefined && !(Number.isInteger(cors.maxAge) && cors.maxAge >= 0))
    issues.push('cors.maxAge must be a whole number of seconds');
  return issues;
}

/** The Origin an HTTP API allows for this request, or undefined. */
function allowedOrigin(cors: HttpCorsOptions, request: GatewayRequest): string | undefined {
  const origin = headerValue(request, 'origin');
  if (origin === undefined) return undefined;
  if (cors.allowOrigins.includes(origin)) return origin;
  return cors.allowOrigins.includes('*') ? '*' : undefined;
}

/** Whether the request is a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method). */
export function isPreflight(request: GatewayRequest): boolean {
  return (
    request.method === 'OPTIONS' &&
    headerValue(request, 'origin') !== undefined &&
    headerValue(request, 'access-control-request-method') !== undefined
  );
}

/** HTTP API's own answer to a preflight: 204, with the CORS headers only for an allowed origin. */
export function httpPreflightHeaders(cors: HttpCorsOptions, request: GatewayRequest): Header[] {
  const origin = allowedOrigin(cors, request);
  if (origin === undefined) return [];
  const list = (values: readonly string[] | undefined) =>
    values && values.length > 0 ? values.join(',') : undefined;
  const headers: Header[] = [['access-control-allow-origin', origin]];
  const methods = list(cors.allowMethods);
  const allowHeaders = list(cors.allowHeaders);
  if (methods) headers.push(['access-control-allow-methods', methods]);
  if (allowHeaders) headers.push(['access-control-allow-headers', allowHeaders]);
  if (cors.maxAge !== undefined) headers.push(['access-control-max-age', String(cors.maxAge)]);
  if (cors.allowCredentials) headers.push(['access-control-allow-credentials', 'true']);
  return headers;
}

/**
 * HTTP API on any other answer: the integration's CORS headers are dropped ("API Gateway ignores CORS
 * headers returned from your backend integration") and, for an allowed origin, its own added.
 */
export function applyHttpCors(
  cors: HttpCorsOptions,
  request: GatewayRequest,
  headers: readonly Header[],
): Header[] {
  const kept = headers.filter(([name]) => !name.toLowerCase().startsWith('access-control-'));
  const origin = allowedOrigin(cors, request);
  if (origin === undefined) return kept;
  kept.push(['access-control-allow-origin', origin]);
  if (cors.allowCredentials) kept.push(['access-control-allow-credentials', 'true']);
  if (cors.exposeHeaders && cors.exposeHeaders.length > 0)
    kept.push(['access-control-expose-headers', cors.exposeHeaders.join(',')]);
  return kept;
}
