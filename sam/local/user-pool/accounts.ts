/**
 * Accounts as Cognito keeps them, in front of cognito-local: sign-up and its confirmation, password
 * resets and changes, admin-created users.
 *
 * - the pool's password policy wherever a password is set (passwords.ts);
 * - ConfirmSignUp and ConfirmForgotPassword check the code themselves first: cognito-local compares
 *   `user.ConfirmationCode !== req.ConfirmationCode`, so a ConfirmForgotPassword *without* a code
 *   set the password of any user who had no pending code; and it confirms anyone whatever their
 *   status;
 * - `email_verified` becomes true when a sign-up is confirmed with the code sent by email and the
 *   pool auto-verifies email (`AutoVerifiedAttributes`), set before cognito-local runs the
 *   PostConfirmation trigger so the trigger sees it, as it does in Cognito. AdminConfirmSignUp
 *   verifies nothing, in Cognito as here;
 * - unknown users get Cognito's answers by the client's PreventUserExistenceErrors;
 * - Cognito's messages where cognito-local's differ, and delivery destinations masked.
 */
import type { StoredClient, StoredUser, UserPoolData } from './data.js';
import { userAttribute } from './data.js';
import { CognitoErrorType, CognitoServiceError, UserPoolFrontError } from './errors.js';
import { ADMIN_CREATE_USER_PREFIX, assertPasswordConforms } from './passwords.js';
import { jsonResponse, stringMember, type WireResponse } from './protocol.js';
import type { Upstream, UpstreamAnswer } from './upstream.js';

export const INVALID_CODE = 'Invalid verification code provided, please try again.';
export const EXPIRED_CODE = 'Invalid code provided, please request a code again.';
export const UNKNOWN_USERNAME = 'Username/client id combination not found.';

/** A code or temporary password the pool "sent" (locally: handed to the stack's log). */
export interface UserPoolMessage {
  readonly kind:
    | 'sign-up confirmation code'
    | 'password reset code'
    | 'attribute verification code'
    | 'temporary password';
  readonly userPoolId: string;
  /** The pool's username of the user (the `sub` when email is the username). */
  readonly username: string;
  readonly email: string | undefined;
  readonly code: string;
}

export interface AccountCall {
  readonly input: Record<string, unknown>;
  relay(): Promise<UpstreamAnswer>;
}

export interface AccountContext {
  readonly upstream: Upstream;
  readonly data: UserPoolData;
  clientNamed(clientId: string | undefined): Promise<StoredClient>;
  /** The client of a verified access token. */
  clientOfAccessToken(token: string | undefined): Promise<{
    client: StoredClient;
    claims: Record<string, unknown>;
  }>;
  readonly onMessage?: (message: UserPoolMessage) => void;
}

const error = (type: CognitoErrorType, message: string) => new CognitoServiceError(type, message);

/** `alice@example.com` → `a***@e***`, as Cognito shows a delivery destination. */
export function maskDestination(destination: string): string {
  const at = destination.indexOf('@');
  if (at < 0) return `+${'*'.repeat(Math.max(0, destination.length - 4))}${destination.slice(-4)}`;
  return `${destination.slice(0, 1)}***@${destination.slice(at + 1, at + 2)}***`;
}

/** An answer with Cognito's message for an error cognito-local words differently. */
function withMessages(
  answer: UpstreamAnswer,
  messages: Readonly<Record<string, readonly [CognitoErrorType, string]>>,
): WireResponse {
  const mapped = answer.errorType === undefined ? undefined : messages[answer.errorType];
  if (!mapped) return answer;
  throw error(mapped[0], mapped[1]);
}

/** CodeDeliveryDetails(List) with destinations masked. */
function maskedDeliveries(answer: UpstreamAnswer): WireResponse {
  const json = answer.json;
  if (answer.status !== 200 || !json) return answer;
  const mask = (d: unknown) => {
    const details = d as Record<string, unknown>;
    return typeof details?.Destination === 'string'
      ? { ...details, Destination: maskDestination(details.Destination) }
      : d;
  };
  if (json.CodeDeliveryDetails === undefined && !Array.isArray(json.CodeDeliveryDetailsList))
    return answer;
  return jsonResponse({
    ...json,
    ...(json.CodeDeliveryDetails === undefined
      ? {}
      : { CodeDeliveryDetails: mask(json.CodeDeliveryDetails) }),
    ...(Array.isArray(json.CodeDeliveryDetailsList)
      ? { CodeDeliveryDetailsList: json.CodeDeliveryDetailsList.map(mask) }
      : {}),
  });
}

