/**
 * AWS's awsJson1_1 protocol as Cognito Identity speaks it: `POST /` with
 * `X-Amz-Target: AWSCognitoIdentityService.<Operation>` and a JSON body; answers are JSON with
 * `Content-Type: application/x-amz-json-1.1`. Errors are `{"__type", "message"}` plus the
 * `x-amzn-ErrorType` / `x-amzn-ErrorMessage` headers.
 *
 * Status codes are the ones on the wire, not the model's: the Smithy model gives
 * NotAuthorizedException 403 and ResourceNotFoundException 404, but the service answers 400 for
 * every client error (captured responses: aws-amplify/amplify-js#2443, aws/aws-sdk-js-v3#3113,
 * awslabs/aws-sdk-android-samples#163). The SDK keys on `__type`, so either parses the same.
 *
 * Input checks follow the model's constraints (`IdentityPoolId` pattern `[\w-]+:[0-9a-f-]+`,
 * length 1–55, `Logins` at most 10 entries, …) with the front end's answers: a JSON type mismatch is
 * a SerializationException, a constraint violation a ValidationException
 * ("1 validation error detected: Value '…' at 'identityPoolId' failed to satisfy constraint: …").
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServiceError, ServiceErrorType } from './errors.js';

export const OPERATIONS = ['GetId', 'GetCredentialsForIdentity'] as const;
export type Operation = (typeof OPERATIONS)[number];

const SERVICE_TARGET = 'AWSCognitoIdentityService';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * 10 logins of at most 50 000 characters each (the model's limits) fit in ~500 KB; anything larger
 * is refused before parsing so a runaway client cannot make the stand-in buffer without bound.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The front end's errors carry a Coral namespace in `__type`; the service's own do not. */
const FRONT_END_NAMESPACE: Partial<Record<ServiceErrorType, string>> = {
  [ServiceErrorType.validation]: 'com.amazon.coral.validate#',
  [ServiceErrorType.serialization]: 'com.amazon.coral.service#',
  [ServiceErrorType.unknownOperation]: 'com.amazon.coral.service#',
};

/** The operation an `X-Amz-Target` names, or UnknownOperationException. */
export function parseTarget(target: string | undefined): Operation {
  const [service, operation, ...rest] = (target ?? '').split('.');
  const known = OPERATIONS.find((op) => op === operation);
  if (service !== SERVICE_TARGET || known === undefined || rest.length > 0) {
    throw new ServiceError(
      ServiceErrorType.unknownOperation,
      // Real Cognito has ~20 more operations; this stand-in serves the two the authorizer calls.
      `Unknown operation ${printable(target ?? '(no X-Amz-Target)')}: the local stand-in serves ${OPERATIONS.join(' and ')}`,
    );
  }
  return known;
}

/** Reads the body, refusing more than `MAX_BODY_BYTES`. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new ServiceError(
        ServiceErrorType.serialization,
        `Request body is larger than ${MAX_BODY_BYTES} bytes`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** The JSON object of a request body; an empty body is `{}` as for the SDK's empty inputs. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ServiceError(ServiceErrorType.serialization, 'Request body is not valid JSON', {
      cause,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ServiceError(ServiceErrorType.serialization, 'Request body is not a JSON object');
  }
  return value as Record<string, unknown>;
}

export interface GetIdInput {
  readonly identityPoolId: string;
  readonly accountId: string | undefined;
  readonly logins: Readonly<Record<string, string>>;
}

export interface GetCredentialsForIdentityInput {
  readonly identityId: string;
  readonly logins: Readonly<Record<string, string>>;
  readonly customRoleArn: string | undefined;
}

const ID_PATTERN = /^[\w-]+:[0-9a-f-]+$/;
const ACCOUNT_ID_PATTERN = /^\d+$/;

/** Collects constraint violations so one answer lists them all, as the front end does. */
class Violations {
  readonly list: string[] = [];
  add(member: string, value: string | null, constraint: string) {
    const shown = value === null ? 'null' : `'${printable(value).slice(0, 100)}'`;
    this.list.push(`Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`);
  }
  /** `Logins` values are tokens: their violations never echo the value. */
  addHidden(member: string, constraint: string) {
    this.list.push(`Value at '${member}' failed to satisfy constraint: ${constraint}`);
  }
  throwIfAny() {
    const n = this.list.length;
    if (n === 0) return;
    throw new ServiceError(
      ServiceErrorType.validation,
      `${n} validation error${n === 1 ? '' : 's'} detected: ${this.list.join('; ')}`,
    );
  }
}

