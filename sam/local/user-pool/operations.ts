/**
 * What the front does per operation before, instead of, or after relaying it to cognito-local.
 * An operation not listed here is relayed untouched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { assertWritable } from './attributes.js';
import type { StoredClient, UserPoolData } from './data.js';
import { CognitoErrorType, CognitoServiceError } from './errors.js';
import {
  attributeListMember,
  stringMapMember,
  stringMember,
  type WireResponse,
} from './protocol.js';
import { createSessionStore, INVALID_SESSION } from './sessions.js';
import { jwtPayload } from './tokens.js';
import type { Upstream, UpstreamAnswer } from './upstream.js';

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
}

type Handler = (call: Call) => Promise<WireResponse>;

/** Cognito's answer to a wrong password, and to an unknown user when existence errors are hidden. */
export const INCORRECT_CREDENTIALS = 'Incorrect username or password.';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
/** Constant-time comparison of a stored and a presented password. */
const samePassword = (stored: string | undefined, presented: string | undefined) =>
  stored !== undefined &&
  presented !== undefined &&
  timingSafeEqual(digest(stored), digest(presented));

export function createOperations(ctx: OperationsContext) {
  const { upstream, data } = ctx;
  const relay = (call: Call) => upstream.relay('POST', '/', call.headers, call.body);
  const sessions = createSessionStore(ctx.now);

  /** A challenge cognito-local answered with: its `Session` is now one the pool handed out. */
  const rememberChallenge = (answer: UpstreamAnswer, clientId: string, userPoolId: string) => {
    const json = answer.json;
    if (answer.status !== 200 || typeof json?.Session !== 'string') return;
    if (typeof json.ChallengeName !== 'string') return;
    const parameters = (json.ChallengeParameters ?? {}) as Record<string, unknown>;
    const username = parameters.USER_ID_FOR_SRP ?? parameters.USERNAME;
    if (typeof username !== 'string') return;
    sessions.remember(json.Session, {
      challengeName: json.ChallengeName,
      clientId,
      userPoolId,
      username,
      state: undefined,
    });
  };

  /**
   * RespondToAuthChallenge (and its Admin form) with a session cognito-local handed out for this
   * client, challenge and user; a successful answer uses the session up.
   */
  const respondToChallenge = async (call: Call, clientId: string): Promise<WireResponse> => {
    const challengeName = stringMember(call.input, 'ChallengeName') ?? '';
    const session = stringMember(call.input, 'Session');
    const pending = sessions.get(session, clientId, challengeName);
    const named = stringMapMember(call.input, 'ChallengeResponses').USERNAME;
    const user = named === undefined ? undefined : await data.user(pending.userPoolId, named);
    if (user?.Username !== pending.username)
      throw new CognitoServiceError(CognitoErrorType.notAuthorized, INVALID_SESSION);
    const answer = await relay(call);
    if (answer.status === 200) {
      sessions.forget(session as string);
      rememberChallenge(answer, clientId, pending.userPoolId);
    }
    return answer;
  };

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

  /** The app client an access token was issued to; a token that names none is refused. */
  const clientOfAccessToken = async (token: string | undefined): Promise<StoredClient> => {
    const claims = jwtPayload(token);
    const clientId = typeof claims?.client_id === 'string' ? claims.client_id : undefined;
    const client = clientId === undefined ? undefined : await data.client(clientId);
    if (!client || claims?.token_use !== 'access')
      throw new CognitoServiceError(CognitoErrorType.notAuthorized, 'Invalid Access Token');
    return client;
  };

  /**
   * USER_PASSWORD_AUTH / ADMIN_USER_PASSWORD_AUTH: the password checked before cognito-local sees
   * the call. cognito-local answers an invited user (FORCE_CHANGE_PASSWORD) with a
   * NEW_PASSWORD_REQUIRED challenge without looking at the password, so anyone could start an
   * invitee's first sign-in; and it answers a wrong password with InvalidPasswordException.
   */
  const checkPassword = async (client: StoredClient, parameters: Record<string, string>) => {
    const username = parameters.USERNAME;
    const user = username === undefined ? undefined : await data.user(client.UserPoolId, username);
    if (!user) {
      if (client.PreventUserExistenceErrors === 'ENABLED')
        throw new CognitoServiceError(CognitoErrorType.notAuthorized, INCORRECT_CREDENTIALS);
      throw new CognitoServiceError(CognitoErrorType.userNotFound, 'User does not exist.');
    }
    if (user.UserStatus === 'RESET_REQUIRED') return; // cognito-local answers as Cognito does
    if (!samePassword(user.Password, parameters.PASSWORD))
      throw new CognitoServiceError(CognitoErrorType.notAuthorized, INCORRECT_CREDENTIALS);
    if (user.Enabled === false)
      throw new CognitoServiceError(CognitoErrorType.notAuthorized, 'User is disabled.');
  };

  const handlers: Record<string, Handler> = {
    async InitiateAuth(call) {
      const client = await clientNamed(stringMember(call.input, 'ClientId'));
      if (stringMember(call.input, 'AuthFlow') === 'USER_PASSWORD_AUTH')
        await checkPassword(client, stringMapMember(call.input, 'AuthParameters'));
      const answer = await relay(call);
      rememberChallenge(answer, client.ClientId, client.UserPoolId);
      return answer;
    },
    async AdminInitiateAuth(call) {
      const client = await clientNamed(stringMember(call.input, 'ClientId'));
      if (stringMember(call.input, 'AuthFlow') === 'ADMIN_USER_PASSWORD_AUTH')
        await checkPassword(client, stringMapMember(call.input, 'AuthParameters'));
      const answer = await relay(call);
      rememberChallenge(answer, client.ClientId, client.UserPoolId);
      return answer;
    },
    async RespondToAuthChallenge(call) {
      const client = await clientNamed(stringMember(call.input, 'ClientId'));
      return respondToChallenge(call, client.ClientId);
    },
    async AdminRespondToAuthChallenge(call) {
      const client = await clientNamed(stringMember(call.input, 'ClientId'));
      return respondToChallenge(call, client.ClientId);
    },
    async SignUp(call) {
      const client = await clientNamed(stringMember(call.input, 'ClientId'));
      assertWritable(
        client,
        attributeListMember(call.input, 'UserAttributes').map((a) => a.Name),
      );
      return relay(call);
    },
    async UpdateUserAttributes(call) {
      const client = await clientOfAccessToken(stringMember(call.input, 'AccessToken'));
      assertWritable(
        client,
        attributeListMember(call.input, 'UserAttributes').map((a) => a.Name),
      );
      return relay(call);
    },
    async DeleteUserAttributes(call) {
      const client = await clientOfAccessToken(stringMember(call.input, 'AccessToken'));
      const names = call.input.UserAttributeNames;
      assertWritable(client, Array.isArray(names) ? names.map(String) : []);
      return relay(call);
    },
  };

  return {
    handle(call: Call): Promise<WireResponse> {
      const handler = Object.hasOwn(handlers, call.operation)
        ? handlers[call.operation]
        : undefined;
      return handler ? handler(call) : relay(call);
    },
  };
}
