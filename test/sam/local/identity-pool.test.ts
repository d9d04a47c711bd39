/** The identity-pool stand-in, driven by the real @aws-sdk/client-cognito-identity and our provider. */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialsProvider } from '../../../authorizer/credentials.js';
import { createTokenVerifier } from '../../../authorizer/token.js';
import { type IdentityPool, startIdentityPool } from '../../../sam/local/identity-pool/index.js';
import {
  createTestKey,
  idTokenPayload,
  jwksOf,
  jwksUriOf,
  signJwt,
  staticJwksFetcher,
  TEST_CLIENT_ID,
  TEST_POOL_ID,
} from '../../fixtures/keys.js';

const POOL = 'us-east-1:0f0f0f0f-1111-2222-3333-444444444444';
const PROVIDER = `cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`;
const key = createTestKey();
const foreign = createTestKey();

describe('identity-pool stand-in', () => {
  let pool: IdentityPool;
  let client: CognitoIdentityClient;
  const t = Date.now();

  beforeAll(async () => {
    pool = await startIdentityPool({
      region: 'us-east-1',
      identityPoolId: POOL,
      providers: [{ providerName: PROVIDER, clientIds: [TEST_CLIENT_ID], jwks: jwksOf(key) }],
      principalTags: { tenant_id: 'custom:tenant_id', user_id: 'sub' },
      credentialsTtlSeconds: 600,
      now: () => t,
    });
    client = new CognitoIdentityClient({
      endpoint: pool.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client?.destroy();
    await pool?.stop();
  });

  const token = (claims: Parameters<typeof idTokenPayload>[0] = {}) =>
    signJwt(key, idTokenPayload({ sub: 'user-a', tenantId: 'acme', groups: ['acme'], ...claims }));
  const getId = (tk: string, identityPoolId = POOL) =>
    client.send(new GetIdCommand({ IdentityPoolId: identityPoolId, Logins: { [PROVIDER]: tk } }));
  const errorName = (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: Error) => e.name,
    );

  it('GetId is stable per user and distinct across users', async () => {
    const a1 = await getId(token());
    const a2 = await getId(token({ tenantId: 'beta', groups: ['beta'] }));
    const b = await getId(token({ sub: 'user-b' }));
    expect(a1.IdentityId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
    expect(a2.IdentityId).toBe(a1.IdentityId);
    expect(b.IdentityId).not.toBe(a1.IdentityId);
  });

  it('credentials carry the mapped principal tags and the configured lifetime', async () => {
    const tk = token();
    const { IdentityId } = await getId(tk);
    const { Credentials } = await client.send(
      new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: tk } }),
    );
    expect(Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(Credentials?.Expiration?.getTime()).toBe(Math.floor(t / 1000 + 600) * 1000);
    expect(pool.sessions.lookup(Credentials?.AccessKeyId ?? '')?.principalTags).toEqual({
      tenant_id: 'acme',
      user_id: 'user-a',
    });
    const tenantless = signJwt(key, idTokenPayload({ sub: 'user-a' }));
    const { Credentials: c2 } = await client.send(
      new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: tenantless } }),
    );
    expect(pool.sessions.lookup(c2?.AccessKeyId ?? '')?.principalTags).toEqual({
      user_id: 'user-a',
    });
  });

  it.each([
    [
      'foreign key',
      () => signJwt({ ...foreign, kid: key.kid }, idTokenPayload()),
      'NotAuthorizedException',
    ],
    ['unknown kid', () => signJwt(foreign, idTokenPayload()), 'NotAuthorizedException'],
    [
      'expired',
      () => signJwt(key, idTokenPayload({ iat: 1_000_000, exp: 1_003_600 })),
      'NotAuthorizedException',
    ],
    [
      'wrong audience',
      () => signJwt(key, idTokenPayload({ clientId: 'other' })),
      'NotAuthorizedException',
    ],
    [
      'access token',
      () => signJwt(key, { ...idTokenPayload(), token_use: 'access' }),
      'NotAuthorizedException',
    ],
    [
      'wrong issuer',
      () => signJwt(key, idTokenPayload({ userPoolId: 'us-east-1_Other' })),
      'NotAuthorizedException',
    ],
    ['garbage', () => 'not-a-token', 'NotAuthorizedException'],
  ])('%s → %s', async (_name, make, expected) => {
    expect(await errorName(getId(make()))).toBe(expected);
  });

  it('unknown pool, unknown provider, foreign identity', async () => {
    expect(await errorName(getId(token(), 'us-east-1:00000000-0000-0000-0000-000000000000'))).toBe(
      'ResourceNotFoundException',
    );
    expect(
      await errorName(
        client.send(
          new GetIdCommand({
            IdentityPoolId: POOL,
            Logins: { 'cognito-idp.us-east-1.amazonaws.com/us-east-1_X': token() },
          }),
        ),
      ),
    ).toBe('NotAuthorizedException');
    const { IdentityId } = await getId(token());
    const other = token({ sub: 'user-b' });
    expect(
      await errorName(
        client.send(
          new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: other } }),
        ),
      ),
    ).toBe('NotAuthorizedException');
    expect(
      await errorName(
        client.send(
          new GetCredentialsForIdentityCommand({
            IdentityId: 'us-east-1:00000000-0000-5000-8000-000000000000',
            Logins: { [PROVIDER]: other },
          }),
        ),
      ),
    ).toBe('ResourceNotFoundException');
  });

  it('our verifier and credentials provider work against it unchanged, one exchange per user and tenant', async () => {
    const verifier = createTokenVerifier({
      userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
      fetcher: staticJwksFetcher({ [jwksUriOf(TEST_POOL_ID)]: jwksOf(key) }),
    });
    const provider = createCredentialsProvider({
      client,
      identityPoolId: POOL,
      refreshMarginSeconds: 300,
      now: () => t,
    });
    const before = pool.stats();
    for (let i = 0; i < 5; i++) {
      const tk = token({ sub: 'user-c' });
      const creds = await provider.get(tk, await verifier.verify(tk));
      expect(pool.sessions.lookup(creds.credentials.accessKeyId)?.principalTags.tenant_id).toBe(
        'acme',
      );
    }
    const after = pool.stats();
    expect(after.GetId - before.GetId).toBe(1);
    expect(after.GetCredentialsForIdentity - before.GetCredentialsForIdentity).toBe(1);
  });
});
