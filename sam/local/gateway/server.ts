/**
 * A local API Gateway for the local stack: serves one REST API (v1 proxy events) or HTTP API
 * (payload 2.0) on loopback, runs a Lambda authorizer in front of the routes as API Gateway does —
 * identity-source check, result cache keyed on identity-source values, policy evaluation against
 * each request's method ARN — and invokes the route's handler in process.
 *
 * The cache keeps the authorizer's whole result and re-evaluates it for every request, so a policy
 * scoped to one method ARN fails on the next route within the TTL exactly as it does in AWS.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import type { Logger } from '../../../authorizer/index.js';
import {
  applyHttpCors,
  checkGatewayResponses,
  checkHttpCors,
  type GatewayResponseOptions,
  gatewayResponseFor,
  type HttpCorsOptions,
  httpPreflightHeaders,
  isPreflight,
  type RestCorsOptions,
  restPreflightHeaders,
} from './cors.js';
import { InvalidLambdaResponseError, LocalApiConfigError, LocalApiError } from './errors.js';
import {
  type ApiDescriptor,
  type AuthorizerResult,
  executeApiArn,
  type GatewayErrorKind,
  type GatewayRequest,
  type GatewayResponse,
  gatewayErrorResponse,
  headerValue,
  httpAuthorizerEvent,
  httpProxyEvent,
  parseHttpAuthorizerResult,
  parseHttpProxyResult,
  parseRestAuthorizerResult,
  parseRestProxyResult,
  queryParameters,
  restProxyEvent,
  restRequestAuthorizerEvent,
  tokenAuthorizerEvent,
} from './events.js';
import { evaluatePolicy } from './iam-match.js';
import { compileRoutes, type RouteMatch } from './routing.js';

/** The Lambda context a handler receives: the `aws-lambda` type, built per invocation. */
export type LambdaContext = Context;

/** A Lambda handler as the Node.js runtime calls it (async form). */
export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

export interface LocalRoute {
  /** `GET`, `POST`, … or `ANY`. */
  readonly method: string;
  /** `/me`, `/aircraft/{id}`, `/{proxy+}`; `$default` on HTTP APIs. */
  readonly path: string;
  readonly handler: LambdaHandler;
  /** For the Lambda context and logs. Default `LocalFunction`. */
  readonly functionName?: string;
  /** `NONE` serves the route without the authorizer. Default `CUSTOM` when an authorizer is set. */
  readonly authorization?: 'CUSTOM' | 'NONE';
}

export interface LocalAuthorizerOptions {
  readonly handler: LambdaHandler;
  /** REST only: `TOKEN` or `REQUEST`. HTTP API authorizers are always REQUEST, payload 2.0. */
  readonly type?: 'TOKEN' | 'REQUEST';
  /**
   * REST: `method.request.header.X`, `method.request.querystring.X`, `context.X`;
   * HTTP API: `$request.header.X`, `$request.querystring.X`, `$context.X`.
   */
  readonly identitySources: readonly string[];
  /** REST `ReauthorizeEvery` / HTTP `AuthorizerResultTtlInSeconds`; 0 disables the cache. */
  readonly resultTtlSeconds: number;
  /** HTTP API only: `EnableSimpleResponses`. */
  readonly simpleResponses?: boolean;
  /** For the Lambda context and logs. Default `LocalAuthorizer`. */
  readonly functionName?: string;
}

export interface LocalApiOptions {
  /** `rest`: REST API, v1 proxy events; `http`: HTTP API, payload 2.0. */
  readonly kind: 'rest' | 'http';
  /** REST e.g. `Prod`; HTTP `$default`. Appears in ARNs and the request context. */
  readonly stage: string;
  readonly apiId?: string;
  readonly region?: string;
  readonly accountId?: string;
  readonly routes: readonly LocalRoute[];
  readonly authorizer?: LocalAuthorizerOptions;
  /**
   * REST: SAM's `Cors` (an OPTIONS mock method on every path); HTTP API: `CorsConfiguration` (the
   * gateway answers preflights and adds the headers to every answer to an allowed origin).
   */
  readonly cors?: RestCorsOptions | HttpCorsOptions;
  /** REST only: `GatewayResponses` by type (UNAUTHORIZED, ACCESS_DENIED, DEFAULT_4XX, …). */
  readonly gatewayResponses?: Readonly<Record<string, GatewayResponseOptions>>;
  /** Clock for the authorizer result cache and request times (ms). Default `Date.now`. */
  readonly now?: () => number;
  /** Request and Lambda request ids. Default `crypto.randomUUID`. */
  readonly randomId?: () => string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Gets one line per request; never a header value, token or context value. */
  readonly logger?: Logger;
}