function optionalString(doc: Record<string, unknown>, key: string): string | undefined {
  const value = doc[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new ServiceError(
      ServiceErrorType.serialization,
      `${key} must be a JSON string, got ${Array.isArray(value) ? 'array' : typeof value}`,
    );
  }
  return value;
}

function checkLength(
  violations: Violations,
  member: string,
  value: string,
  min: number,
  max: number,
) {
  if (value.length < min) {
    violations.add(member, value, `Member must have length greater than or equal to ${min}`);
  }
  if (value.length > max) {
    violations.add(member, value, `Member must have length less than or equal to ${max}`);
  }
}

function checkId(violations: Violations, member: string, value: string | undefined) {
  if (value === undefined) {
    violations.add(member, null, 'Member must not be null');
    return;
  }
  checkLength(violations, member, value, 1, 55);
  if (!ID_PATTERN.test(value)) {
    violations.add(
      member,
      value,
      'Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+',
    );
  }
}

function readLogins(doc: Record<string, unknown>, violations: Violations): Record<string, string> {
  const value = doc.Logins;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ServiceError(ServiceErrorType.serialization, 'Logins must be a JSON object');
  }
  const logins: Record<string, string> = {};
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [provider, token] of entries) {
    if (typeof token !== 'string') {
      throw new ServiceError(ServiceErrorType.serialization, 'Logins values must be JSON strings');
    }
    logins[provider] = token;
  }
  if (entries.length > 10) {
    violations.addHidden('logins', 'Member must have length less than or equal to 10');
  }
  if (entries.some(([provider]) => provider.length < 1 || provider.length > 128)) {
    violations.addHidden(
      'logins',
      'Map keys must satisfy constraint: [Member must have length between 1 and 128]',
    );
  }
  if (
    entries.some(([, token]) => (token as string).length < 1 || (token as string).length > 50_000)
  ) {
    violations.addHidden(
      'logins',
      'Map values must satisfy constraint: [Member must have length between 1 and 50000]',
    );
  }
  return logins;
}

export function decodeGetIdInput(doc: Record<string, unknown>): GetIdInput {
  const violations = new Violations();
  const identityPoolId = optionalString(doc, 'IdentityPoolId');
  const accountId = optionalString(doc, 'AccountId');
  checkId(violations, 'identityPoolId', identityPoolId);
  if (accountId !== undefined) {
    checkLength(violations, 'accountId', accountId, 1, 15);
    if (!ACCOUNT_ID_PATTERN.test(accountId)) {
      violations.add(
        'accountId',
        accountId,
        'Member must satisfy regular expression pattern: \\d+',
      );
    }
  }
  const logins = readLogins(doc, violations);
  violations.throwIfAny();
  return { identityPoolId: identityPoolId ?? '', accountId, logins };
}

export function decodeGetCredentialsForIdentityInput(
  doc: Record<string, unknown>,
): GetCredentialsForIdentityInput {
  const violations = new Violations();
  const identityId = optionalString(doc, 'IdentityId');
  const customRoleArn = optionalString(doc, 'CustomRoleArn');
  checkId(violations, 'identityId', identityId);
  if (customRoleArn !== undefined)
    checkLength(violations, 'customRoleArn', customRoleArn, 20, 2048);
  const logins = readLogins(doc, violations);
  violations.throwIfAny();
  return { identityId: identityId ?? '', logins, customRoleArn };
}

export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function successResponse(output: unknown): WireResponse {
  return { status: 200, headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify(output) };
}

export function errorResponse(error: ServiceError): WireResponse {
  const status = error.type === ServiceErrorType.internalError ? 500 : 400;
  const namespace = FRONT_END_NAMESPACE[error.type] ?? '';
  return {
    status,
    headers: {
      'content-type': CONTENT_TYPE,
      // The trailing colon is what the service sends (an empty Coral URI follows it).
      'x-amzn-errortype': `${error.type}:`,
      'x-amzn-errormessage': printable(error.message),
    },
    body: JSON.stringify({ __type: `${namespace}${error.type}`, message: error.message }),
  };
}

export function writeResponse(res: ServerResponse, response: WireResponse): void {
  const body = Buffer.from(response.body, 'utf8');
  res.writeHead(response.status, {
    ...response.headers,
    'content-length': String(body.length),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

/** Header-safe and log-safe: printable ASCII only, everything else `?`. */
function printable(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}
