/**
 * A front-end developer's first hour against the local stack, with the real client libraries and
 * their defaults: self-service sign-up with the emailed code, then amazon-cognito-identity-js and
 * Amplify v6 each sign in (USER_SRP_AUTH), create a tenant over the REST API, refresh to get tokens
 * that carry it, call GET /me on both the REST and the HTTP API, and sign out.
 */

import { fetchAuthSession, signIn, signOut } from '@aws-amplify/auth';
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../sam/local/stack.js';
import type { UserPoolMessage } from '../../sam/local/user-pool/index.js';
import { configureAmplify, identityJs } from '../fixtures/client-libraries.js';

const PASSWORD = 'Fr0nt-end!dev';
let stack: LocalStack;
let sdk: CognitoIdentityProviderClient;
const sent: UserPoolMessage[] = [];

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

/** `METHOD path` on one of the stack's APIs with an ID token. */
async function call(base: string, idToken: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${idToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Sign-up as a user does it: SignUp, the code from the "email", ConfirmSignUp. */
async function selfServiceSignUp(email: string): Promise<string> {
  const { UserSub } = await sdk.send(
    new SignUpCommand({
      ClientId: stack.clientId,
      Username: email,
      Password: PASSWORD,
      UserAttributes: [{ Name: 'email', Value: email }],
    }),
  );
  const code = sent
    .filter((m) => m.email === email && m.kind === 'sign-up confirmation code')
    .at(-1)?.code;
  await sdk.send(
    new ConfirmSignUpCommand({ ClientId: stack.clientId, Username: email, ConfirmationCode: code }),
  );
  return UserSub ?? '';
}

/** POST /tenants, then GET /me on both APIs with the token a refresh gives. */
async function createTenant(idToken: string, refreshToken: string, name: string) {
  const created = await call(stack.endpoints.restApi, idToken, 'POST', '/tenants', {
    name,
    refreshToken,
  });
  expect(created.status).toBe(201);
  const tokens = created.body.tokens as { idToken: string; expiresIn: number };
  // The lifetime the control plane reports is the token's own: 1 hour, Cognito's default.
  const t = claims(tokens.idToken);
  expect(tokens.expiresIn).toBe(3600);
  expect((t.exp as number) - (t.iat as number)).toBe(3600);
  return (created.body.tenant as { tenantId: string }).tenantId;
}

async function expectMeOnBothApis(idToken: string, sub: string, tenantId: string) {
  for (const base of [stack.endpoints.restApi, stack.endpoints.httpApi]) {
    const me = await call(base, idToken, 'GET', '/me');
    expect({ base, ...me }).toMatchObject({
      base,
      status: 200,
      body: { userId: sub, tenantId, role: 'admin' },
    });
  }
}

beforeAll(async () => {
  stack = await startLocalStack({
    parameters: { ResultTtlSeconds: 0, MembershipCacheSeconds: 0 },
    onUserPoolMessage: (m) => sent.push(m),
  });
  // A browser's SDK: no AWS credentials at all (the public operations are unsigned).
  sdk = new CognitoIdentityProviderClient({
    endpoint: stack.endpoints.userPool,
    region: stack.region,
    credentials: { accessKeyId: 'browser', secretAccessKey: 'has-none' },
  });
}, 180_000);
afterAll(async () => {
  sdk?.destroy();
  await stack?.stop();
});

describe('against the local stack, with the libraries’ defaults', () => {
  it('amazon-cognito-identity-js: SRP sign-in, both APIs, refreshSession, sign-out', async () => {
    const email = 'identity-js@example.com';
    const sub = await selfServiceSignUp(email);
    const lib = identityJs({ ...stack, endpoint: stack.endpoints.userPool });
    const session = await lib.signIn(email, PASSWORD);
    // The code-confirmed address is verified (AutoVerifiedAttributes: [email]).
    expect(session.getIdToken().payload.email_verified).toBe(true);
    const tenantId = await createTenant(
      session.getIdToken().getJwtToken(),
      session.getRefreshToken().getToken(),
      'Identity JS Flying Club',
    );
    const refreshed = await lib.refresh(email, session.getRefreshToken().getToken());
    expect(refreshed.getIdToken().payload['custom:tenant_id']).toBe(tenantId);
    await expectMeOnBothApis(refreshed.getIdToken().getJwtToken(), sub, tenantId);
    await lib.signOut();
    expect(lib.currentUser()).toBeNull();
  });

  it('Amplify v6: signIn, fetchAuthSession, both APIs, a forced refresh, signOut', async () => {
    const email = 'amplify@example.com';
    const sub = await selfServiceSignUp(email);
    configureAmplify({ ...stack, endpoint: stack.endpoints.userPool });
    expect(await signIn({ username: email, password: PASSWORD })).toMatchObject({
      isSignedIn: true,
    });
    const first = await fetchAuthSession();
    const idToken = first.tokens?.idToken?.toString() ?? '';
    // Amplify keeps the refresh token to itself; the control plane's POST /tenants needs one to
    // mint tenant-bearing tokens, so it is read from Amplify's token store as an app would.
    const { cognitoUserPoolsTokenProvider } = await import('@aws-amplify/auth/cognito');
    const stored = await cognitoUserPoolsTokenProvider.authTokenStore.loadTokens();
    const tenantId = await createTenant(idToken, stored?.refreshToken ?? '', 'Amplify Aero');
    const forced = await fetchAuthSession({ forceRefresh: true });
    const fresh = forced.tokens?.idToken;
    expect(fresh?.payload['custom:tenant_id']).toBe(tenantId);
    await expectMeOnBothApis(fresh?.toString() ?? '', sub, tenantId);
    await signOut();
    expect((await fetchAuthSession()).tokens).toBeUndefined();
  });
});
