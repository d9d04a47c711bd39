/** The production verifier (and the whole authorizer) accepts tokens a real cognito-local issues. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../authorizer/authorize.js';
import { readTenantContext } from '../../authorizer/context.js';
import { TokenRejectedError } from '../../authorizer/errors.js';
import type { IamPolicyResponse } from '../../authorizer/events.js';
import { createTokenVerifier } from '../../authorizer/token.js';
import { type CognitoLocal, startCognitoLocal } from '../fixtures/cognito-local.js';
import { tokenEvent } from '../fixtures/events.js';

describe('tokens from cognito-local', () => {
  let cognito: CognitoLocal;
  const email = 'chief@flightschool.example';
  const password = 'Passw0rd!long';
  let sub = '';

  beforeAll(async () => {
    cognito = await startCognitoLocal();
    sub = await cognito.createUser(email, password);
    await cognito.createGroup('acme');
    await cognito.addToGroup(email, 'acme');
    await cognito.setAttributes(email, { 'custom:tenant_id': 'acme', 'custom:role': 'admin' });
  });
  afterAll(async () => {
    await cognito?.stop();
  });

  it('the production CognitoJwtVerifier verifies its ID token, with groups and tenant claims', async () => {
    const verifier = createTokenVerifier({
      userPools: [{ userPoolId: cognito.userPoolId, clientIds: [cognito.clientId] }],
      fetcher: cognito.fetcher,
    });
    const { idToken, accessToken } = await cognito.signIn(email, password);
    const verified = await verifier.verify(idToken);
    expect(verified.userPoolId).toBe(cognito.userPoolId);
    expect(verified.sub).toBe(sub);
    expect(verified.payload['custom:tenant_id']).toBe('acme');
    expect(verified.payload['cognito:groups']).toEqual(['acme']);
    const rejected = await verifier.verify(accessToken).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(TokenRejectedError);
    expect((rejected as TokenRejectedError).reason).toBe('invalid-token-use');
  });

  it('the authorizer allows it end to end (credentials stubbed)', async () => {
    const handler = createAuthorizer({
      userPools: [{ userPoolId: cognito.userPoolId, clientIds: [cognito.clientId] }],
      identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
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