export interface LocalApiStats {
  readonly authorizerInvocations: number;
  readonly cacheHits: number;
}

export interface LocalApi {
  /** `http://127.0.0.1:<port>`, no trailing slash; paths are served without a stage prefix. */
  readonly url: string;
  stop(): Promise<void>;
  stats(): LocalApiStats;
}

/** API Gateway's payload limit: 10 MB. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Reported by `getRemainingTimeInMillis`; API Gateway gives up on an integration after 29 s. */
const FUNCTION_TIMEOUT_MS = 29_000;
/** Lambda authorizer results may be cached for at most an hour. */
const MAX_TTL_SECONDS = 3600;
/** Bounds the result cache of a long-running local stack; the oldest entry goes first. */
const MAX_CACHE_ENTRIES = 10_000;

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

type IdentitySource =
  | { readonly from: 'header' | 'querystring'; readonly name: string }
  | { readonly from: 'context'; readonly name: ContextVariable };

const CONTEXT_VARIABLES = {
  rest: ['httpMethod', 'resourcePath', 'path', 'stage', 'apiId', 'identity.sourceIp'],
  http: ['routeKey', 'httpMethod', 'path', 'stage', 'apiId', 'domainName', 'identity.sourceIp'],
} as const;
type ContextVariable =
  | (typeof CONTEXT_VARIABLES.rest)[number]
  | (typeof CONTEXT_VARIABLES.http)[number];

function parseIdentitySource(kind: 'rest' | 'http', expression: string): IdentitySource | string {
  const prefixes =
    kind === 'rest'
      ? {
          header: 'method.request.header.',
          querystring: 'method.request.querystring.',
          context: 'context.',
        }
      : { header: '$request.header.', querystring: '$request.querystring.', context: '$context.' };
  for (const from of ['header', 'querystring'] as const) {
    if (expression.startsWith(prefixes[from]) && expression.length > prefixes[from].length) {
      return { from, name: expression.slice(prefixes[from].length) };
    }
  }
  if (expression.startsWith(prefixes.context)) {
    const name = expression.slice(prefixes.context.length);
    const known: readonly string[] = CONTEXT_VARIABLES[kind];
    if (known.includes(name)) return { from: 'context', name: name as ContextVariable };
    return `identity source "${expression}": supported context variables are ${known.join(', ')}`;
  }
  return `identity source "${expression}" is not a ${kind === 'rest' ? 'REST' : 'HTTP API'} header, query string or context expression`;
}

interface AuthorizerConfig {
  readonly handler: LambdaHandler;
  readonly type: 'TOKEN' | 'REQUEST';
  readonly sources: readonly IdentitySource[];
  readonly ttlMs: number;
  readonly simpleResponses: boolean;
  readonly functionName: string;
}

interface RouteTarget {
  readonly handler: LambdaHandler;
  readonly functionName: string;
  readonly authorized: boolean;
  /** REST CORS: SAM's mock OPTIONS method, answering these headers; no function behind it. */
  readonly preflight?: readonly (readonly [string, string])[];
}

