/**
 * CORS for the functions behind the APIs: the one place their answers get `Access-Control-Allow-Origin`.
 * Kept apart from http.ts so a function without the control plane (whoami) bundles it alone.
 */

/** A proxy handler's answer (REST v1 and HTTP API v2 alike). */
interface ProxyResponse {
  readonly statusCode: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The request's `Origin`, from REST (any case, multi-value) or HTTP API (lower case) headers. */
function requestOrigin(event: unknown): string | undefined {
  const e = record(event);
  const values: string[] = [];
  for (const [name, value] of Object.entries(record(e.multiValueHeaders)))
    if (name.toLowerCase() === 'origin' && Array.isArray(value)) values.push(...value.map(String));
  if (values.length === 0)
    for (const [name, value] of Object.entries(record(e.headers)))
      if (name.toLowerCase() === 'origin' && typeof value === 'string') values.push(value);
  // Two Origin headers are no browser's request: allow neither.
  return values.length === 1 ? values[0] : undefined;
}

/**
 * The CORS headers of an answer to `event`: `Access-Control-Allow-Origin` naming the request's Origin
 * only when it is one of `allowedOrigins` (exact match, as browsers serialize origins), and always
 * `Vary: Origin`, since the answer depends on it. Never `Access-Control-Allow-Credentials`: the APIs
 * take bearer tokens, not cookies. CORS decides only which pages may *read* an answer; the authorizer
 * has already decided whether the request was allowed at all.
 */
export function corsHeaders(
  event: unknown,
  allowedOrigins: ReadonlySet<string>,
): Record<string, string> {
  const origin = requestOrigin(event);
  return origin !== undefined && allowedOrigins.has(origin)
    ? { 'access-control-allow-origin': origin, vary: 'Origin' }
    : { vary: 'Origin' };
}

/**
 * Wrap a proxy handler so every answer it gives (errors included) carries `corsHeaders`. The one place
 * the functions behind the APIs set CORS headers; the HTTP API replaces them with its own.
 */
export function withCors<E, C, R extends ProxyResponse>(
  handler: (event: E, context?: C) => Promise<R>,
  allowedOrigins: readonly string[],
): (event: E, context?: C) => Promise<R & { headers: Record<string, string> }> {
  const allowed = new Set(allowedOrigins);
  return async (event, context) => {
    const response = await handler(event, context);
    return { ...response, headers: { ...response.headers, ...corsHeaders(event, allowed) } };
  };
}
