/**
 * Sign-in as Cognito runs it, in front of cognito-local:
 *
 * - `USER_SRP_AUTH` with the PASSWORD_VERIFIER challenge (srp.ts), which cognito-local lacks
 *   (`Unsupported: InitAuth with AuthFlow=USER_SRP_AUTH`), so the default flow of
 *   amazon-cognito-identity-js and Amplify works. Design: the front verifies the SRP proof itself,
 *   from the password cognito-local keeps in its data (a fresh salt and verifier per sign-in —
 *   Cognito's salt is fixed per user, but clients never keep it), and once the proof holds it asks
 *   cognito-local for the tokens with an internal USER_PASSWORD_AUTH. So every token is still
 *   minted by cognito-local (its key, its claims, its refresh-token store, the triggers) and the
 *   authorizer's verifier sees nothing new; the front only decides who gets them.
 * - `USER_PASSWORD_AUTH`: status and password checked before cognito-local sees the call.
 * - challenge sessions: only a session the pool handed out, for its client, challenge and user.
 * - the client's `ExplicitAuthFlows`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StoredClient, StoredUser, UserPoolData } from './data.js';
import { CognitoErrorType, CognitoServiceError } from './errors.js';
import { assertPasswordConforms } from './passwords.js';
import { jsonResponse, stringMapMember, stringMember, type WireResponse } from './protocol.js';
import { createSessionStore, INVALID_SESSION } from './sessions.js';
import {
  canonicalTimestamp,
  claimSignature,
  N,
  type RandomBytes,
  sameSignature,
  serverChallenge,
  sessionKey,
  srpPoolName,
  verifierOf,
} from './srp.js';
import { jwtPayload } from './tokens.js';
import type { Upstream, UpstreamAnswer } from './upstream.js';

/** Cognito's answer to a wrong password or proof, and to an unknown user when existence errors are hidden. */
export const INCORRECT_CREDENTIALS = 'Incorrect username or password.';
export const TIMESTAMP_FORMAT_MESSAGE =
  'TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.';

export interface AuthCall {
  readonly input: Record<string, unknown>;
  /** Relays the call as received. */
  relay(): Promise<UpstreamAnswer>;
}

export interface AuthContext {
  readonly upstream: Upstream;
  readonly data: UserPoolData;
  readonly now: () => number;
  readonly randomBytes?: RandomBytes;
  /** The app client a request names, or Cognito's ResourceNotFoundException. */
  clientNamed(clientId: string | undefined): Promise<StoredClient>;
}

