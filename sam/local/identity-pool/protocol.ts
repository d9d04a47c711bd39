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
import type { ServerResponse } from 'node:http';
import { jsonBodyReader, printable } from '../json-body.js';
import { ServiceError, ServiceErrorType } from './errors.js';

export const OPERATIONS = [
  'GetId',
  'GetCredentialsForIdentity',
  'GetOpenIdToken',
  'GetOpenIdTokenForDeveloperIdentity',
] as const;
/** Operations AWS serves without credentials (`smithy.api#noAuth`); every other one needs SigV4. */
export const PUBLIC_OPERATIONS: ReadonlySet<Operation> = new Set([
  'GetId',
  'GetCredentialsForIdentity',
  'GetOpenIdToken',
]);
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
  // Authentication and authorization answers of the front end (aws/aws-sdk-ruby#882 shows
  // `…#MissingAuthenticationTokenException` for Cognito Identity); the exact namespace of the others
  // is inferred from AWS JSON services in general. The SDK keys on the part after `#` either way.
  [ServiceErrorType.missingAuthenticationToken]: 'com.amazon.coral.service#',
  [ServiceErrorType.incompleteSignature]: 'com.amazon.coral.service#',
  [ServiceErrorType.invalidSignature]: 'com.amazon.coral.service#',
  [ServiceErrorType.unrecognizedClient]: 'com.amazon.coral.service#',
  [ServiceErrorType.expiredToken]: 'com.amazon.coral.service#',
  [ServiceErrorType.accessDenied]: 'com.amazon.coral.service#',
};

/** The operation an `X-Amz-Target` names, or UnknownOperationException. */
export function parseTarget(target: string | undefined): Operation {
  const [service, operation, ...rest] = (target ?? '').split('.');
  const known = OPERATIONS.find((op) => op === operation);
  if (service !== SERVICE_TARGET || known === undefined || rest.length > 0) {
    throw new ServiceError(
      ServiceErrorType.unknownOperation,
      // Real Cognito has ~20 more operations; this stand-in serves the ones the stack calls.
      `Unknown operation ${printable(target ?? '(no X-Amz-Target)')}: the local stand-in serves ${OPERATIONS.join(', ')}`,
    );
  }
  return known;
}

/** Bodies are read up to `MAX_BODY_BYTES`; a refused one is SerializationException, as the service answers. */
export const { readBody, parseJsonObject } = jsonBodyReader(
  MAX_BODY_BYTES,
  (message, cause) =>
    new ServiceError(
      ServiceErrorType.serialization,
      message,
      cause === undefined ? undefined : { cause },
    ),
);

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

export interface GetOpenIdTokenInput {
  readonly identityId: string;
  readonly logins: Readonly<Record<string, string>>;
}

export interface GetOpenIdTokenForDeveloperIdentityInput {
  readonly identityPoolId: string;
  readonly identityId: string | undefined;
  readonly logins: Readonly<Record<string, string>>;
  /** Absent when the request has none. */
  readonly principalTags: Readonly<Record<string, string>> | undefined;
  /** Seconds; absent when the request has none (the service's default is 900). */
  readonly tokenDuration: number | undefined;
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

export function decodeGetOpenIdTokenInput(doc: Record<string, unknown>): GetOpenIdTokenInput {
  const violations = new Violations();
  const identityId = optionalString(doc, 'IdentityId');
  checkId(violations, 'identityId', identityId);
  const logins = readLogins(doc, violations);
  violations.throwIfAny();
  return { identityId: identityId ?? '', logins };
}

/** The model's limits on PrincipalTags (shapes PrincipalTags, PrincipalTagID, PrincipalTagValue). */
const MAX_PRINCIPAL_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;
/** TokenDuration: 1 s to 24 h (the model's range); 15 minutes when absent. */
const MAX_TOKEN_DURATION = 86_400;

/**
 * GetOpenIdTokenForDeveloperIdentity's input. The front-end checks are the model's; the PrincipalTags
 * and TokenDuration limits are answered with InvalidParameterException — unconfirmed: no captured
 * response shows whether the front end's ValidationException or the service's InvalidParameterException
 * answers them (the model declares both limits and lists InvalidParameterException for the operation).
 */
export function decodeGetOpenIdTokenForDeveloperIdentityInput(
  doc: Record<string, unknown>,
): GetOpenIdTokenForDeveloperIdentityInput {
  const violations = new Violations();
  const identityPoolId = optionalString(doc, 'IdentityPoolId');
  const identityId = optionalString(doc, 'IdentityId');
  checkId(violations, 'identityPoolId', identityPoolId);
  if (identityId !== undefined) checkId(violations, 'identityId', identityId);
  if (doc.Logins === undefined || doc.Logins === null)
    violations.add('logins', null, 'Member must not be null');
  const logins = readLogins(doc, violations);
  const principalTags = readStringMap(doc, 'PrincipalTags');
  const duration = doc.TokenDuration;
  if (duration !== undefined && duration !== null && typeof duration !== 'number') {
    throw new ServiceError(ServiceErrorType.serialization, 'TokenDuration must be a JSON number');
  }
  violations.throwIfAny();
  const invalid = (message: string) => new ServiceError(ServiceErrorType.invalidParameter, message);
  if (principalTags !== undefined) {
    const entries = Object.entries(principalTags);
    if (entries.length > MAX_PRINCIPAL_TAGS)
      throw invalid(`PrincipalTags has ${entries.length} entries, at most ${MAX_PRINCIPAL_TAGS}`);
    for (const [key, value] of entries) {
      if (key.length < 1 || key.length > MAX_TAG_KEY)
        throw invalid(`PrincipalTags keys must be 1 to ${MAX_TAG_KEY} characters`);
      if (value.length < 1 || value.length > MAX_TAG_VALUE)
        throw invalid(
          `PrincipalTags value of ${printable(key)} must be 1 to ${MAX_TAG_VALUE} characters`,
        );
    }
  }
  const tokenDuration = typeof duration === 'number' ? duration : undefined;
  if (
    tokenDuration !== undefined &&
    !(Number.isInteger(tokenDuration) && tokenDuration >= 1 && tokenDuration <= MAX_TOKEN_DURATION)
  )
    throw invalid(`TokenDuration must be an integer from 1 to ${MAX_TOKEN_DURATION} seconds`);
  return {
    identityPoolId: identityPoolId ?? '',
    identityId,
    logins,
    principalTags,
    tokenDuration,
  };
}

/** A JSON object of strings (PrincipalTags), or undefined when absent. */
function readStringMap(
  doc: Record<string, unknown>,
  key: string,
): Record<string, string> | undefined {
  const value = doc[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ServiceError(ServiceErrorType.serialization, `${key} must be a JSON object`);
  }
  const map: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') {
      throw new ServiceError(ServiceErrorType.serialization, `${key} values must be JSON strings`);
    }
    map[k] = v;
  }
  return map;
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
