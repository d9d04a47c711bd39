/**
 * IAM authentication of the user pool's IAM-authorized operations (every operation but the model's
 * public ones: `Admin*`, ListUsers, CreateGroup, pool and client management, …). cognito-local
 * answers them unsigned, so locally anyone could confirm, edit or promote any user; here, as in
 * AWS, they need a valid SigV4 signature by a key the stack knows.
 *
 * Answers are the AWS front end's, checked against captured responses:
 * - no signature: `MissingAuthenticationTokenException` "Missing Authentication Token" (cognito-idp
 *   ListUsers without credentials: aws/aws-sdk-cpp#1622, aws/aws-sdk-net-extensions-cognito#95);
 * - an unknown access key: `UnrecognizedClientException` "The security token included in the
 *   request is invalid." (cognito-idp AdminInitiateAuth with a bad key: pmill/aws-cognito#16);
 * - a malformed or wrong signature: `IncompleteSignatureException` / `InvalidSignatureException`
 *   with SigV4's own messages (sam/local/sigv4.ts).
 * - a known key whose policy does not allow the action: `AccessDeniedException` "User: <principal>
 *   is not authorized to perform: cognito-idp:<Action> on resource: <pool ARN> because no
 *   identity-based policy allows …" (IAM's refusal format), when the stack passes an authorizer.
 */
import type { IncomingMessage } from 'node:http';
import { parseAuthorization, verifySignature } from '../sigv4.js';
import { CognitoErrorType, CognitoServiceError } from './errors.js';

/** The secret of an access key the stack uses (its own, the functions' role), else undefined. */
export type SecretLookup = (accessKeyId: string) => string | undefined;

/**
 * IAM's verdict for an authenticated key: undefined when `cognito-idp:<operation>` is allowed on the
 * pool (`userPoolId`, undefined for pool-less operations), else the AccessDeniedException message.
 */
export type CallAuthorizer = (
  accessKeyId: string,
  operation: string,
  userPoolId: string | undefined,
) => string | undefined;

export const SIGNING_SERVICE = 'cognito-idp';

/**
 * Throws the AWS front end's answer unless `req` carries a valid SigV4 signature over `body` by a
 * key `secretFor` knows, scoped to `region` and cognito-idp. Returns the key's id.
 */
export function assertSigned(
  req: IncomingMessage,
  body: Buffer,
  expected: { readonly region: string; readonly now: number; readonly secretFor: SecretLookup },
): string {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '')
    throw new CognitoServiceError(
      CognitoErrorType.missingAuthenticationToken,
      'Missing Authentication Token',
    );
  const auth = parseAuthorization(header);
  if (!auth)
    throw new CognitoServiceError(
      CognitoErrorType.incompleteSignature,
      'The Authorization header is not a valid AWS4-HMAC-SHA256 signature',
    );
  const secret = expected.secretFor(auth.accessKeyId);
  if (secret === undefined)
    throw new CognitoServiceError(
      CognitoErrorType.unrecognizedClient,
      'The security token included in the request is invalid.',
    );
  const problem = verifySignature(
    { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headersDistinct, body },
    auth,
    secret,
    { region: expected.region, service: SIGNING_SERVICE, now: expected.now },
  );
  if (problem) throw new CognitoServiceError(problem.errorType, problem.message);
  return auth.accessKeyId;
}
