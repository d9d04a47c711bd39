/**
 * A tiny loopback Lambda service: the Invoke API (`POST /2015-03-31/functions/{name}/invocations`,
 * RequestResponse) over the local functions, so cognito-local can call the template's Cognito
 * triggers. Answers as Lambda does: 200 with the result JSON; a function error is still a 200, with
 * `X-Amz-Function-Error: Unhandled` and `{"errorMessage","errorType"}`; an unknown function is a 404
 * `ResourceNotFoundException`. Signatures are not checked (loopback only).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../authorizer/index.js';
import { PortTakenError } from './errors.js';
import type { LambdaContext, LambdaHandler } from './gateway/index.js';

export interface LambdaServiceOptions {
  /** A function by the `FunctionName` of the call: a name, or an ARN (partial or full). */
  readonly resolve: (functionName: string) => LambdaHandler | undefined;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Named in the port-taken message. Default `--lambda-port`. */
  readonly portFlag?: string;
  /** Largest request payload. Default 6 MB (Lambda's synchronous limit). */
  readonly maxPayloadBytes?: number;
  readonly logger?: Logger;
}

export interface LambdaService {
  /** `http://127.0.0.1:<port>`: the Lambda client's `endpoint`. */
  readonly endpoint: string;
  /** Invocations by function name, failed ones included. */
  stats(): Readonly<Record<string, number>>;
  /** Stops listening and closes connections. Idempotent. */
  stop(): Promise<void>;
}

const INVOKE = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`, `<name>:<qualifier>` → name. */
export function functionNameOf(value: string): string {
  const parts = value.split(':');
  if (value.startsWith('arn:')) return parts[6] ?? '';
  return parts[0] ?? '';
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(body);
}

const serviceError = (res: ServerResponse, status: number, type: string, message: string) =>
  send(res, status, JSON.stringify({ Type: 'User', message }), { 'x-amzn-errortype': type });

async function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Start the service on loopback. @throws PortTakenError for a fixed port in use. */
export async function startLambdaService(options: LambdaServiceOptions): Promise<LambdaService> {
  const logger = options.logger ?? silent;
  const max = options.maxPayloadBytes ?? 6 * 1024 * 1024;
  const counts: Record<string, number> = {};
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const match = INVOKE.exec(path);
    if (!match || req.method !== 'POST') {
      serviceError(
        res,
        404,
        'UnknownOperationException',
        `no such operation: ${req.method} ${path}`,
      );
      return;
    }
    const name = functionNameOf(decodeURIComponent(match[1] ?? ''));
    const handler = options.resolve(name);
    if (!handler) {
      serviceError(res, 404, 'ResourceNotFoundException', `Function not found: ${name}`);
      return;
    }
    const invocationType = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    if (invocationType !== 'RequestResponse') {
      serviceError(
        res,
        400,
        'InvalidParameterValueException',
        `only RequestResponse is supported locally`,
      );
      return;
    }
    const body = await readBody(req, max);
    if (body === undefined) {
      serviceError(res, 413, 'RequestTooLargeException', `payload larger than ${max} bytes`);
      return;
    }
    let event: unknown;
    try {
      event = body === '' ? {} : JSON.parse(body);
    } catch {
      serviceError(
        res,
        400,
        'InvalidRequestContentException',
        'Could not parse request body into json',
      );
      return;
    }
    counts[name] = (counts[name] ?? 0) + 1;
    const requestId = randomUUID();
    try {
      const result = await handler(event, { awsRequestId: requestId } as LambdaContext);
      send(res, 200, JSON.stringify(result ?? null), { 'x-amz-executed-version': '$LATEST' });
    } catch (error) {
      const e = error as { errorType?: string; name?: string; message?: string };
      logger.info('function error', { functionName: name, errorType: e.errorType ?? e.name });
      send(
        res,
        200,
        JSON.stringify({
          errorMessage: e.message ?? String(error),
          errorType: e.errorType ?? e.name ?? 'Error',
        }),
        { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' },
      );
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error('lambda service failed', { error: String(error) });
      if (!res.headersSent) serviceError(res, 500, 'ServiceException', 'internal error');
      else res.destroy();
    });
  });
  // Listening on 0 itself: the OS's port is ours at once, no window for another to take it.
  const port = options.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new PortTakenError(port, options.portFlag ?? '--lambda-port', { cause: error })
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    stats: () => ({ ...counts }),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
