/**
 * The user-pool front before a real cognito-local, with template.yaml's pool and app client, driven
 * by the real `@aws-sdk/client-cognito-identity-provider`. Each refusal is compared with Cognito's
 * documented or captured answer; "nothing changed" is read from cognito-local directly.
 */
import {
  AdminConfirmSignUpCommand,
  AdminUpdateUserAttributesCommand,
  type CognitoIdentityProviderClient,
  DeleteUserAttributesCommand,
  InitiateAuthCommand,
  SignUpCommand,
  UpdateUserAttributesCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNAUTHORIZED_ATTRIBUTE_MESSAGE } from '../../../sam/local/user-pool/index.js';
import { type FrontedUserPool, startFrontedUserPool } from '../../fixtures/user-pool.js';

const PASSWORD = 'Passw0rd!local';

let pool: FrontedUserPool;
let user: CognitoIdentityProviderClient;

beforeAll(async () => {
  pool = await startFrontedUserPool();
  // A browser user has no AWS credentials: the SDK sends these public operations unsigned anyway.
  user = pool.client();
}, 60_000);
afterAll(() => pool?.stop());

/** The error an SDK call rejects with, as `{ name, message }`. */
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ name: 'resolved', message: '' }),
    (error: Error) => ({ name: error.name, message: error.message }),
  );

const signUp = (email: string, attributes: Record<string, string> = {}) =>
  user.send(
    new SignUpCommand({
      ClientId: pool.clientId,
      Username: email,
      Password: PASSWORD,
      UserAttributes: Object.entries({ email, ...attributes }).map(([Name, Value]) => ({
        Name,
        Value,
      })),
    }),
  );

async function confirmedUser(email: string): Promise<{ sub: string; accessToken: string }> {
  const { UserSub } = await signUp(email);
  await pool.admin.send(
    new AdminConfirmSignUpCommand({ UserPoolId: pool.userPoolId, Username: email }),
  );
  const { AuthenticationResult } = await user.send(
    new InitiateAuthCommand({
      ClientId: pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: PASSWORD },
    }),
  );
  return { sub: UserSub ?? '', accessToken: AuthenticationResult?.AccessToken ?? '' };
}

describe("the app client's WriteAttributes (template: [email])", () => {
  it('a SignUp carrying custom:tenant_id is refused as Cognito refuses it, and no user is created', async () => {
    const email = 'picks-own-tenant@example.com';
    expect(await refusal(signUp(email, { 'custom:tenant_id': 'victim-tenant' }))).toEqual({
      name: 'NotAuthorizedException',
      message: UNAUTHORIZED_ATTRIBUTE_MESSAGE,
    });
    expect(await pool.attributes(email)).toBeUndefined();
  });

  it('so are custom:role, email_verified and sub at sign-up', async () => {
    for (const [name, value] of [
      ['custom:role', 'admin'],
      ['email_verified', 'true'],
      ['sub', '00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const email = `writes-${name.replace(/\W/g, '')}@example.com`;
      expect(await refusal(signUp(email, { [name]: value }))).toEqual({
        name: 'NotAuthorizedException',
        message: UNAUTHORIZED_ATTRIBUTE_MESSAGE,
      });
      expect(await pool.attributes(email)).toBeUndefined();
    }
  });

  it('UpdateUserAttributes of custom:role is refused and changes nothing', async () => {
    const email = 'wants-admin@example.com';
    const { accessToken } = await confirmedUser(email);
    const before = await pool.attributes(email);
    expect(
      await refusal(
        user.send(
          new UpdateUserAttributesCommand({
            AccessToken: accessToken,
            UserAttributes: [
              { Name: 'email', Value: 'still-allowed@example.com' },
              { Name: 'custom:role', Value: 'admin' },
            ],
          }),
        ),
      ),
    ).toEqual({ name: 'NotAuthorizedException', message: UNAUTHORIZED_ATTRIBUTE_MESSAGE });
    // Not even the permitted email changed: the whole call is refused.
    expect(await pool.attributes(email)).toEqual(before);
    expect(before?.['custom:role']).toBeUndefined();
  });

  it('UpdateUserAttributes of email (writable) passes through', async () => {
    const email = 'moves@example.com';
    const { accessToken } = await confirmedUser(email);
    await user.send(
      new UpdateUserAttributesCommand({
        AccessToken: accessToken,
        UserAttributes: [{ Name: 'email', Value: 'moved@example.com' }],
      }),
    );
    expect((await pool.attributes('moved@example.com'))?.email).toBe('moved@example.com');
  });

  it('DeleteUserAttributes of custom:tenant_id is refused; Admin* calls are not subject to WriteAttributes', async () => {
    const email = 'member@example.com';
    const { accessToken } = await confirmedUser(email);
    await pool.admin.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: pool.userPoolId,
        Username: email,
        UserAttributes: [{ Name: 'custom:tenant_id', Value: 'acme' }],
      }),
    );
    expect(
      await refusal(
        user.send(
          new DeleteUserAttributesCommand({
            AccessToken: accessToken,
            UserAttributeNames: ['custom:tenant_id'],
          }),
        ),
      ),
    ).toEqual({ name: 'NotAuthorizedException', message: UNAUTHORIZED_ATTRIBUTE_MESSAGE });
    expect((await pool.attributes(email))?.['custom:tenant_id']).toBe('acme');
  });

  it('an access token that names no app client of the pool is refused before anything is written', async () => {
    const email = 'forger@example.com';
    const { accessToken } = await confirmedUser(email);
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = [
      header,
      Buffer.from(JSON.stringify({ ...claims, client_id: 'nosuchclient' })).toString('base64url'),
      signature,
    ].join('.');
    for (const token of [forged, 'not-a-token']) {
      expect(
        await refusal(
          user.send(
            new UpdateUserAttributesCommand({
              AccessToken: token,
              UserAttributes: [{ Name: 'custom:role', Value: 'admin' }],
            }),
          ),
        ),
      ).toEqual({ name: 'NotAuthorizedException', message: 'Invalid Access Token' });
    }
    expect((await pool.attributes(email))?.['custom:role']).toBeUndefined();
  });
});

describe('the front', () => {
  it("serves cognito-local's JWKS and counts what it refused", async () => {
    const res = await fetch(`${pool.endpoint}/${pool.userPoolId}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { keys: unknown[] }).keys).toHaveLength(1);
    const stats = pool.front.stats();
    expect(stats.calls.SignUp).toBeGreaterThan(0);
    expect(stats.refused.NotAuthorizedException).toBeGreaterThan(0);
  });
});
