/**
 * Route matching as API Gateway selects a route
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html):
 * the most specific path wins — a literal segment before `{param}` before `{proxy+}` — a route for the
 * request's method before an `ANY` route, and an HTTP API's `$default` route catches the rest.
 * Pure: routes are compiled and validated once, matching allocates only the result.
 */

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/** The catch-all route of an HTTP API. */
export const DEFAULT_ROUTE = '$default';

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

/** Lower ranks are more specific. */
const RANK = { literal: 0, param: 1, greedy: 2 } as const;

export interface CompiledRoute<T> {
  /** `GET`, … or `ANY`. */
  readonly method: string;
  /** The resource template: `/aircraft/{id}`, or `$default`. */
  readonly path: string;
  /** HTTP API route key: `GET /aircraft/{id}`, `ANY /{proxy+}` or `$default`. */
  readonly routeKey: string;
  readonly segments: readonly Segment[];
  readonly target: T;
}

export interface RouteMatch<T> {
  readonly route: CompiledRoute<T>;
  /** Decoded path parameter values; null when the route has none (as API Gateway sends it). */
  readonly pathParameters: Readonly<Record<string, string>> | null;
}

export interface Router<T> {
  readonly routes: readonly CompiledRoute<T>[];
  match(method: string, path: string): RouteMatch<T> | undefined;
}

export interface RouteInput<T> {
  readonly method: string;
  readonly path: string;
  readonly target: T;
}

const PARAM = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/;
// Path segments API Gateway accepts: alphanumerics, underscores, hyphens, periods, commas, colons
// and curly braces (api-gateway-known-issues).
const LITERAL = /^[A-Za-z0-9_.,:-]+$/;

function parsePath(path: string, issues: string[], label: string): Segment[] | undefined {
  if (!path.startsWith('/')) {
    issues.push(`${label}: path must start with "/"`);
    return undefined;
  }
  if (path === '/') return [];
  const parts = path.slice(1).split('/');
  const segments: Segment[] = [];
  const names = new Set<string>();
  for (const [i, part] of parts.entries()) {
    const param = PARAM.exec(part);
    if (param) {
      const name = param[1] as string;
      const greedy = param[2] === '+';
      if (names.has(name)) issues.push(`${label}: path parameter {${name}} appears twice`);
      names.add(name);
      if (greedy && i !== parts.length - 1) {
        issues.push(`${label}: a greedy parameter {${name}+} must be the last segment`);
      }
      segments.push(greedy ? { kind: 'greedy', name } : { kind: 'param', name });
    } else if (LITERAL.test(part)) {
      segments.push({ kind: 'literal', value: part });
    } else {
      issues.push(`${label}: invalid path segment "${part}"`);
      return undefined;
    }
  }
  return segments;
}

const safeDecode = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/** Match the request segments against a route; path parameters when it matches. */
function matchSegments(
  segments: readonly Segment[],
  parts: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    if (segment.kind === 'greedy') {
      const rest = parts.slice(i);
      // `{proxy+}` needs at least one non-empty segment: `/{proxy+}` does not match `/`.
      if (rest.length === 0 || rest.every((p) => p === '')) return undefined;
      params[segment.name] = safeDecode(rest.join('/'));
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (segment.kind === 'literal') {
      if (part !== segment.value) return undefined;
    } else {
      if (part === '') return undefined;
      params[segment.name] = safeDecode(part);
    }
  }
  return segments.length === parts.length ? params : undefined;
}

/** Negative when `a` is more specific than `b`: segment by segment, literal < param < greedy. */
function compareSpecificity(a: readonly Segment[], b: readonly Segment[]): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === undefined ? 1 : -1;
    const diff = RANK[x.kind] - RANK[y.kind];
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * Compile and validate routes once.
 * @param allowDefault whether `$default` is a valid path (HTTP APIs only).
 * @returns the router, or the list of problems found.
 */
export function compileRoutes<T>(
  inputs: readonly RouteInput<T>[],
  allowDefault: boolean,
): { router: Router<T>; issues: [] } | { router: undefined; issues: string[] } {
  const issues: string[] = [];
  const routes: CompiledRoute<T>[] = [];
  const seen = new Set<string>();
  for (const [i, input] of inputs.entries()) {
    const method = typeof input.method === 'string' ? input.method.toUpperCase() : '';
    const label = `routes[${i}] (${method} ${input.path})`;
    if (method !== 'ANY' && !(HTTP_METHODS as readonly string[]).includes(method)) {
      issues.push(`${label}: method must be one of ${HTTP_METHODS.join(', ')} or ANY`);
    }
    if (typeof input.path !== 'string') {
      issues.push(`routes[${i}]: path must be a string`);
      continue;
    }
    const isDefault = input.path === DEFAULT_ROUTE;
    if (isDefault && !allowDefault) {
      issues.push(`${label}: $default routes exist only in HTTP APIs`);
      continue;
    }
    const segments = isDefault ? [] : parsePath(input.path, issues, label);
    if (segments === undefined) continue;
    const routeKey = isDefault ? DEFAULT_ROUTE : `${method} ${input.path}`;
    if (seen.has(routeKey)) issues.push(`${label}: duplicate route ${routeKey}`);
    seen.add(routeKey);
    routes.push(
      Object.freeze({ method, path: input.path, routeKey, segments, target: input.target }),
    );
  }
  if (issues.length > 0) return { router: undefined, issues };

  const defaultRoute = routes.find((r) => r.path === DEFAULT_ROUTE);
  const pathRoutes = routes.filter((r) => r !== defaultRoute);
  const router: Router<T> = {
    routes: Object.freeze(routes),
    match(method, path) {
      const wanted = method.toUpperCase();
      const parts = path === '/' || path === '' ? [] : path.replace(/^\//, '').split('/');
      let best: RouteMatch<T> | undefined;
      for (const route of pathRoutes) {
        if (route.method !== wanted && route.method !== 'ANY') continue;
        const params = matchSegments(route.segments, parts);
        if (params === undefined) continue;
        if (best !== undefined) {
          const order = compareSpecificity(route.segments, best.route.segments);
          // Equal paths: the route for the method beats ANY ("ANY matches all methods that you
          // haven't defined for a route").
          if (order > 0 || (order === 0 && route.method === 'ANY')) continue;
        }
        best = {
          route,
          pathParameters: Object.keys(params).length === 0 ? null : Object.freeze(params),
        };
      }
      if (best === undefined && defaultRoute !== undefined) {
        return { route: defaultRoute, pathParameters: null };
      }
      return best;
    },
  };
  return { router, issues: [] };
}