/** Validate every option once, listing every problem in one error. */
function validate(options: LocalApiOptions) {
  const issues: string[] = [];
  const kind = options.kind;
  if (kind !== 'rest' && kind !== 'http') issues.push(`kind must be rest or http, got "${kind}"`);
  // Keep validating the rest against REST rules so one run reports every problem.
  const flavour = kind === 'http' ? 'http' : 'rest';
  const api: ApiDescriptor = {
    kind,
    apiId: options.apiId ?? 'localapi01',
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '123456789012',
    stage: options.stage,
  };
  if (typeof api.stage !== 'string' || !/^[\w$-]+$/.test(api.stage)) {
    issues.push(`stage must be a stage name such as Prod or $default, got "${api.stage}"`);
  }
  if (!/^[a-z0-9]+$/.test(api.apiId)) issues.push(`apiId must be lower-case alphanumeric`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(api.region)) issues.push(`region "${api.region}" is invalid`);
  if (!/^\d{12}$/.test(api.accountId)) issues.push('accountId must be 12 digits');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    issues.push(`port must be an integer from 0 to 65535, got ${port}`);
  }

  let authorizer: AuthorizerConfig | undefined;
  const auth = options.authorizer;
  if (auth !== undefined) {
    const type = auth.type ?? 'REQUEST';
    if (typeof auth.handler !== 'function') issues.push('authorizer.handler must be a function');
    if (kind === 'http' && type !== 'REQUEST') {
      issues.push('authorizer.type: HTTP API Lambda authorizers are REQUEST authorizers');
    }
    if (type !== 'TOKEN' && type !== 'REQUEST') {
      issues.push(`authorizer.type must be TOKEN or REQUEST, got "${type}"`);
    }
    if (kind === 'rest' && auth.simpleResponses !== undefined) {
      issues.push('authorizer.simpleResponses exists only for HTTP APIs');
    }
    const ttl = auth.resultTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
      issues.push(`authorizer.resultTtlSeconds must be an integer from 0 to 3600, got ${ttl}`);
    }
    const sources: IdentitySource[] = [];
    for (const expression of auth.identitySources ?? []) {
      const parsed = parseIdentitySource(flavour, expression);
      if (typeof parsed === 'string') issues.push(`authorizer: ${parsed}`);
      else sources.push(parsed);
    }
    if (type === 'TOKEN' && (sources.length !== 1 || sources[0]?.from !== 'header')) {
      issues.push('authorizer: a TOKEN authorizer reads exactly one header identity source');
    }
    if (ttl > 0 && (auth.identitySources ?? []).length === 0) {
      issues.push('authorizer: caching (resultTtlSeconds > 0) needs at least one identity source');
    }
    authorizer = {
      handler: auth.handler,
      type,
      sources,
      ttlMs: ttl * 1000,
      simpleResponses: auth.simpleResponses === true,
      functionName: auth.functionName ?? 'LocalAuthorizer',
    };
  }

  if (!Array.isArray(options.routes) || options.routes.length === 0) {
    issues.push('routes must list at least one route');
  }
  const routeInputs = (Array.isArray(options.routes) ? options.routes : []).map((route, i) => {
    if (typeof route.handler !== 'function') issues.push(`routes[${i}].handler must be a function`);
    const authorization = route.authorization ?? (authorizer ? 'CUSTOM' : 'NONE');
    if (authorization !== 'CUSTOM' && authorization !== 'NONE') {
      issues.push(`routes[${i}].authorization must be CUSTOM or NONE, got "${authorization}"`);
    }
    if (authorization !== 'NONE' && !authorizer) {
      issues.push(`routes[${i}] asks for the authorizer but none is configured`);
    }
    const target: RouteTarget = {
      handler: route.handler,
      functionName: route.functionName ?? 'LocalFunction',
      // Anything but an explicit NONE goes through the authorizer: fail closed.
      authorized: authorization !== 'NONE',
    };
    return { method: route.method, path: route.path, target };
  });
  const cors = validateCors(options, issues);
  if (cors?.kind === 'rest')
    routeInputs.push(...restPreflightRoutes(routeInputs, cors.options, authorizer));
  const compiled = compileRoutes(routeInputs, kind === 'http');
  issues.push(...compiled.issues);
  if (issues.length > 0 || compiled.router === undefined) throw new LocalApiConfigError(issues);
  return {
    api: Object.freeze(api),
    authorizer,
    router: compiled.router,
    port,
    httpCors: cors?.kind === 'http' ? cors.options : undefined,
    gatewayResponses: options.gatewayResponses ?? {},
  };
}

type CorsConfig =
  | { readonly kind: 'rest'; readonly options: RestCorsOptions }
  | { readonly kind: 'http'; readonly options: HttpCorsOptions };

function validateCors(options: LocalApiOptions, issues: string[]): CorsConfig | undefined {
  if (options.gatewayResponses !== undefined) {
    if (options.kind !== 'rest') issues.push('gatewayResponses exist only for REST APIs');
    issues.push(...checkGatewayResponses(options.gatewayResponses));
  }
  const cors = options.cors;
  if (cors === undefined) return undefined;
  if (options.kind === 'http') {
    if (!('allowOrigins' in cors)) {
      issues.push('cors: an HTTP API takes allowOrigins (CorsConfiguration)');
      return undefined;
    }
    issues.push(...checkHttpCors(cors));
    return { kind: 'http', options: cors };
  }
  if (!('allowOrigin' in cors) || typeof cors.allowOrigin !== 'string') {
    issues.push('cors: a REST API takes allowOrigin (SAM Cors)');
    return undefined;
  }
  return { kind: 'rest', options: cors };
}

