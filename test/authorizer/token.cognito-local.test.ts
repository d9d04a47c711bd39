/**
 * The production verifier (and the whole authorizer) against tokens a real cognito-local issues,
 * and the fixture's own promises that other suites rely on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../authorizer/authorize.js';
import { readTenantContext } from '../../authorizer/context.js';
import { TokenRejectedError } from '../../authorizer/errors.js';
import type { IamPolicyResponse } from '../../authorizer/events.js';
import { createTokenVerifier, type TokenVerifier } from '../../authorizer/token.js';
import { type CognitoLocal, startCognitoLocal } from '../fixtures/cognito-local.js';
import { tokenEvent } from '../fixtures/events.js';

const rejection = async (p: Promise<unknown>) => {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenRejectedError);
  return (error as TokenRejectedError).reason;
};

describe('tokens from cognito-local', () => {
  let cognito: CognitoLocal;
  let verifier: TokenVerifier;
  const email = 'chief@flightschool.example';
  const password = 'Passw0rd!long';
  let sub = '';

  beforeAll(async () => {
    cognito = await startCognitoLocal();
    sub = await cognito.createUser(email, password);
    verifier = createTokenVerifier({
      userPools: [{ userPoolId: cognito.userPoolId, clientIds: [cognito.clientId] }],
      fetcher: cognito.fetcher,
    });
  });
  afterAll(async () => {
    if (!cognito) return;
    await cognito.stop();
    // Stopped means gone: nothing answers on its port any more.
    await expect(fetch(cognito.localJwksUri)).rejects.toThrow();
  });

  it('its issuer is the production one, its JWKS served locally', async () => {
    expect(cognito.issuer).toBe(
      `https://cognito-idp.us-east-1.amazonaws.com/${cognito.userPoolId}`,
    );
    expect(cognito.jwksUri).toBe(`${cognito.issuer}/.well-known/jwks.json`);
    const jwks = JSON.parse(Buffer.from(await cognito.fetcher.fetch(cognito.jwksUri)).toString());
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    await expect(
      cognito.fetcher.fetch('https://example.com/.well-known/jwks.json'),
    ).rejects.toThrow(/not a local JWKS/);
  });

  it('the production verifier accepts its ID token; tenant claims appear after an update and a new sign-in', async () => {
    const before = await verifier.verify((await cognito.signIn(email, password)).idToken);
    expect(before.sub).toBe(sub);
    expect(before.userPoolId).toBe(cognito.userPoolId);
    expect(before.providerName).toBe(`cognito-idp.us-east-1.amazonaws.com/${cognito.userPoolId}`);
    expect(before.payload['custom:tenant_id']).toBeUndefined();

    await cognito.createGroup('acme');
    await cognito.addToGroup(email, 'acme');
    await cognito.setAttributes(email, { 'custom:tenant_id': 'acme', 'custom:role': 'admin' });
    const { idToken, accessToken } = await cognito.signIn(email, password);
    const after = await verifier.verify(idToken);
    expect(after.sub).toBe(sub);
    expect(after.payload).toMatchObject({
      iss: cognito.issuer,
      aud: cognito.clientId,
      token_use: 'id',
      'custom:tenant_id': 'acme',
      'custom:role': 'admin',
      'cognito:groups': ['acme'],
    });
    // Its access token is a valid Cognito token, but not an ID token.
    expect(await rejection(verifier.verify(accessToken))).toBe('invalid-token-use');
  });

  it('a token of another app client of the same pool is refused until that client is trusted', async () => {
    const other = await cognito.createAppClient('other-app');
    const { idToken } = await cognito.signIn(email, password, other);
    expect(await rejection(verifier.verify(idToken))).toBe('invalid-audience');
    const both = createTokenVerifier({
      userPools: [{ userPoolId: cognito.userPoolId, clientIds: [cognito.clientId, other] }],
      fetcher: cognito.fetcher,
    });
    expect((await both.verify(idToken)).payload.aud).toBe(other);
  });

  it('a pool of another id (same static key) is refused', async () => {
    const stranger = createTokenVerifier({
      userPools: [{ userPoolId: 'us-east-1_Stranger1', clientIds: [cognito.clientId] }],
      fetcher: cognito.fetcher,
    });
    const { idToken } = await cognito.signIn(email, password);
    expect(await rejection(stranger.verify(idToken))).toBe('invalid-issuer');
  });

  it('a refresh gives an ID token that verifies, and no new refresh token', async () => {
    const { refreshToken } = await cognito.signIn(email, password);
    const refreshed = await cognito.refresh(refreshToken);
    expect(refreshed.refreshToken).toBe('');
    expect((await verifier.verify(refreshed.idToken)).sub).toBe(sub);
  });

  it('self-service sign-up, confirmed by an admin, signs in', async () => {
    const newSub = await cognito.signUpConfirmed('cadet@flightschool.example', 'Passw0rd!cadet', {
      'custom:tenant_id': 'acme',
    });
    const { idToken } = await cognito.signIn('cadet@flightschool.example', 'Passw0rd!cadet');
    const verified = await verifier.verify(idToken);
    expect(verified.sub).toBe(newSub);
    expect(verified.payload['custom:tenant_id']).toBe('acme');
  });

  it('createGroup twice keeps the members (a bare duplicate CreateGroup would empty the group)', async () => {
    await cognito.createGroup('beta');
    await cognito.addToGroup(email, 'beta');
    await cognito.createGroup('beta');
    const { idToken } = await cognito.signIn(email, password);
    expect((await verifier.verify(idToken)).payload['cognito:groups']).toContain('beta');
    await cognito.removeFromGroup(email, 'beta');
    const again = await cognito.signIn(email, password);
    expect((await verifier.verify(again.idToken)).payload['cognito:groups'] ?? []).not.toContain(
      'beta',
    );
  });

  it('a wrong password is InvalidPasswordException here (Cognito says NotAuthorizedException)', async () => {
    await expect(cognito.signIn(email, 'Wr0ng!password')).rejects.toMatchObject({
      name: 'InvalidPasswordException',
    });
  });

  it('the authorizer allows it end to end (credentials stubbed)', async () => {
    const handler = createAuthorizer({
      userPools: [{ userPoolId: cognito.userPoolId, clientIds: [cognito.clientId] }],
      identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
      developerProviderName: 'login.tenantgate',
      jwksFetcher: cognito.fetcher,
      credentials: {
        get: async () => ({
          identityId: 'us-east-1:id',
          credentials: {
            accessKeyId: 'ASIA',
            secretAccessKey: 's',
            sessionToken: 't',
            expiration: new Date(Date.now() + 3600e3),
          },
          cached: false,
        }),
      },
    });
    await cognito.createGroup('acme');
    await cognito.addToGroup(email, 'acme');
    await cognito.setAttributes(email, { 'custom:tenant_id': 'acme', 'custom:role': 'admin' });
    const { idToken } = await cognito.signIn(email, password);
    const r = (await handler(tokenEvent({ token: idToken }))) as IamPolicyResponse;
    expect(r.policyDocument.Statement[0]?.Effect).toBe('Allow');
    expect(readTenantContext({ requestContext: { authorizer: r.context } })).toMatchObject({
      tenantId: 'acme',
      userId: sub,
      role: 'admin',
    });
  });
});
