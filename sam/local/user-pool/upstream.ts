/**
 * The way to cognito-local: requests relayed as received (headers and body), or the front's own
 * calls (e.g. the USER_PASSWORD_AUTH that mints tokens after an SRP proof). Answers are buffered —
 * every answer of this API is a small JSON document the front may need to read or amend.
 */
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { CONTENT_TYPE, TARGET_PREFIX, type WireResponse } from './protocol.js';

export interface UpstreamAnswer extends WireResponse {
  /** The JSON object of the body, or undefined. */
  readonly json: Record<string, unknown> | undefined;
  /** `__type` of an error answer (namespace and trailing `:…` stripped), else undefined. */
  readonly errorType: string | undefined;
  readonly message: string | undefined;
}

export interface Upstream {
  /** Relay a request as received (any method and path). */
  relay(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<UpstreamAnswer>;
  /** Call an operation with `input` as its JSON body. */
  call(operation: string, input: Record<string, unknown>): Promise<UpstreamAnswer>;
  close(): void;
}

/** Hop-by-hop and recomputed headers that are never relayed. */
const DROPPED = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
]);

export function createUpstream(target: URL): Upstream {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const send = (
    method: string,
    url: string,
    headers: Record<string, string | string[]>,
    body: Buffer,
  ): Promise<UpstreamAnswer> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          method,
          path: url,
          agent,
          headers: { ...headers, 'content-length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const data = Buffer.concat(chunks);
            const out: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value === undefined || DROPPED.has(name)) continue;
              out[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            let json: Record<string, unknown> | undefined;
            if (/json/.test(out['content-type'] ?? '')) {
              try {
                const parsed: unknown = JSON.parse(data.toString('utf8'));
                if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
                  json = parsed as Record<string, unknown>;
              } catch {
                json = undefined;
              }
            }
            const status = res.statusCode ?? 500;
            const rawType =
              status >= 400 && typeof json?.__type === 'string' ? json.__type : undefined;
            resolve({
              status,
              headers: out,
              body: data,
              json,
              errorType: rawType?.replace(/^.*#/, '').replace(/:.*$/, ''),
              message:
                status >= 400 && typeof json?.message === 'string' ? json.message : undefined,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    relay(method, url, headers, body) {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(headers))
        if (value !== undefined && !DROPPED.has(name)) out[name] = value;
      return send(method, url, out, body);
    },
    call(operation, input) {
      return send(
        'POST',
        '/',
        { 'content-type': CONTENT_TYPE, 'x-amz-target': `${TARGET_PREFIX}${operation}` },
        Buffer.from(JSON.stringify(input), 'utf8'),
      );
    },
    close() {
      agent.destroy();
    },
  };
}