/**
 * SAM's CORS for a REST API: an OPTIONS method on every path that has none, a mock answering static
 * headers, behind the default authorizer unless `preflightAuthorized` is false.
 */
function restPreflightRoutes(
  routes: readonly { method: string; path: string; target: RouteTarget }[],
  cors: RestCorsOptions,
  authorizer: AuthorizerConfig | undefined,
): { method: string; path: string; target: RouteTarget }[] {
  const methods = new Map<string, string[]>();
  for (const r of routes) methods.set(r.path, [...(methods.get(r.path) ?? []), r.method]);
  const preflightAuthorized = (cors.preflightAuthorized ?? true) && authorizer !== undefined;
  return [...methods]
    .filter(([, list]) => !list.some((m) => m.toUpperCase() === 'OPTIONS'))
    .map(([path, list]) => ({
      method: 'OPTIONS',
      path,
      target: {
        handler: async () => undefined,
        functionName: 'CorsPreflight',
        authorized: preflightAuthorized,
        preflight: restPreflightHeaders(
          cors,
          list.some((m) => m.toUpperCase() === 'ANY')
            ? ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT']
            : list,
        ),
      },
    }));
}

const isUnauthorized = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)) === 'Unauthorized';

/** What Lambda returns after serializing the handler's result: JSON, `undefined` as null. */
function serialized(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

function createLambdaContext(
  api: ApiDescriptor,
  functionName: string,
  awsRequestId: string,
  now: () => number,
): LambdaContext {
  const deadline = now() + FUNCTION_TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${api.region}:${api.accountId}:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done() {},
    fail() {},
    succeed() {},
  };
}

type Authorization =
  | { readonly ok: true; readonly context: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly error: GatewayErrorKind };

