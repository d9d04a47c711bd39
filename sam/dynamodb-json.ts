/**
 * The authorizer's own DynamoDB calls (the membership GetItem, the shared OpenID token's GetItem and
 * PutItem): the JSON protocol over node:http(s), SigV4-signed with the function's own role, instead of
 * @aws-sdk/client-dynamodb. That client and lib-dynamodb are 50 KiB of the bundle and a sizeable part
 * of the authorizer's init on top of the floor (aws-jwt-verify and the Cognito Identity client,
 * measured in bench/cold-start.ts), for calls the authorizer makes at most once per member per
 * minute. The Cognito Identity client the authorizer builds anyway lends its credential chain
 * (environment, container, SSO… as the SDK resolves them, cached and refreshed by it).
 *
 * Wire format: POST / with `X-Amz-Target: DynamoDB_20120810.<Operation>` and a JSON body; errors come
 * back as `{"__type":"…#Name","message"}` with a 4xx or 5xx.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { DynamoDbCallError } from './errors.js';
import { type SigningCredentials, signPost } from './sigv4-sign.js';

export interface DynamoJsonOptions {
  /** The table's region (the function's `AWS_REGION`). */
  readonly region: string;
  /**
   * `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`), as the SDK honours them; default
   * `https://dynamodb.<region>.amazonaws.com` (`.amazonaws.com.cn` in China).
   */
  readonly endpoint?: string;
  /** The function's own credentials, e.g. a Cognito Identity client's `config.credentials`. */
  readonly credentials: () => Promise<SigningCredentials>;
  /** Each attempt (connect, send, answer) is abandoned after this long. */
  readonly timeoutMs: number;
  /** Attempts on throttling, a 5xx or a network failure. Default 2. */
  readonly maxAttempts?: number;
  /** Milliseconds since the epoch, for the signature's date. Default `Date.now`. */
  readonly now?: () => number;
}

export type DynamoOperation = 'GetItem' | 'PutItem';

/** One DynamoDB call: the operation's answer as JSON, or a `DynamoDbCallError`. */
export type DynamoJson = (
  operation: DynamoOperation,
  input: Record<string, unknown>,
  signal?: AbortSignal,
) => Promise<Record<string, unknown>>;

/** Worth another attempt: throttling, DynamoDB's own failures. */
const RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'ServiceUnavailable',
]);

const regionalEndpoint = (region: string) =>
  `https://dynamodb.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;

interface Answer {
  readonly status: number;
  readonly body: string;
}

const retryable = (error: unknown) =>
  error instanceof DynamoDbCallError &&
  (RETRYABLE.has(error.errorType) ||
    error.errorType === 'NetworkError' ||
    error.errorType === 'TimeoutError' ||
    (error.status !== undefined && error.status >= 500));

export function dynamoJson(options: DynamoJsonOptions): DynamoJson {
  const url = new URL(options.endpoint ?? regionalEndpoint(options.region));
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  // Keep-alive: a warm environment reuses its connection, as the SDK's handler does.
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 50 })
    : new HttpAgent({ keepAlive: true, maxSockets: 50 });
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? 2;

  const post = (headers: Record<string, string>, body: string, signal: AbortSignal) =>
    new Promise<Answer>((resolve, reject) => {
      const req = send(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port || undefined,
          path: '/',
          method: 'POST',
          headers,
          agent,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const attempt = async (
    operation: DynamoOperation,
    input: Record<string, unknown>,
    caller: AbortSignal | undefined,
  ): Promise<Record<string, unknown>> => {
    const body = JSON.stringify(input);
    const headers = signPost(
      {
        host: url.host,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${operation}`,
        },
        body,
        region: options.region,
        service: 'dynamodb',
      },
      await options.credentials(),
      now(),
    );
    const limit = AbortSignal.timeout(options.timeoutMs);
    let answer: Answer;
    try {
      answer = await post(headers, body, caller ? AbortSignal.any([caller, limit]) : limit);
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new DynamoDbCallError(
        name === 'TimeoutError' || name === 'AbortError' ? 'TimeoutError' : 'NetworkError',
        undefined,
        `${operation} failed: ${name}`,
        { cause: error },
      );
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(answer.body) as Record<string, unknown>;
    } catch (error) {
      throw new DynamoDbCallError(
        'SerializationException',
        answer.status,
        `${operation} answer is not JSON`,
        { cause: error },
      );
    }
    if (answer.status !== 200) {
      const type =
        String(parsed.__type ?? 'UnknownError')
          .split('#')
          .pop() ?? 'UnknownError';
      throw new DynamoDbCallError(
        type,
        answer.status,
        `${operation} refused: ${type} (${answer.status})`,
      );
    }
    return parsed;
  };

  return async (operation, input, signal) => {
    for (let n = 1; ; n++) {
      try {
        return await attempt(operation, input, signal);
      } catch (error) {
        if (!retryable(error) || n >= maxAttempts || signal?.aborted) throw error;
      }
    }
  };
}
