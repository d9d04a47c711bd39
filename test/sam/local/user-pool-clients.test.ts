/**
 * The front-end libraries with their defaults against template.yaml's pool behind the user-pool
 * front: amazon-cognito-identity-js and Amplify v6 sign in with USER_SRP_AUTH, refresh, sign out;
 * the AWS SDK sees Cognito's AuthenticationResult and errors. Each answer is compared with
 * Cognito's documented one (API reference: InitiateAuth, RespondToAuthChallenge,
 * GetTokensFromRefreshToken; AuthenticationResultType).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { fetchAuthSession, getCurrentUser, signIn, signOut } from '@aws-amplify/auth';
import {
  AdminConfirmSignUpCommand,
  AdminDisableUserCommand,
  GetTokensFromRefreshTokenCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalTimestamp,
  claimSignature,
  formatTimestamp,
  g,
  modPow,
  N,
  padHex,
  passwordExponent,
  srpPoolName,
} from '../../../sam/local/user-pool/srp.js';
import { configureAmplify, identityJs } from '../../fixtures/client-libraries.js';
import { type FrontedUserPool, startFrontedUserPool } from '../../fixtures/user-pool.js';

const PASSWORD = 'Passw0rd!local';
let pool: FrontedUserPool;

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ name: 'resolved', message: '' }),
    (error: Error & { code?: string }) => ({
      name: error.name === 'Error' && error.code ? error.code : error.name,
      message: error.message,
    }),
  );

async function confirmedUser(email: string): Promise<string> {
  const { UserSub } = await pool.admin.send(
    new SignUpCommand({ ClientId: pool.clientId, Username: email, Password: PASSWORD }),
  );
  await pool.admin.send(
    new AdminConfirmSignUpCommand({ UserPoolId: pool.userPoolId, Username: email }),
  );
  return UserSub ?? '';
}

beforeAll(async () => {
  pool = await startFrontedUserPool();
}, 60_000);
afterAll(() => pool?.stop());

describe('amazon-cognito-identity-js with its defaults (USER_SRP_AUTH)', () => {
  it('signs in with SRP and gets tokens cognito-local minted for the template client', async () => {
    const email = 'srp-user@example.com';
    const sub = await confirmedUser(email);
    const session = await identityJs(pool).signIn(email, PASSWORD);
    const id = session.getIdToken().payload;
    expect(id).toMatchObject({
      sub,
      email,
      token_use: 'id',
      aud: pool.clientId,
      iss: `https://cognito-idp.us-east-1.amazonaws.com/${pool.userPoolId}`,
    });
    expect(session.getAccessToken().payload).toMatchObject({
      sub,
      client_id: pool.clientId,
      token_use: 'access',
    });
    // Cognito's default lifetime without template settings: 1 hour (cognito-local's own: 24 h).
    expect(id.exp - id.iat).toBe(3600);
    expect(session.getRefreshToken().getToken()).not.toBe('');
  });

  it("a wrong password, an unknown user and an unconfirmed user get Cognito's answers", async () => {
    const email = 'srp-wrong@example.com';
    await confirmedUser(email);
    const lib = identityJs(pool);
    expect(await failure(lib.signIn(email, 'Wr0ng!password'))).toEqual({
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
    expect(await failure(lib.signIn('nobody-here@example.com', PASSWORD))).toEqual({
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
    await pool.admin.send(
      new SignUpCommand({
        ClientId: pool.clientId,
        Username: 'srp-unconfirmed@example.com',
        Password: PASSWORD,
      }),
    );
    expect(await failure(lib.signIn('srp-unconfirmed@example.com', PASSWORD))).toEqual({
      name: 'UserNotConfirmedException',
      message: 'User is not confirmed.',
    });
    await pool.admin.send(
      new AdminDisableUserCommand({ UserPoolId: pool.userPoolId, Username: email }),
    );
    expect(await failure(lib.signIn(email, PASSWORD))).toEqual({
      name: 'NotAuthorizedException',
      message: 'User is disabled.',
    });
  });

  it('refreshSession gets new ID and access tokens and keeps the refresh token', async () => {
    const email = 'srp-refresh@example.com';
    await confirmedUser(email);
    const lib = identityJs(pool);
    const first = await lib.signIn(email, PASSWORD);
    const refreshed = await lib.refresh(email, first.getRefreshToken().getToken());
    expect(refreshed.getIdToken().payload.jti).not.toBe(first.getIdToken().payload.jti);
    expect(refreshed.getIdToken().payload.email).toBe(email);
    expect(refreshed.getRefreshToken().getToken()).toBe(first.getRefreshToken().getToken());
    await lib.signOut();
    expect(lib.currentUser()).toBeNull();
  });
});

describe('Amplify v6 with its defaults', () => {
  beforeAll(() => configureAmplify(pool));

  it('signIn (USER_SRP_AUTH), fetchAuthSession, a forced refresh, signOut', async () => {
    const email = 'amplify-user@example.com';
    const sub = await confirmedUser(email);
    const result = await signIn({ username: email, password: PASSWORD });
    expect(result).toEqual({ isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    expect(await getCurrentUser()).toMatchObject({ userId: sub });
    const session = await fetchAuthSession();
    const idToken = session.tokens?.idToken;
    expect(idToken?.payload).toMatchObject({ sub, email, aud: pool.clientId });
    // GetTokensFromRefreshToken underneath; cognito-local has no such operation.
    const forced = await fetchAuthSession({ forceRefresh: true });
    expect(forced.tokens?.idToken?.payload.jti).not.toBe(idToken?.payload.jti);
    expect(forced.tokens?.accessToken.payload.sub).toBe(sub);
    expect(pool.front.stats().calls.GetTokensFromRefreshToken).toBeGreaterThan(0);
    await signOut();
    expect((await fetchAuthSession()).tokens).toBeUndefined();
  });

  it('a wrong password is NotAuthorizedException', async () => {
    const email = 'amplify-wrong@example.com';
    await confirmedUser(email);
    expect(await failure(signIn({ username: email, password: 'Wr0ng!password' }))).toEqual({
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
  });
});

describe('the AWS SDK sees Cognito’s answers', () => {
  it('AuthenticationResult carries ExpiresIn and TokenType; GetTokensFromRefreshToken too', async () => {
    const email = 'sdk-user@example.com';
    await confirmedUser(email);
    const user = pool.client();
    const { AuthenticationResult: r } = await user.send(
      new InitiateAuthCommand({
        ClientId: pool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD },
      }),
    );
    expect(r).toMatchObject({ ExpiresIn: 3600, TokenType: 'Bearer' });
    const refreshed = await user.send(
      new GetTokensFromRefreshTokenCommand({
        ClientId: pool.clientId,
        RefreshToken: r?.RefreshToken,
      }),
    );
    expect(refreshed.AuthenticationResult).toMatchObject({
      AccessToken: expect.any(String),
      IdToken: expect.any(String),
      ExpiresIn: 3600,
      TokenType: 'Bearer',
    });
    // No refresh-token rotation in the template: no new refresh token, as in Cognito.
    expect(refreshed.AuthenticationResult?.RefreshToken).toBeUndefined();
    expect(
      await failure(
        user.send(
          new GetTokensFromRefreshTokenCommand({ ClientId: pool.clientId, RefreshToken: 'x.y.z' }),
        ),
      ),
    ).toEqual({ name: 'NotAuthorizedException', message: 'Invalid Refresh Token' });
  });

  it('a PASSWORD_VERIFIER proof is bound to its secret block, its timestamp as Cognito parses it, and the password', async () => {
    const email = 'sdk-srp@example.com';
    await confirmedUser(email);
    const user = pool.client();
    const poolName = srpPoolName(pool.userPoolId);
    /** One USER_SRP_AUTH start, and the client side of SRP-6a written from the protocol. */
    const challenge = async () => {
      const a = BigInt(`0x${randomBytes(32).toString('hex')}`);
      const A = modPow(g, a, N);
      const start = await user.send(
        new InitiateAuthCommand({
          ClientId: pool.clientId,
          AuthFlow: 'USER_SRP_AUTH',
          AuthParameters: { USERNAME: email, SRP_A: A.toString(16) },
        }),
      );
      const p = start.ChallengeParameters ?? {};
      const userId = p.USER_ID_FOR_SRP ?? '';
      const sign = (timestamp: string, password = PASSWORD) => {
        const B = BigInt(`0x${p.SRP_B}`);
        const u = hashToBigInt(padHex(A) + padHex(B));
        const k = hashToBigInt(padHex(N) + padHex(g));
        const x = passwordExponent(poolName, userId, password, BigInt(`0x${p.SALT}`));
        const S = modPow(B - ((k * modPow(g, x, N)) % N) + N, a + u * x, N);
        return claimSignature(
          hkdf(padHex(S), padHex(u)),
          poolName,
          userId,
          p.SECRET_BLOCK ?? '',
          timestamp,
        );
      };
      const respond = (timestamp: string, signature: string) =>
        user.send(
          new RespondToAuthChallengeCommand({
            ClientId: pool.clientId,
            ChallengeName: 'PASSWORD_VERIFIER',
            ChallengeResponses: {
              USERNAME: userId,
              PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK ?? '',
              TIMESTAMP: timestamp,
              PASSWORD_CLAIM_SIGNATURE: signature,
            },
          }),
        );
      return { start, userId, sign, respond };
    };
    const incorrect = {
      name: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    };

    const ok = await challenge();
    // Cognito's shape: the pool's username as USER_ID_FOR_SRP, no Session.
    expect(ok.start.ChallengeName).toBe('PASSWORD_VERIFIER');
    expect(ok.start.Session).toBeUndefined();
    expect(ok.userId).not.toBe(email);
    const now = formatTimestamp(Date.now());
    const { AuthenticationResult } = await ok.respond(now, ok.sign(now));
    expect(AuthenticationResult).toMatchObject({ ExpiresIn: 3600, TokenType: 'Bearer' });
    expect(claims(AuthenticationResult?.IdToken ?? '').email).toBe(email);
    // One proof per SECRET_BLOCK.
    expect(await failure(ok.respond(now, ok.sign(now)))).toEqual(incorrect);

    const wrong = await challenge();
    expect(await failure(wrong.respond(now, wrong.sign(now, 'Wr0ng!password')))).toEqual(incorrect);

    // "Sun Jan 05": parsed, but Cognito signs over "Sun Jan 5" (measured against AWS).
    expect(formatTimestamp(Date.UTC(2025, 0, 5, 9, 3, 7))).toBe('Sun Jan 5 09:03:07 UTC 2025');
    expect(canonicalTimestamp('Sun Jan 05 09:03:07 UTC 2025')).toBe('Sun Jan 5 09:03:07 UTC 2025');
    const padded = await challenge();
    const paddedDay = 'Sun Jan 05 09:03:07 UTC 2025';
    expect(await failure(padded.respond(paddedDay, padded.sign(paddedDay)))).toEqual(incorrect);

    const malformed = await challenge();
    expect(await failure(malformed.respond('yesterday', malformed.sign('yesterday')))).toEqual({
      name: 'InvalidParameterException',
      message: 'TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.',
    });
  });
});

const hashToBigInt = (hex: string) =>
  BigInt(`0x${createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex')}`);
const hkdf = (ikmHex: string, saltHex: string) => {
  const prk = createHmac('sha256', Buffer.from(saltHex, 'hex'))
    .update(Buffer.from(ikmHex, 'hex'))
    .digest();
  return createHmac('sha256', prk)
    .update(Buffer.concat([Buffer.from('Caldera Derived Key'), Buffer.from([1])]))
    .digest()
    .subarray(0, 16);
};