/**
 * Start the local API. Options are validated before anything listens.
 * @throws LocalApiConfigError listing every invalid option.
 * @throws LocalApiError when the port cannot be bound.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const { api, authorizer, router, port, httpCors, gatewayResponses } = validate(options);
  const now = options.now ?? Date.now;
  const randomId = options.randomId ?? randomUUID;
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const cache = new Map<string, { result: AuthorizerResult; expiresAt: number }>();
  const counters = { authorizerInvocations: 0, cacheHits: 0 };
  const rest = api.kind === 'rest';

  const readSource = (
    source: IdentitySource,
    request: GatewayRequest,
    match: RouteMatch<RouteTarget>,
  ): string | undefined => {
    if (source.from === 'header') {
      // REST's single-value view keeps a repeated header's last value; HTTP APIs join them.
      if (!rest) return headerValue(request, source.name);
      const wanted = source.name.toLowerCase();
      return request.headers.findLast(([n]) => n.toLowerCase() === wanted)?.[1];
    }
    if (source.from === 'querystring') {
      const values = queryParameters(request.rawQueryString).get(source.name);
      return rest ? values?.at(-1) : values?.join(',');
    }
    switch (source.name) {
      case 'routeKey':
        return match.route.routeKey;
      case 'httpMethod':
        return request.method;
      case 'resourcePath':
        return match.route.path;
      case 'path':
        return rest ? `/${api.stage}${request.path}` : request.path;
      case 'stage':
        return api.stage;
      case 'apiId':
        return api.apiId;
      case 'domainName':
        return headerValue(request, 'host');
      case 'identity.sourceIp':
        return request.sourceIp;
    }
  };

  const decide = (result: AuthorizerResult, arn: string): Authorization => {
    if (result.kind === 'simple') {
      return result.isAuthorized
        ? { ok: true, context: result.context }
        : { ok: false, error: 'forbidden' };
    }
    const decision = evaluatePolicy(result.policy, arn);
    if (decision === 'allow') {
      return {
        ok: true,
        context: rest ? { ...result.context, principalId: result.principalId } : result.context,
      };
    }
    if (!rest) return { ok: false, error: 'forbidden' };
    return { ok: false, error: decision === 'explicit-deny' ? 'explicitDeny' : 'implicitDeny' };
  };

  const authorize = async (
    config: AuthorizerConfig,
    request: GatewayRequest,
    match: RouteMatch<RouteTarget>,
    log: Record<string, unknown>,
  ): Promise<Authorization> => {
    const arn = executeApiArn(api, request.method, request.path);
    const values = config.sources.map((s) => readSource(s, request, match));
    // "If a specified identity source is missing, null, or empty, API Gateway returns a 401
    // Unauthorized response without calling the authorizer Lambda function."
    if (values.some((v) => v === undefined || v === '')) {
      log.authorizer = 'identity-source-missing';
      return { ok: false, error: 'unauthorized' };
    }
    const identity = values as string[];
    const key = config.ttlMs > 0 ? JSON.stringify(identity) : undefined;
    const cached = key === undefined ? undefined : cache.get(key);
    if (cached !== undefined && now() < cached.expiresAt) {
      counters.cacheHits++;
      log.authorizer = 'cached';
      return decide(cached.result, arn);
    }
    if (cached !== undefined && key !== undefined) cache.delete(key);

    const event =
      config.type === 'TOKEN'
        ? tokenAuthorizerEvent(identity[0] as string, arn)
        : rest
          ? restRequestAuthorizerEvent(api, request, match, arn)
          : httpAuthorizerEvent(api, request, match, arn, identity);
    counters.authorizerInvocations++;
    log.authorizer = 'invoked';
    const failure: GatewayErrorKind = rest ? 'authorizerConfiguration' : 'internalServerError';
    let raw: unknown;
    try {
      raw = await config.handler(
        event,
        createLambdaContext(api, config.functionName, randomId(), now),
      );
    } catch (error) {
      if (isUnauthorized(error)) return { ok: false, error: 'unauthorized' };
      logger.error('authorizer failed', {
        functionName: config.functionName,
        error: error instanceof Error ? error.name : typeof error,
      });
      return { ok: false, error: failure };
    }
    let result: AuthorizerResult;
    try {
      const value = serialized(raw);
      result = rest
        ? parseRestAuthorizerResult(value)
        : parseHttpAuthorizerResult(value, config.simpleResponses);
    } catch (error) {
      logger.error('authorizer returned an invalid result', {
        functionName: config.functionName,
        error: error instanceof InvalidLambdaResponseError ? error.message : 'not serializable',
      });
      return { ok: false, error: failure };
    }
    if (key !== undefined) {
      if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
      cache.set(key, { result, expiresAt: now() + config.ttlMs });
    }
    return decide(result, arn);
  };

  const invoke = async (
    request: GatewayRequest,
    match: RouteMatch<RouteTarget>,
    context: Readonly<Record<string, unknown>> | undefined,
  ): Promise<GatewayResponse> => {
    const { handler, functionName } = match.route.target;
    const event = rest
      ? restProxyEvent(api, request, match, context)
      : httpProxyEvent(api, request, match, context);
    const failure = gatewayError(rest ? 'badGateway' : 'internalServerError', request);
    let raw: unknown;
    try {
      raw = await handler(event, createLambdaContext(api, functionName, randomId(), now));
    } catch (error) {
      logger.error('function failed', {
        functionName,
        error: error instanceof Error ? error.name : typeof error,
      });
      return failure;
    }
    try {
      const value = serialized(raw);
      return rest ? parseRestProxyResult(value) : parseHttpProxyResult(value);
    } catch (error) {
      logger.error('function returned an invalid result', {
        functionName,
        error: error instanceof InvalidLambdaResponseError ? error.message : 'not serializable',
      });
      return failure;
    }
  };

  /** API Gateway's own answer, with the headers (and status) of its configured gateway response. */
  const gatewayError = (kind: GatewayErrorKind, request: GatewayRequest): GatewayResponse => {
    const response = gatewayErrorResponse(kind, api, request.requestId);
    const custom = gatewayResponseFor(kind, response.statusCode, gatewayResponses, request);
    return custom === undefined
      ? response
      : {
          ...response,
          statusCode: custom.statusCode,
          headers: [...response.headers, ...custom.headers],
        };
  };

  const route = async (
    request: GatewayRequest,
    log: Record<string, unknown>,
  ): Promise<GatewayResponse> => {
    const match = router.match(request.method, request.path);
    // An HTTP API answers a preflight itself unless a route takes OPTIONS (an ANY or OPTIONS route,
    // or $default): then the route's authorizer decides it like any request.
    if (httpCors !== undefined && isPreflight(request) && match === undefined) {
      log.route = 'cors-preflight';
      return {
        statusCode: 204,
        headers: httpPreflightHeaders(httpCors, request),
        body: Buffer.alloc(0),
      };
    }
    if (match === undefined)
      return gatewayError(rest ? 'missingAuthenticationToken' : 'notFound', request);
    log.route = match.route.routeKey;
    let context: Readonly<Record<string, unknown>> | undefined;
    if (match.route.target.authorized && authorizer !== undefined) {
      const outcome = await authorize(authorizer, request, match, log);
      if (!outcome.ok) return gatewayError(outcome.error, request);
      context = outcome.context;
    }
    const preflight = match.route.target.preflight;
    if (preflight !== undefined)
      return { statusCode: 200, headers: preflight, body: Buffer.from('{}', 'utf8') };
    return invoke(request, match, context);
  };

  /** An HTTP API's CORS headers on any answer but its own preflight answer. */
  const withHttpCors = (request: GatewayRequest, response: GatewayResponse): GatewayResponse =>
    httpCors === undefined
      ? response
      : { ...response, headers: applyHttpCors(httpCors, request, response.headers) };

  const respondTo = async (
    request: GatewayRequest,
    log: Record<string, unknown>,
  ): Promise<GatewayResponse> => {
    const response = await route(request, log);
    return log.route === 'cors-preflight' ? response : withHttpCors(request, response);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = now();
    const requestId = randomId();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const log: Record<string, unknown> = { method: req.method, path };
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
    }
    const request: GatewayRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: path === '' ? '/' : path,
      rawQueryString: q === -1 ? '' : url.slice(q + 1),
      headers,
      body: Buffer.alloc(0),
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      requestId,
      timeEpoch: started,
    };
    const failure = () =>
      withHttpCors(request, gatewayError(rest ? 'badGateway' : 'internalServerError', request));
    let response: GatewayResponse;
    try {
      const body = await readBody(req);
      response =
        body === undefined
          ? withHttpCors(request, gatewayError('requestTooLarge', request))
          : await respondTo({ ...request, body }, log);
    } catch (error) {
      // Only our own bugs land here; answer like AWS's internal failure rather than hang.
      logger.error('local gateway failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      response = failure();
    }
    try {
      writeResponse(res, response, rest ? 'x-amzn-RequestId' : 'apigw-requestid', requestId);
    } catch (error) {
      // A header name or value Node refuses (from a handler): fail like a malformed result.
      logger.error('response could not be written', {
        error: error instanceof Error ? error.message : String(error),
      });
      if (!res.headersSent) {
        const replacement = failure();
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        writeResponse(res, replacement, rest ? 'x-amzn-RequestId' : 'apigw-requestid', requestId);
        response = replacement;
      } else res.destroy();
    }
    logger.info('request', { ...log, status: response.statusCode, ms: now() - started });
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new LocalApiError(`cannot listen on ${host}:${port}`, { cause: error })),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  logger.info('local API listening', { kind: api.kind, url: `http://${urlHost}:${address.port}` });

  return {
    url: `http://${urlHost}:${address.port}`,
    stats: () => ({ ...counters }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The request body, or undefined when it exceeds API Gateway's payload limit. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks);
}

/** Hop-by-hop and length headers are Node's to write; a handler's copy could corrupt framing. */
const MANAGED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);

function writeResponse(
  res: ServerResponse,
  response: GatewayResponse,
  requestIdHeader: string,
  requestId: string,
) {
  const grouped = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    if (MANAGED_HEADERS.has(lower)) continue;
    const entry = grouped.get(lower) ?? { name, values: [] };
    entry.values.push(value);
    grouped.set(lower, entry);
  }
  if (!grouped.has(requestIdHeader.toLowerCase())) {
    grouped.set(requestIdHeader.toLowerCase(), { name: requestIdHeader, values: [requestId] });
  }
  res.statusCode = response.statusCode;
  for (const { name, values } of grouped.values()) {
    res.setHeader(name, values.length === 1 ? (values[0] as string) : values);
  }
  res.end(response.body);
}