interface SrpState {
  readonly A: bigint;
  readonly b: bigint;
  readonly B: bigint;
  readonly v: bigint;
  /** No such user (PreventUserExistenceErrors): the challenge can only fail. */
  readonly unknownUser: boolean;
  readonly clientMetadata: unknown;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
/** Constant-time comparison of a stored and a presented password. */
const samePassword = (stored: string | undefined, presented: string | undefined) =>
  stored !== undefined &&
  presented !== undefined &&
  timingSafeEqual(digest(stored), digest(presented));

const notAuthorized = (message = INCORRECT_CREDENTIALS) =>
  new CognitoServiceError(CognitoErrorType.notAuthorized, message);

/** Cognito's default flows when a client names none. */
const DEFAULT_FLOWS = ['ALLOW_USER_SRP_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'];

/** Throws Cognito's answer unless the client allows `flow` (its `ALLOW_` or legacy name). */
export function assertFlowEnabled(client: StoredClient, flow: string): void {
  const flows = client.ExplicitAuthFlows?.length ? client.ExplicitAuthFlows : DEFAULT_FLOWS;
  const names = flow === 'REFRESH_TOKEN' ? ['REFRESH_TOKEN_AUTH'] : [flow];
  if (!names.some((f) => flows.includes(`ALLOW_${f}`) || flows.includes(f)))
    throw new CognitoServiceError(
      CognitoErrorType.invalidParameter,
      `${flow} flow not enabled for this client`,
    );
}

const HEX = /^[0-9a-fA-F]{1,800}$/;

/**
 * An AuthenticationResult as Cognito gives it: cognito-local leaves out `ExpiresIn` (the access
 * token's lifetime in seconds) and `TokenType` (`Bearer`), which clients use to schedule refreshes.
 */
export function withTokenMetadata(answer: UpstreamAnswer): WireResponse {
  const result = answer.json?.AuthenticationResult as Record<string, unknown> | undefined;
  if (answer.status !== 200 || typeof result?.AccessToken !== 'string') return answer;
  const claims = jwtPayload(result.AccessToken);
  const lifetime =
    typeof claims?.exp === 'number' && typeof claims.iat === 'number'
      ? claims.exp - claims.iat
      : undefined;
  return jsonResponse({
    ...answer.json,
    AuthenticationResult: {
      ...result,
      ...(lifetime === undefined ? {} : { ExpiresIn: lifetime }),
      TokenType: 'Bearer',
    },
  });
}

export function createAuthFlows(ctx: AuthContext) {
  const { upstream, data } = ctx;
  const random = ctx.randomBytes ?? randomBytes;
  const sessions = createSessionStore(ctx.now);
  const srpSessions = createSessionStore<SrpState>(ctx.now);

  /** A challenge cognito-local answered with: its `Session` is now one the pool handed out. */
  const rememberChallenge = (answer: UpstreamAnswer, client: StoredClient) => {
    const json = answer.json;
    if (answer.status !== 200 || typeof json?.Session !== 'string') return;
    if (typeof json.ChallengeName !== 'string') return;
    const parameters = (json.ChallengeParameters ?? {}) as Record<string, unknown>;
    const username = parameters.USER_ID_FOR_SRP ?? parameters.USERNAME;
    if (typeof username !== 'string') return;
    sessions.remember(json.Session, {
      challengeName: json.ChallengeName,
      clientId: client.ClientId,
      userPoolId: client.UserPoolId,
      username,
      state: undefined,
    });
  };

  /** Unknown users: Cognito's two answers, by the client's PreventUserExistenceErrors. */
  const unknownUser = (client: StoredClient) =>
    client.PreventUserExistenceErrors === 'ENABLED'
      ? notAuthorized()
      : new CognitoServiceError(CognitoErrorType.userNotFound, 'User does not exist.');

  /**
   * A user's state before any password or proof is looked at. An unconfirmed user hears so even
   * with a wrong password — Cognito's intended behaviour (amazon-cognito-identity-js#288).
   */
  const assertUserMaySignIn = (user: StoredUser) => {
    if (user.UserStatus === 'UNCONFIRMED')
      throw new CognitoServiceError(CognitoErrorType.userNotConfirmed, 'User is not confirmed.');
  };

  /**
   * USER_PASSWORD_AUTH / ADMIN_USER_PASSWORD_AUTH: checked before cognito-local sees the call.
   * cognito-local answers an invited user (FORCE_CHANGE_PASSWORD) with a NEW_PASSWORD_REQUIRED
   * challenge without looking at the password, so anyone could start an invitee's first sign-in;
   * and it answers a wrong password with InvalidPasswordException.
   */
  const checkPassword = async (client: StoredClient, parameters: Record<string, string>) => {
    const username = parameters.USERNAME;
    const user = username === undefined ? undefined : await data.user(client.UserPoolId, username);
    if (!user) throw unknownUser(client);
    if (user.UserStatus === 'RESET_REQUIRED') return; // cognito-local answers as Cognito does
    assertUserMaySignIn(user);
    if (!samePassword(user.Password, parameters.PASSWORD)) throw notAuthorized();
    if (user.Enabled === false) throw notAuthorized('User is disabled.');
  };

  /**
   * A refresh token checked before cognito-local sees it: still stored (not revoked), not expired,
   * its user enabled. cognito-local checks only that it is stored, and says "User not authorized".
   */
  const checkRefreshToken = async (client: StoredClient, token: string | undefined) => {
    if (token === undefined || token === '')
      throw new CognitoServiceError(
        CognitoErrorType.invalidParameter,
        'Missing required parameter REFRESH_TOKEN',
      );
    const user = await data.userOfRefreshToken(client.UserPoolId, token);
    if (!user) throw notAuthorized('Invalid Refresh Token');
    const exp = jwtPayload(token)?.exp;
    if (typeof exp === 'number' && exp * 1000 <= ctx.now())
      throw notAuthorized('Refresh Token has expired');
    if (user.Enabled === false) throw notAuthorized('User is disabled.');
  };

  /** InitiateAuth USER_SRP_AUTH: the PASSWORD_VERIFIER challenge. */
  const startSrp = async (client: StoredClient, input: Record<string, unknown>) => {
    const parameters = stringMapMember(input, 'AuthParameters');
    const { USERNAME: username, SRP_A: srpA } = parameters;
    if (username === undefined)
      throw new CognitoServiceError(
        CognitoErrorType.invalidParameter,
        'Missing required parameter USERNAME',
      );
    if (srpA === undefined)
      throw new CognitoServiceError(
        CognitoErrorType.invalidParameter,
        'Missing required parameter SRP_A',
      );
    // Bounded before any arithmetic: a huge SRP_A would make the modular exponentiation slow.
    const A = HEX.test(srpA) ? BigInt(`0x${srpA}`) : 0n;
    if (A % N === 0n)
      throw new CognitoServiceError(CognitoErrorType.invalidParameter, 'Invalid SRP_A value.');
    const user = await data.user(client.UserPoolId, username);
    // With PreventUserExistenceErrors the first step answers alike for everyone; the second fails.
    if (!user && client.PreventUserExistenceErrors !== 'ENABLED') throw unknownUser(client);
    const userId = user?.Username ?? username;
    const salt = random(16);
    const saltValue = BigInt(`0x${salt.toString('hex')}`);
    const v = verifierOf(
      srpPoolName(client.UserPoolId),
      userId,
      user?.Password ?? random(32).toString('hex'),
      saltValue,
    );
    const { b, B } = serverChallenge(v, random);
    const secretBlock = random(64).toString('base64');
    srpSessions.remember(secretBlock, {
      challengeName: 'PASSWORD_VERIFIER',
      clientId: client.ClientId,
      userPoolId: client.UserPoolId,
      username: userId,
      state: { A, b, B, v, unknownUser: !user, clientMetadata: input.ClientMetadata },
    });
    // As Cognito answers (measured, ministack PR #1758): USER_ID_FOR_SRP is the pool's username,
    // and there is no Session — SECRET_BLOCK carries the state.
    return jsonResponse({
      ChallengeName: 'PASSWORD_VERIFIER',
      ChallengeParameters: {
        SALT: salt.toString('hex'),
        SECRET_BLOCK: secretBlock,
        SRP_B: B.toString(16),
        USERNAME: userId,
        USER_ID_FOR_SRP: userId,
      },
    });
  };

  /** RespondToAuthChallenge PASSWORD_VERIFIER: the proof checked, then tokens from cognito-local. */
  const finishSrp = async (client: StoredClient, input: Record<string, unknown>) => {
    const responses = stringMapMember(input, 'ChallengeResponses');
    const secretBlock = responses.PASSWORD_CLAIM_SECRET_BLOCK;
    let pending: ReturnType<typeof srpSessions.get>;
    try {
      pending = srpSessions.get(secretBlock, client.ClientId, 'PASSWORD_VERIFIER');
    } catch {
      throw notAuthorized();
    }
    // One proof per challenge: a failed one is not retried against the same B.
    srpSessions.forget(secretBlock as string);
    const canonical = canonicalTimestamp(responses.TIMESTAMP ?? '');
    if (canonical === undefined)
      throw new CognitoServiceError(CognitoErrorType.invalidParameter, TIMESTAMP_FORMAT_MESSAGE);
    const named = responses.USERNAME;
    const user = await data.user(client.UserPoolId, pending.username);
    if (pending.state.unknownUser || !user || named === undefined) throw notAuthorized();
    if (
      named !== pending.username &&
      (await data.user(client.UserPoolId, named))?.Username !== user.Username
    )
      throw notAuthorized();
    assertUserMaySignIn(user);
    const poolName = srpPoolName(client.UserPoolId);
    const key = sessionKey(pending.state.A, pending.state, pending.state.v);
    const signature = responses.PASSWORD_CLAIM_SIGNATURE;
    if (
      !key ||
      signature === undefined ||
      !sameSignature(
        claimSignature(key, poolName, pending.username, secretBlock as string, canonical),
        signature,
      )
    )
      throw notAuthorized();
    if (user.Enabled === false) throw notAuthorized('User is disabled.');
    // Proven. The tokens (or the next challenge: NEW_PASSWORD_REQUIRED, MFA) are cognito-local's.
    const answer = await upstream.call('InitiateAuth', {
      ClientId: client.ClientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: user.Username, PASSWORD: user.Password },
      ...(pending.state.clientMetadata === undefined
        ? {}
        : { ClientMetadata: pending.state.clientMetadata }),
    });
    rememberChallenge(answer, client);
    return withTokenMetadata(answer);
  };

