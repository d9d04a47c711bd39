/**
 * What the front does per operation before, instead of, or after relaying it to cognito-local.
 * An operation not listed here is relayed untouched.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createAccountOperations, type UserPoolMessage } from './accounts.js';
import { assertWritable } from './attributes.js';
import { createAuthFlows } from './auth.js';
import type { StoredClient, UserPoolData } from './data.js';
import { CognitoErrorType, CognitoServiceError, UserPoolFrontError } from './errors.js';
import { attributeListMember, stringMember, type WireResponse } from './protocol.js';
import type { RandomBytes } from './srp.js';
import { createAccessTokenVerifier, type JsonWebKeySet } from './tokens.js';
import type { Upstream } from './upstream.js';

/** One awsJson call the front received. */
export interface Call {
  readonly operation: string;
  readonly input: Record<string, unknown>;
  /** The body as received, relayed byte for byte when the front changes nothing. */
  readonly body: Buffer;
  readonly headers: IncomingHttpHeaders;
}

export interface OperationsContext {
  readonly upstream: Upstream;
  readonly data: UserPoolData;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly randomBytes?: RandomBytes;
  /** Each code or temporary password the pool "sends". */
  readonly onMessage?: (message: UserPoolMessage) => void;
}

type Handler = (call: Call) => Promise<WireResponse>;

export function createOperations(ctx: OperationsContext) {
  const { upstream, data } = ctx;
  const relay = (call: Call) => upstream.relay('POST', '/', call.headers, call.body);

  /** The app client a request names, or Cognito's answer for an unknown one. */
  const clientNamed = async (clientId: string | undefined): Promise<StoredClient> => {
    const client = clientId === undefined ? undefined : await data.client(clientId);
    if (!client)
      throw new CognitoServiceError(
        CognitoErrorType.resourceNotFound,
        `User pool client ${clientId ?? ''} does not exist.`,
      );
    return client;
  };

  const accessTokens = createAccessTokenVerifier({
    now: ctx.now,
    async jwks(userPoolId) {
      const answer = await upstream.relay(
        'GET',
        `/${encodeURIComponent(userPoolId)}/.well-known/jwks.json`,
        {},
        Buffer.alloc(0),
      );
      if (answer.status !== 200 || !Array.isArray(answer.json?.keys))
        throw new UserPoolFrontError(`cognito-local served no JWKS (${answer.status})`);
      return answer.json as unknown as JsonWebKeySet;
    },
  });
  const verifyAccessToken = (token: string | undefined) =>
    accessTokens.verify(token, async (clientId) => (await data.client(clientId))?.UserPoolId);

  /** The app client a valid access token was issued to, and the token's claims. */
  const clientOfAccessToken = async (token: string | undefined) => {
    const claims = await verifyAccessToken(token);
    return { client: await clientNamed(claims.client_id as string), claims };
  };

  const auth = createAuthFlows({ ...ctx, clientNamed });
  const accounts = createAccountOperations({ ...ctx, clientNamed, clientOfAccessToken });
  const authCall = (call: Call) => ({ input: call.input, relay: () => relay(call) });

  const handlers: Record<string, Handler> = {
    InitiateAuth: (call) => auth.InitiateAuth(authCall(call)),
    AdminInitiateAuth: (call) => auth.AdminInitiateAuth(authCall(call)),
    RespondToAuthChallenge: (call) => auth.RespondToAuthChallenge(authCall(call)),
    AdminRespondToAuthChallenge: (call) => auth.AdminRespondToAuthChallenge(authCall(call)),
    GetTokensFromRefreshToken: (call) => auth.GetTokensFromRefreshToken(authCall(call)),
    ConfirmSignUp: (call) => accounts.ConfirmSignUp(authCall(call)),
    ForgotPassword: (call) => accounts.ForgotPassword(authCall(call)),
    ConfirmForgotPassword: (call) => accounts.ConfirmForgotPassword(authCall(call)),
    ChangePassword: (call) => accounts.ChangePassword(authCall(call)),
    AdminSetUserPassword: (call) => accounts.AdminSetUserPassword(authCall(call)),
    AdminCreateUser: (call) => accounts.AdminCreateUser(authCall(call)),
    GetUserAttributeVerificationCode: (call) =>
      accounts.GetUserAttributeVerificationCode(authCall(call)),
    async SignUp(call) {
      const client = await clientNamed(stringMember(call.input, 'ClientId'));
      assertWritable(
        client,
        attributeListMember(call.input, 'UserAttributes').map((a) => a.Name),
      );
      return accounts.SignUp(authCall(call), client);
    },
    async UpdateUserAttributes(call) {
      const { client, claims } = await clientOfAccessToken(stringMember(call.input, 'AccessToken'));
      assertWritable(
        client,
        attributeListMember(call.input, 'UserAttributes').map((a) => a.Name),
      );
      return accounts.UpdateUserAttributes(authCall(call), client, String(claims.sub));
    },
    async DeleteUserAttributes(call) {
      const { client } = await clientOfAccessToken(stringMember(call.input, 'AccessToken'));
      const names = call.input.UserAttributeNames;
      assertWritable(client, Array.isArray(names) ? names.map(String) : []);
      return relay(call);
    },
  };

  return {
    async handle(call: Call): Promise<WireResponse> {
      const handler = Object.hasOwn(handlers, call.operation)
        ? handlers[call.operation]
        : undefined;
      if (handler) return handler(call);
      // Every other operation a user calls with an access token (GetUser, DeleteUser,
      // ChangePassword, VerifyUserAttribute, …): the token verified before cognito-local reads it.
      if (call.input.AccessToken !== undefined)
        await verifyAccessToken(stringMember(call.input, 'AccessToken'));
      return relay(call);
    },
  };
}
