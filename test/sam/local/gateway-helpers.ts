/** Shared helpers of the local gateway tests: an HTTP client, a settable clock, a log recorder. */
import { request } from 'node:http';
import type { Logger } from '../../../authorizer/types.js';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function call(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** GET with a chosen Host header, which fetch does not let a caller set. */
export function getWithHost(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A clock tests move by hand: no sleeps, no fake timers. */
export function createClock(start = Date.UTC(2025, 0, 15, 12, 0, 0)) {
  let time = start;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

/** Records every log line as text, to assert that no secret ever reaches a log. */
export function createLogRecorder() {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) => {
      lines.push(`${level} ${message} ${JSON.stringify(extra)}`);
    };
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  return { logger, lines };
}

let counter = 0;
/** Deterministic request ids. */
export const sequentialIds = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;
