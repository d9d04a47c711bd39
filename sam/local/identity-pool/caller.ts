/**
 * Who calls an IAM-signed operation (GetOpenIdTokenForDeveloperIdentity), and whether IAM lets them —
 * in the order the AWS front end answers, before the service looks at the request:
 *
 * 1. no `Authorization` header → MissingAuthenticationTokenException "Request is missing
 *    Authentication Token" (the name is what aws/aws-sdk-ruby#882 got from Cognito Identity; the
 *    message is the one seen from other AWS JSON services — unconfirmed for Cognito Identity);
 * 2. a header that is not SigV4 → IncompleteSignatureException (message ours);
 * 3. an access key the stack never issued → UnrecognizedClientException "The security token included
 *    in the request is invalid." (seen on cognito-idp, aws/aws-sdk-php#2444; inferred here), and so
 *    is a session token that is not the session's;
 * 4. expired temporary credentials → ExpiredTokenException "The security token included in the
 *    request is expired" (STS/DynamoDB's text; inferred here);
 * 5. a signature that does not verify with the key's secret → InvalidSignatureException (the generic
 *    AWS text, from sigv4.ts);
 * 6. IAM: the caller's identity-based policy must allow the action on the pool's ARN, else
 *    AccessDeniedException "User: <principal> is not authorized to perform: <action> on resource:
 *    <arn> because no identity-based policy allows the <action> action" (the format AWS uses for IAM
 *    refusals, e.g. aws-samples/resource-control-policy-examples#18; exact text for this action inferred).
 */
import type { IncomingMessage } from 'node:http';
import {
  type IamContextValue,
  IamDecision,
  type IamEvaluator,
  principalTagContext,
} from '../isolation/iam.js';
import { parseAuthorization, verifySignature } from '../sigv4.js';
import { ServiceError, ServiceErrorType } from './errors.js';

/** An IAM principal of the local stack, by access key id: a function's role or a tenant session. */
export interface IamCaller {
  readonly secretAccessKey: string;
  /** When set, `X-Amz-Security-Token` must be exactly this. */
  readonly sessionToken?: string;
  /** Temporary credentials expire; a function's stand-in role key does not. */
  readonly expiration?: Date;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>`: named in refusals. */
  readonly principalArn: string;
  /** The role's ARN (`aws:PrincipalArn`). */
  readonly roleArn?: string;
  /** Session tags (`aws:PrincipalTag/…`). */
  readonly principalTags?: Readonly<Record<string, string>>;
  /** Judges the caller's identity-based policies. */
  readonly evaluator: IamEvaluator;
}

/** The caller behind an access key id, or undefined when the stack never issued it. */
export type IamCallerLookup = (accessKeyId: string) => IamCaller | undefined;

const refuse = (type: ServiceErrorType, message: string) => new ServiceError(type, message);

/**
 * Authenticates a signed request.
 * @throws ServiceError with the front end's exception (see the module comment).
 */
export function authenticateCaller(
  req: IncomingMessage,
  body: Buffer,
  lookup: IamCallerLookup | undefined,
  expected: { readonly region: string; readonly now: number },
): IamCaller {
  const header = req.headers.authorization;
  if (header === undefined || header === '')
    throw refuse(
      ServiceErrorType.missingAuthenticationToken,
      'Request is missing Authentication Token',
    );
  const auth = parseAuthorization(header);
  if (!auth)
    throw refuse(
      ServiceErrorType.incompleteSignature,
      'The Authorization header is not a valid AWS4-HMAC-SHA256 signature',
    );
  const caller = lookup?.(auth.accessKeyId);
  const token = req.headersDistinct['x-amz-security-token'];
  const tokenMatches =
    caller?.sessionToken === undefined
      ? token === undefined
      : token?.length === 1 && token[0] === caller.sessionToken;
  if (!caller || !tokenMatches)
    throw refuse(
      ServiceErrorType.unrecognizedClient,
      'The security token included in the request is invalid.',
    );
  if (caller.expiration !== undefined && caller.expiration.getTime() <= expected.now)
    throw refuse(
      ServiceErrorType.expiredToken,
      'The security token included in the request is expired',
    );
  const problem = verifySignature(
    { method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headersDistinct, body },
    auth,
    caller.secretAccessKey,
    { region: expected.region, service: 'cognito-identity', now: expected.now },
  );
  if (problem) throw refuse(problem.errorType as ServiceErrorType, problem.message);
  return caller;
}

/**
 * IAM's verdict on `action` over `resource` for an authenticated caller.
 * @throws ServiceError AccessDeniedException on an explicit or implicit deny.
 */
export function authorizeCaller(
  caller: IamCaller,
  action: string,
  resource: string,
  context: { readonly accountId: string; readonly region: string },
): void {
  const requestContext: Record<string, IamContextValue> = {
    ...principalTagContext(caller.principalTags ?? {}),
    'aws:PrincipalType': 'AssumedRole',
    'aws:PrincipalAccount': context.accountId,
    'aws:RequestedRegion': context.region,
    ...(caller.roleArn === undefined ? {} : { 'aws:PrincipalArn': caller.roleArn }),
  };
  const { decision } = caller.evaluator.evaluate({ action, resource, context: requestContext });
  if (decision === IamDecision.allow) return;
  const why =
    decision === IamDecision.explicitDeny
      ? 'with an explicit deny in an identity-based policy'
      : `because no identity-based policy allows the ${action} action`;
  throw refuse(
    ServiceErrorType.accessDenied,
    `User: ${caller.principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`,
  );
}
