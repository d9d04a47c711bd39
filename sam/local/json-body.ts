/**
 * The request body of an awsJson1_1 front (the user-pool front, the identity-pool stand-in): read
 * with a size limit, parsed as one JSON object. Each front refuses with its own error type (both are
 * `SerializationException` on the wire), so the refusal is passed in.
 */
import type { IncomingMessage } from 'node:http';

/** Builds the front's error for a body it refuses. */
export type RefuseBody = (message: string, cause?: unknown) => Error;

/**
 * Reads the body, refusing more than `maxBytes` as soon as it is exceeded, so a runaway client
 * cannot make a front buffer without bound.
 */
export async function readLimitedBody(
  req: IncomingMessage,
  maxBytes: number,
  refuse: RefuseBody,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw refuse(`Request body is larger than ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** The JSON object of a body; an empty body is `{}`, as the SDKs send for empty inputs. */
export function parseBodyObject(body: Buffer, refuse: RefuseBody): Record<string, unknown> {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw refuse('Request body is not valid JSON', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw refuse('Request body is not a JSON object');
  return value as Record<string, unknown>;
}

/** A front's two body steps, bound to its size limit and its refusal. */
export interface JsonBodyReader {
  readBody(req: IncomingMessage): Promise<Buffer>;
  parseJsonObject(body: Buffer): Record<string, unknown>;
}

export function jsonBodyReader(maxBytes: number, refuse: RefuseBody): JsonBodyReader {
  return {
    readBody: (req) => readLimitedBody(req, maxBytes, refuse),
    parseJsonObject: (body) => parseBodyObject(body, refuse),
  };
}

/** Header-safe and log-safe: printable ASCII only, everything else `?`. */
export function printable(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}