  /**
   * A challenge answer with a session cognito-local handed out for this client, challenge and
   * user; a successful answer uses the session up.
   */
  const respondToChallenge = async (client: StoredClient, call: AuthCall) => {
    const challengeName = stringMember(call.input, 'ChallengeName') ?? '';
    const session = stringMember(call.input, 'Session');
    const pending = sessions.get(session, client.ClientId, challengeName);
    const responses = stringMapMember(call.input, 'ChallengeResponses');
    const user =
      responses.USERNAME === undefined
        ? undefined
        : await data.user(pending.userPoolId, responses.USERNAME);
    if (user?.Username !== pending.username) throw notAuthorized(INVALID_SESSION);
    if (challengeName === 'NEW_PASSWORD_REQUIRED')
      assertPasswordConforms(
        responses.NEW_PASSWORD,
        (await data.pool(pending.userPoolId))?.Policies?.PasswordPolicy,
      );
    const answer = await call.relay();
    if (answer.status === 200) {
      sessions.forget(session as string);
      rememberChallenge(answer, client);
    }
    return withTokenMetadata(answer);
  };

  return {
    async InitiateAuth(call: AuthCall): Promise<WireResponse> {
      const client = await ctx.clientNamed(stringMember(call.input, 'ClientId'));
      const flow = stringMember(call.input, 'AuthFlow') ?? '';
      if (flow === 'USER_SRP_AUTH') {
        assertFlowEnabled(client, flow);
        return startSrp(client, call.input);
      }
      if (flow === 'USER_PASSWORD_AUTH') {
        assertFlowEnabled(client, flow);
        await checkPassword(client, stringMapMember(call.input, 'AuthParameters'));
      }
      if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN') {
        assertFlowEnabled(client, flow);
        await checkRefreshToken(
          client,
          stringMapMember(call.input, 'AuthParameters').REFRESH_TOKEN,
        );
      }
      const answer = await call.relay();
      rememberChallenge(answer, client);
      return withTokenMetadata(answer);
    },
    async AdminInitiateAuth(call: AuthCall): Promise<WireResponse> {
      const client = await ctx.clientNamed(stringMember(call.input, 'ClientId'));
      const flow = stringMember(call.input, 'AuthFlow');
      if (flow === 'ADMIN_USER_PASSWORD_AUTH')
        await checkPassword(client, stringMapMember(call.input, 'AuthParameters'));
      if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN')
        await checkRefreshToken(
          client,
          stringMapMember(call.input, 'AuthParameters').REFRESH_TOKEN,
        );
      const answer = await call.relay();
      rememberChallenge(answer, client);
      return withTokenMetadata(answer);
    },
    /**
     * GetTokensFromRefreshToken (Amplify v6's refresh; cognito-local lacks it): a REFRESH_TOKEN_AUTH
     * underneath. Without refresh-token rotation Cognito returns no new refresh token, and neither
     * does this; Amplify then keeps the one it has.
     */
    async GetTokensFromRefreshToken(call: AuthCall): Promise<WireResponse> {
      const client = await ctx.clientNamed(stringMember(call.input, 'ClientId'));
      assertFlowEnabled(client, 'REFRESH_TOKEN_AUTH');
      const refreshToken = stringMember(call.input, 'RefreshToken');
      await checkRefreshToken(client, refreshToken);
      const answer = await upstream.call('InitiateAuth', {
        ClientId: client.ClientId,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: refreshToken },
        ...(call.input.ClientMetadata === undefined
          ? {}
          : { ClientMetadata: call.input.ClientMetadata }),
      });
      if (answer.status !== 200) return answer;
      const result = (answer.json?.AuthenticationResult ?? {}) as Record<string, unknown>;
      return withTokenMetadata({
        ...answer,
        json: {
          AuthenticationResult: { AccessToken: result.AccessToken, IdToken: result.IdToken },
        },
      });
    },
    async RespondToAuthChallenge(call: AuthCall): Promise<WireResponse> {
      const client = await ctx.clientNamed(stringMember(call.input, 'ClientId'));
      if (stringMember(call.input, 'ChallengeName') === 'PASSWORD_VERIFIER')
        return finishSrp(client, call.input);
      return respondToChallenge(client, call);
    },
    async AdminRespondToAuthChallenge(call: AuthCall): Promise<WireResponse> {
      const client = await ctx.clientNamed(stringMember(call.input, 'ClientId'));
      return respondToChallenge(client, call);
    },
  };
}
