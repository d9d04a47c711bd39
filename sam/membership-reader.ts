/**
 * The authorizer's membership read: one DynamoDB GetItem (JSON protocol, SigV4 with the function's own
 * role) written against node:http(s), instead of @aws-sdk/client-dynamodb. That client and
 * lib-dynamodb are 50 KiB of the bundle and about a quarter of the authorizer's init on top of the
 * floor (aws-jwt-verify and the Cognito Identity client, measured in bench/cold-start.ts), for a
 * request the authorizer makes at most once per member per minute. The Cognito Identity client the
 * authorizer builds anyway lends its credential chain (environment, container, SSO… as the SDK
 * resolves them, cached and refreshed by it).
 *
 * The request: `{"TableName","Key":{"PK":{"S"},"SK":{"S"}},"ProjectionExpression":"#role",…}`; the
 * answer `{"Item":{"role":{"S":…}}}`, or `{}` when there is no item. Errors come back as
 * `{"__type":"…#Name","message"}` with a 4xx or 5xx.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { MembershipKey, MembershipRoleReader } from '../tenants/index.js';
import { DynamoDbReadError } from './errors.js';
import { type SigningCredentials, signPost } from './sigv4-sign.js';

export interface MembershipReaderOptions {
  readonly tableName: string;
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

/** A reader of membership roles for `createMembershipCheckWith` (tenants). */
export function dynamoMembershipReader(options: MembershipReaderOptions): MembershipRoleReader {
  const url = new URL(options.endpoint ?? regionalEndpoint(options.region));
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  // Keep-alive: a warm environment reuses its connection, as the SDK's handler does.
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 50 })
    : new HttpAgent({ keepAlive: true, maxSockets: 50 });
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? 2;

  const post = (headers: Record<string, string>, body: string) =>
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
          signal: AbortSignal.timeout(options.timeoutMs),
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

  const attempt = async (key: MembershipKey): Promise<unknown> => {
    const body = JSON.stringify({
      TableName: options.tableName,
      Key: { PK: { S: key.PK }, SK: { S: key.SK } },
      ProjectionExpression: '#role',
      ExpressionAttributeNames: { '#role': 'role' },
    });
    const headers = signPost(
      {
        host: url.host,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.GetItem',
        },
        body,
        region: options.region,
        service: 'dynamodb',
      },
      await options.credentials(),
      now(),
    );
    let answer: Answer;
    try {
      answer = await post(headers, body);
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new DynamoDbReadError(
        name === 'TimeoutError' || name === 'AbortError' ? 'TimeoutError' : 'NetworkError',
        undefined,
        `GetItem failed: ${name}`,
        { cause: error },
      );
    }
    let parsed: { Item?: { role?: { S?: unknown } }; __type?: unknown; message?: unknown };
    try {
      parsed = JSON.parse(answer.body) as typeof parsed;
    } catch (error) {
      throw new DynamoDbReadError(
        'SerializationException',
        answer.status,
        'GetItem answer is not JSON',
        {
          cause: error,
        },
      );
    }
    if (answer.status !== 200) {
      const type =
        String(parsed.__type ?? 'UnknownError')
          .split('#')
          .pop() ?? 'UnknownError';
      throw new DynamoDbReadError(
        type,
        answer.status,
        `GetItem refused: ${type} (${answer.status})`,
      );
    }
    return parsed.Item?.role?.S;
  };

  return async (key) => {
    for (let n = 1; ; n++) {
      try {
        return await attempt(key);
      } catch (error) {
        const retry =
          error instanceof DynamoDbReadError &&
          (RETRYABLE.has(error.errorType) ||
            error.errorType === 'NetworkError' ||
            error.errorType === 'TimeoutError' ||
            (error.status !== undefined && error.status >= 500));
        if (!retry || n >= maxAttempts) throw error;
      }
    }
  };
}
