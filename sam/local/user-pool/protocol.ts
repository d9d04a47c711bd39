/**
 * AWS's awsJson1_1 protocol as the Cognito user pool API speaks it: `POST /` with
 * `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>` and a JSON body; answers are JSON with
 * `Content-Type: application/x-amz-json-1.1`; errors `{"__type", "message"}` with HTTP 400 (500 for
 * internal errors) plus the `x-amzn-ErrorType` / `x-amzn-ErrorMessage` headers. Every answer carries
 * `Access-Control-Allow-Origin: *`, as Cognito's does, so browser clients (Amplify) can read errors.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { jsonBodyReader, printable } from '../json-body.js';
import { CognitoErrorType, CognitoServiceError } from './errors.js';

export { printable };

export const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
export const CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * Operations that need no IAM signature: the model's `smithy.api#noAuth` operations, as compiled
 * into `@aws-sdk/client-cognito-identity-provider` (its auth scheme provider sends exactly these
 * unsigned). Every other operation (the `Admin*` calls, pool and client management, ListUsers, …)
 * is IAM-authorized in AWS and needs SigV4 here too.
 */
export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set([
  'AssociateSoftwareToken',
  'ChangePassword',
  'CompleteWebAuthnRegistration',
  'ConfirmDevice',
  'ConfirmForgotPassword',
  'ConfirmSignUp',
  'DeleteUser',
  'DeleteUserAttributes',
  'DeleteWebAuthnCredential',
  'ForgetDevice',
  'ForgotPassword',
  'GetDevice',
  'GetTokensFromRefreshToken',
  'GetUser',
  'GetUserAttributeVerificationCode',
  'GetUserAuthFactors',
  'GlobalSignOut',
  'InitiateAuth',
  'ListDevices',
  'ListUserSessions',
  'ListWebAuthnCredentials',
  'ResendConfirmationCode',
  'RespondToAuthChallenge',
  'RevokeToken',
  'RevokeUserSession',
  'SetUserMFAPreference',
  'SetUserSettings',
  'SignUp',
  'StartWebAuthnRegistration',
  'UpdateAuthEventFeedback',
  'UpdateDeviceStatus',
  'UpdateUserAttributes',
  'VerifySoftwareToken',
  'VerifyUserAttribute',
]);

/** Requests of this API are small JSON documents; anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The operation an `X-Amz-Target` names (`AWSCognitoIdentityProviderService.SignUp` → `SignUp`). */
export function operationOf(target: string | undefined): string | undefined {
  if (!target?.startsWith(TARGET_PREFIX)) return undefined;
  const operation = target.slice(TARGET_PREFIX.length);
  return /^[A-Za-z]+$/.test(operation) ? operation : undefined;
}

/** Bodies are read up to `MAX_BODY_BYTES`; a refused one is SerializationException, as Cognito answers. */
export const { readBody, parseJsonObject } = jsonBodyReader(
  MAX_BODY_BYTES,
  (message, cause) =>
    new CognitoServiceError(
      CognitoErrorType.serialization,
      message,
      cause === undefined ? undefined : { cause },
    ),
);

export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export function jsonResponse(value: unknown, status = 200): WireResponse {
  return {
    status,
    headers: { 'content-type': CONTENT_TYPE },
    body: Buffer.from(JSON.stringify(value), 'utf8'),
  };
}

export function errorResponse(error: CognitoServiceError): WireResponse {
  const status = error.type === CognitoErrorType.internalError ? 500 : 400;
  return {
    status,
    headers: {
      'content-type': CONTENT_TYPE,
      'x-amzn-errortype': `${error.type}:`,
      'x-amzn-errormessage': printable(error.message),
    },
    body: Buffer.from(JSON.stringify({ __type: error.type, message: error.message }), 'utf8'),
  };
}

export function writeResponse(res: ServerResponse, response: WireResponse): void {
  res.writeHead(response.status, {
    ...response.headers,
    'access-control-allow-origin': '*',
    'content-length': String(response.body.length),
    'x-amzn-requestid': response.headers['x-amzn-requestid'] ?? randomUUID(),
  });
  res.end(response.body);
}

/** A string member of a request document, or undefined; a non-string is a SerializationException. */
export function stringMember(doc: Record<string, unknown>, key: string): string | undefined {
  const value = doc[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new CognitoServiceError(CognitoErrorType.serialization, `${key} must be a JSON string`);
  return value;
}

/** A `{Name, Value}` list member (`UserAttributes`), or []. */
export function attributeListMember(
  doc: Record<string, unknown>,
  key: string,
): { Name: string; Value?: string }[] {
  const value = doc[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new CognitoServiceError(CognitoErrorType.serialization, `${key} must be a JSON array`);
  return value.map((entry) => {
    const e = entry as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.Name !== 'string')
      throw new CognitoServiceError(
        CognitoErrorType.serialization,
        `${key} entries must be objects with a string Name`,
      );
    return typeof e.Value === 'string' ? { Name: e.Name, Value: e.Value } : { Name: e.Name };
  });
}

/** A string map member (`AuthParameters`, `ChallengeResponses`), or {}. */
export function stringMapMember(doc: Record<string, unknown>, key: string): Record<string, string> {
  const value = doc[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new CognitoServiceError(CognitoErrorType.serialization, `${key} must be a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string')
      throw new CognitoServiceError(
        CognitoErrorType.serialization,
        `${key} values must be strings`,
      );
    out[k] = v;
  }
  return out;
}
