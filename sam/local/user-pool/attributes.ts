/**
 * The app client's `WriteAttributes`, enforced where cognito-local ignores them: a user's own
 * SignUp, UpdateUserAttributes and DeleteUserAttributes may touch only the attributes the client
 * may write. In this project that is what keeps a user from choosing their own `custom:tenant_id`
 * or `custom:role` (template.yaml's client writes `[email]` only). `Admin*` operations are IAM
 * calls and are not subject to an app client's attribute permissions, in AWS as here.
 */
import type { StoredClient } from './data.js';
import { CognitoErrorType, CognitoServiceError } from './errors.js';

/** Cognito's answer (captured from the AWS CLI against a client whose WriteAttributes lack it). */
export const UNAUTHORIZED_ATTRIBUTE_MESSAGE = 'A client attempted to write unauthorized attribute';

/**
 * Never writable by a client: `sub` is immutable in every pool (cognito-local would even take a
 * SignUp's `sub`, letting a user pick another user's identifier).
 */
const NEVER_WRITABLE = new Set(['sub']);

/**
 * Throws Cognito's NotAuthorizedException unless `client` may write every attribute in `names`.
 * A client without `WriteAttributes` may write every (mutable) attribute, as in Cognito.
 */
export function assertWritable(client: StoredClient, names: readonly string[]): void {
  const allowed = client.WriteAttributes;
  const restricted = allowed !== undefined && allowed.length > 0;
  for (const name of names) {
    if (NEVER_WRITABLE.has(name) || (restricted && !allowed.includes(name)))
      throw new CognitoServiceError(CognitoErrorType.notAuthorized, UNAUTHORIZED_ATTRIBUTE_MESSAGE);
  }
}
