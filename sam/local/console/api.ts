/**
 * The demo console's API client, without the DOM: calls one of the stack's APIs with the ID token and
 * turns every refusal into words a person can act on — "sign in again" for a 401, the action and
 * reason of a 403, and a network error (what a browser reports when CORS hides an answer) said as such.
 */

/** What the console server hands the page (`/config.json`). */
export interface ConsoleConfig {
  readonly region: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** The local user pool (Amplify's `userPoolEndpoint`). */
  readonly userPoolEndpoint: string;
  readonly apis: { readonly rest: string; readonly http: string };
}

export type ApiKind = keyof ConsoleConfig['apis'];

/** How a call failed, for the page to say. */
export interface Refusal {
  /** `sign-in`: the session is not accepted (401); `denied`: a 403; `network`: no readable answer. */
  readonly kind: 'sign-in' | 'denied' | 'invalid' | 'failed' | 'network';
  readonly status?: number;
  /** One sentence for the page. */
  readonly text: string;
  /** A 403's decision, as the API named it. */
  readonly action?: string;
  readonly reason?: string;
}

export type Outcome<T> =
  | { readonly ok: true; readonly status: number; readonly body: T }
  | ({ readonly ok: false } & Refusal);

type Json = Record<string, unknown>;

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/** Words for an answer that is not a success. */
export function describeRefusal(status: number, body: Json): Refusal {
  // API Gateway's own 403 writes `Message`; everything else `message`.
  const message = text(body.message) ?? text(body.Message) ?? '';
  if (status === 401)
    return {
      kind: 'sign-in',
      status,
      text: `Sign in again: the API did not accept your session (401${message ? `: ${message}` : ''}).`,
    };
  if (status === 403) {
    const action = text(body.action);
    const reason = text(body.reason);
    if (action)
      return {
        kind: 'denied',
        status,
        action,
        ...(reason ? { reason } : {}),
        text: `Not allowed (403): ${action}${reason ? `, reason ${reason}` : ''}. The API said: “${message}”`,
      };
    return {
      kind: 'denied',
      status,
      ...(reason ? { reason } : {}),
      text: `Not allowed (403${reason ? `, ${reason}` : ''}): ${message || 'Forbidden'}`,
    };
  }
  if (status >= 400 && status < 500) {
    const issues = Array.isArray(body.issues)
      ? (body.issues as Json[]).map((i) => `${String(i.field)} ${String(i.message)}`).join('; ')
      : '';
    const why = text(body.reason) ?? text(body.kind);
    return {
      kind: 'invalid',
      status,
      text: `Refused (${status}${why ? `, ${why}` : ''}): ${message}${issues ? ` — ${issues}` : ''}`,
    };
  }
  const requestId = text(body.requestId);
  return {
    kind: 'failed',
    status,
    text: `The API failed (${status}): ${message || 'no message'}${requestId ? ` (request ${requestId})` : ''}`,
  };
}

/**
 * `METHOD path` on `base` with the ID token. A fetch that rejects — no answer the page may read, which
 * is how a browser reports a CORS refusal — is a `network` refusal, never a crash.
 */
export async function callApi<T = Json>(
  base: string,
  idToken: string,
  method: string,
  path: string,
  body?: unknown,
  fetchFn: typeof fetch = fetch,
): Promise<Outcome<T>> {
  let response: Response;
  try {
    response = await fetchFn(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${idToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    return {
      ok: false,
      kind: 'network',
      text: `No readable answer from ${base} (a network error, or CORS refused this page): ${
        error instanceof Error ? error.message : String(error)
      }`,
    };
  }
  const raw = await response.text();
  let parsed: unknown = {};
  try {
    parsed = raw === '' ? {} : JSON.parse(raw);
  } catch {
    parsed = { message: raw.slice(0, 200) };
  }
  const json = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Json;
  if (response.ok) return { ok: true, status: response.status, body: json as T };
  return { ok: false, ...describeRefusal(response.status, json) };
}