export function createAccountOperations(ctx: AccountContext) {
  const { data, upstream } = ctx;
  const policyOf = async (userPoolId: string) =>
    (await data.pool(userPoolId))?.Policies?.PasswordPolicy;

  /** Reports a code cognito-local just stored for `user` (read back from its data). */
  const report = async (
    kind: UserPoolMessage['kind'],
    userPoolId: string,
    username: string,
    field: 'ConfirmationCode' | 'AttributeVerificationCode' | 'Password',
  ) => {
    if (!ctx.onMessage) return;
    const user = await data.user(userPoolId, username);
    const code = user?.[field];
    if (!user || typeof code !== 'string') return;
    ctx.onMessage({
      kind,
      userPoolId,
      username: user.Username,
      email: userAttribute(user, 'email'),
      code,
    });
  };

  const unknownUser = (client: StoredClient, hidden: CognitoServiceError) =>
    client.PreventUserExistenceErrors === 'ENABLED'
      ? hidden
      : error(CognitoErrorType.userNotFound, UNKNOWN_USERNAME);

  /** The code a user was sent, checked as Cognito checks it. */
  const assertCode = (user: StoredUser, code: string | undefined) => {
    if (code === undefined || code === '')
      throw error(CognitoErrorType.invalidParameter, 'Missing required parameter ConfirmationCode');
    if (!user.ConfirmationCode) throw error(CognitoErrorType.expiredCode, EXPIRED_CODE);
    if (user.ConfirmationCode !== code) throw error(CognitoErrorType.codeMismatch, INVALID_CODE);
  };

  return {
    async SignUp(call: AccountCall, client: StoredClient): Promise<WireResponse> {
      assertPasswordConforms(
        stringMember(call.input, 'Password'),
        await policyOf(client.UserPoolId),
      );
      const answer = await call.relay();
      const pool = await data.pool(client.UserPoolId);
      const emailIsUsername = pool?.UsernameAttributes?.includes('email') ?? false;
      withMessages(answer, {
        UsernameExistsException: [
          CognitoErrorType.usernameExists,
          emailIsUsername
            ? 'An account with the given email already exists.'
            : 'User already exists',
        ],
      });
      if (answer.status === 200)
        await report(
          'sign-up confirmation code',
          client.UserPoolId,
          String(answer.json?.UserSub ?? stringMember(call.input, 'Username')),
          'ConfirmationCode',
        );
      return maskedDeliveries(answer);
    },

    async ConfirmSignUp(call: AccountCall): Promise<WireResponse> {
      const client = await ctx.clientNamed(stringMember(call.input, 'ClientId'));
      const user = await data.user(client.UserPoolId, stringMember(call.input, 'Username') ?? '');
      if (!user) throw unknownUser(client, error(CognitoErrorType.codeMismatch, INVALID_CODE));
      if (user.UserStatus !== 'UNCONFIRMED')
        throw error(
          CognitoErrorType.notAuthorized,
          `User cannot be confirmed. Current status is ${user.UserStatus ?? 'UNKNOWN'}`,
        );
      assertCode(user, stringMember(call.input, 'ConfirmationCode'));
      const pool = await data.pool(client.UserPoolId);
      const email = userAttribute(user, 'email');
      if (pool?.AutoVerifiedAttributes?.includes('email') && email) {
        // cognito-local wants the address beside its verified flag.
        const verified = await upstream.call('AdminUpdateUserAttributes', {
          UserPoolId: client.UserPoolId,
          Username: user.Username,
          UserAttributes: [
            { Name: 'email', Value: email },
            { Name: 'email_verified', Value: 'true' },
          ],
        });
        if (verified.status !== 200)
          throw new UserPoolFrontError(
            `cognito-local refused to mark the email verified: ${verified.errorType ?? verified.status}`,
          );
      }
      return withMessages(await call.relay(), {
        CodeMismatchException: [CognitoErrorType.codeMismatch, INVALID_CODE],
      });
    },

    async ForgotPassword(call: AccountCall): Promise<WireResponse> {
      const client = await ctx.clientNamed(stringMember(call.input, 'ClientId'));
      const username = stringMember(call.input, 'Username') ?? '';
      const user = await data.user(client.UserPoolId, username);
      if (!user) {
        if (client.PreventUserExistenceErrors !== 'ENABLED')
          throw error(CognitoErrorType.userNotFound, UNKNOWN_USERNAME);
        // Hidden: an answer like any other, nothing delivered.
        return jsonResponse({
          CodeDeliveryDetails: {
            AttributeName: 'email',
            DeliveryMedium: 'EMAIL',
            Destination: maskDestination(username.includes('@') ? username : `${username}@x`),
          },
        });
      }
      const answer = await call.relay();
      if (answer.status === 200)
        await report('password reset code', client.UserPoolId, user.Username, 'ConfirmationCode');
      return maskedDeliveries(answer);
    },

    async ConfirmForgotPassword(call: AccountCall): Promise<WireResponse> {
      const client = await ctx.clientNamed(stringMember(call.input, 'ClientId'));
      const user = await data.user(client.UserPoolId, stringMember(call.input, 'Username') ?? '');
      if (!user) throw unknownUser(client, error(CognitoErrorType.codeMismatch, INVALID_CODE));
      assertCode(user, stringMember(call.input, 'ConfirmationCode'));
      assertPasswordConforms(
        stringMember(call.input, 'Password'),
        await policyOf(client.UserPoolId),
      );
      return withMessages(await call.relay(), {
        CodeMismatchException: [CognitoErrorType.codeMismatch, INVALID_CODE],
      });
    },

    async ChangePassword(call: AccountCall): Promise<WireResponse> {
      const { client } = await ctx.clientOfAccessToken(stringMember(call.input, 'AccessToken'));
      assertPasswordConforms(
        stringMember(call.input, 'ProposedPassword'),
        await policyOf(client.UserPoolId),
      );
      // cognito-local: InvalidPasswordException for a wrong previous password.
      return withMessages(await call.relay(), {
        InvalidPasswordException: [
          CognitoErrorType.notAuthorized,
          'Incorrect username or password.',
        ],
      });
    },

    async AdminSetUserPassword(call: AccountCall): Promise<WireResponse> {
      assertPasswordConforms(
        stringMember(call.input, 'Password'),
        await policyOf(stringMember(call.input, 'UserPoolId') ?? ''),
      );
      return call.relay();
    },

    async AdminCreateUser(call: AccountCall): Promise<WireResponse> {
      const userPoolId = stringMember(call.input, 'UserPoolId') ?? '';
      assertPasswordConforms(
        stringMember(call.input, 'TemporaryPassword'),
        await policyOf(userPoolId),
        ADMIN_CREATE_USER_PREFIX,
      );
      const answer = await call.relay();
      if (answer.status === 200 && call.input.MessageAction !== 'SUPPRESS')
        await report(
          'temporary password',
          userPoolId,
          stringMember(call.input, 'Username') ?? '',
          'Password',
        );
      return answer;
    },

    async UpdateUserAttributes(call: AccountCall, client: StoredClient, sub: string) {
      const answer = await call.relay();
      const list = answer.json?.CodeDeliveryDetailsList;
      if (answer.status === 200 && Array.isArray(list) && list.length > 0)
        await report(
          'attribute verification code',
          client.UserPoolId,
          sub,
          'AttributeVerificationCode',
        );
      return maskedDeliveries(answer);
    },

    async GetUserAttributeVerificationCode(call: AccountCall): Promise<WireResponse> {
      const { client, claims } = await ctx.clientOfAccessToken(
        stringMember(call.input, 'AccessToken'),
      );
      const answer = await call.relay();
      if (answer.status === 200)
        await report(
          'attribute verification code',
          client.UserPoolId,
          String(claims.sub),
          'AttributeVerificationCode',
        );
      return maskedDeliveries(answer);
    },
  };
}
