/**
 * The Cognito Identity stand-in for a pool that trusts user pools (`CognitoIdentityProviders`),
 * driven by the real `@aws-sdk/client-cognito-identity`: identities, credentials and their registry
 * entry, GetOpenIdToken, every refusal as the exception class the SDK raises, the credentials
 * lifetime on an injected clock. template.yaml's own pool (developer-authenticated identities, no
 * user pool trusted) is identity-pool-developer.test.ts.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
} from '@aws-sdk/client-cognito-identity';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COGNITO_IDENTITY_LOGIN,
  type IdentityPool,
  type IdentityPoolOptions,
  identityIdFor,
  startIdentityPool,
} from '../../../sam/local/identity-pool/index.js';
import {
  createTestKey,
  idTokenPayload,
  issuerOf,
  jwksOf,
  publicKeyBytes,
  signHs256,
  signJwt,
  TEST_CLIENT_ID,
  TEST_POOL_ID,
  unsignedJwt,
  withPayload,
} from '../../fixtures/keys.js';

const POOL = 'us-east-1:0f0f0f0f-1111-2222-3333-444444444444';
const PROVIDER = `cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`;
const OTHER_POOL_ID = 'us-east-1_OtherPool2';
const OTHER_PROVIDER = `cognito-idp.us-east-1.amazonaws.com/${OTHER_POOL_ID}`;
const OTHER_CLIENT = 'otherclient0987654321';
const TTL = 600;
/** A fixed, whole-second clock; tests move it by assignment, never by sleeping. */
const T0 = 1_900_000_000_000;

const key = createTestKey();
const otherKey = createTestKey();
const foreign = createTestKey();

const clock = { ms: T0 };
const nowSeconds = () => Math.floor(clock.ms / 1000);

const baseOptions = (): IdentityPoolOptions => ({
  region: 'us-east-1',
  identityPoolId: POOL,
  providers: [
    { providerName: PROVIDER, clientIds: [TEST_CLIENT_ID], jwks: jwksOf(key) },
    { providerName: OTHER_PROVIDER, clientIds: [OTHER_CLIENT], jwks: jwksOf(otherKey) },
  ],
  principalTags: { tenant_id: 'custom:tenant_id', user_id: 'sub' },
  credentialsTtlSeconds: TTL,
  now: () => clock.ms,
});

const clientFor = (endpoint: string) =>
  new CognitoIdentityClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    maxAttempts: 1,
  });

/** A Cognito-shaped ID token of our pool, valid on the test clock. */
const idToken = (claims: Parameters<typeof idTokenPayload>[0] = {}) =>
  signJwt(key, idTokenPayload({ sub: 'user-a', tenantId: 'acme', ...claims }, nowSeconds()));

/** What Cognito puts in an access token: `client_id`, no `aud`. */
const accessToken = () => {
  const { aud: _aud, email: _email, ...rest } = idTokenPayload({ sub: 'user-a' }, nowSeconds());
  return signJwt(key, { ...rest, token_use: 'access', client_id: TEST_CLIENT_ID, scope: 'openid' });
};

interface Refusal {
  readonly name: string;
  readonly message: string;
  readonly status: number | undefined;
  readonly fault: unknown;
}
const refusal = (promise: Promise<unknown>): Promise<Refusal | 'resolved'> =>
  promise.then(
    () => 'resolved' as const,
    (e: Error & { $metadata?: { httpStatusCode?: number }; $fault?: unknown }) => ({
      name: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
      fault: e.$fault,
    }),
  );

describe('identity-pool stand-in, through the real SDK client', () => {
  let pool: IdentityPool;
  let client: CognitoIdentityClient;

  beforeAll(async () => {
    pool = await startIdentityPool(baseOptions());
    client = clientFor(pool.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await pool?.stop();
  });

  const getId = (logins: Record<string, string>, identityPoolId = POOL) =>
    client.send(new GetIdCommand({ IdentityPoolId: identityPoolId, Logins: logins }));
  const getCredentials = (identityId: string | undefined, logins: Record<string, string>) =>
    client.send(new GetCredentialsForIdentityCommand({ IdentityId: identityId, Logins: logins }));

  it('GetId is stable per user, distinct across users and pools of users, and name-based', async () => {
    const a1 = await getId({ [PROVIDER]: idToken() });
    const a2 = await getId({ [PROVIDER]: idToken({ tenantId: 'beta', iat: nowSeconds() - 60 }) });
    const b = await getId({ [PROVIDER]: idToken({ sub: 'user-b' }) });
    const sameSubOtherPool = await getId({
      [OTHER_PROVIDER]: signJwt(
        otherKey,
        idTokenPayload(
          { sub: 'user-a', userPoolId: OTHER_POOL_ID, clientId: OTHER_CLIENT },
          nowSeconds(),
        ),
      ),
    });
    expect(a1.IdentityId).toMatch(
      /^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(a2.IdentityId).toBe(a1.IdentityId);
    expect(b.IdentityId).not.toBe(a1.IdentityId);
    expect(sameSubOtherPool.IdentityId).not.toBe(a1.IdentityId);
    expect(a1.IdentityId).toBe(identityIdFor('us-east-1', POOL, PROVIDER, 'user-a'));
  });

  it('GetCredentialsForIdentity: AWS-shaped credentials whose registry entry carries the principal tags', async () => {
    const token = idToken({ sub: 'user-t', tenantId: 'acme' });
    const { IdentityId } = await getId({ [PROVIDER]: token });
    const out = await getCredentials(IdentityId, { [PROVIDER]: token });
    const c = out.Credentials;
    expect(out.IdentityId).toBe(IdentityId);
    expect(c?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(c?.SecretKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(c?.SessionToken?.length).toBeGreaterThanOrEqual(500);
    expect(c?.Expiration).toBeInstanceOf(Date);
    expect(c?.Expiration?.getTime()).toBe((nowSeconds() + TTL) * 1000);

    const session = pool.sessions.lookup(c?.AccessKeyId ?? '');
    expect(session).toEqual({
      identityId: IdentityId,
      principalTags: { tenant_id: 'acme', user_id: 'user-t' },
      expiration: c?.Expiration,
      secretAccessKey: c?.SecretKey,
      sessionToken: c?.SessionToken,
    });
    expect(Object.isFrozen(session?.principalTags)).toBe(true);
    expect(pool.sessions.lookup('ASIA_NEVER_ISSUED')).toBeUndefined();
  });

  it('every exchange gets fresh credentials; tags follow the token presented, a missing claim gives no tag', async () => {
    const acme = idToken({ sub: 'user-m', tenantId: 'acme' });
    const { IdentityId } = await getId({ [PROVIDER]: acme });
    const first = await getCredentials(IdentityId, { [PROVIDER]: acme });
    const beta = await getCredentials(IdentityId, {
      [PROVIDER]: idToken({ sub: 'user-m', tenantId: 'beta' }),
    });
    const none = await getCredentials(IdentityId, {
      [PROVIDER]: idToken({ sub: 'user-m', tenantId: null }),
    });
    const ids = [first, beta, none].map((o) => o.Credentials?.AccessKeyId ?? '');
    expect(new Set(ids).size).toBe(3);
    expect(ids.map((id) => pool.sessions.lookup(id)?.principalTags)).toEqual([
      { tenant_id: 'acme', user_id: 'user-m' },
      { tenant_id: 'beta', user_id: 'user-m' },
      { user_id: 'user-m' },
    ]);
  });

  it('a claim value STS would refuse as a session tag fails the exchange as the service does', async () => {
    const { IdentityId } = await getId({ [PROVIDER]: idToken({ sub: 'user-x' }) });
    for (const tenantId of ['a'.repeat(257), 'acme<script>', 'tab\tseparated']) {
      const r = await refusal(
        getCredentials(IdentityId, { [PROVIDER]: idToken({ sub: 'user-x', tenantId }) }),
      );
      expect(r).toMatchObject({ name: 'InvalidIdentityPoolConfigurationException', status: 400 });
    }
  });

  // Each case is refused by both operations, with the service's exception and (where captured from
  // the service) its message. The IdentityId is the victim's own, so only the token is at fault.
  const victimId = identityIdFor('us-east-1', POOL, PROVIDER, 'user-a');
  const tokenCases: readonly [string, () => Record<string, string>, string, RegExp][] = [
    [
      'signed by a foreign key under our kid',
      () => ({
        [PROVIDER]: signJwt(
          { ...foreign, kid: key.kid },
          idTokenPayload({ sub: 'user-a' }, nowSeconds()),
        ),
      }),
      'NotAuthorizedException',
      /^Invalid login token\. Couldn't verify signed token\.$/,
    ],
    [
      'signed by a key the pool does not have',
      () => ({ [PROVIDER]: signJwt(foreign, idTokenPayload({ sub: 'user-a' }, nowSeconds())) }),
      'NotAuthorizedException',
      /Couldn't verify signed token/,
    ],
    [
      'a payload swapped under a real signature',
      () => ({
        [PROVIDER]: withPayload(
          idToken({ sub: 'user-b' }),
          idTokenPayload({ sub: 'user-a', tenantId: 'acme' }, nowSeconds()),
        ),
      }),
      'NotAuthorizedException',
      /Couldn't verify signed token/,
    ],
    [
      'alg none',
      () => ({ [PROVIDER]: unsignedJwt(idTokenPayload({ sub: 'user-a' }, nowSeconds()), key.kid) }),
      'NotAuthorizedException',
      /Couldn't verify signed token|Not a valid OpenId Connect/,
    ],
    [
      'HS256 keyed with the public key (key confusion)',
      () => ({
        [PROVIDER]: signHs256(
          publicKeyBytes(key)[0] as Buffer,
          idTokenPayload({ sub: 'user-a' }, nowSeconds()),
          key.kid,
        ),
      }),
      'NotAuthorizedException',
      /Couldn't verify signed token/,
    ],
    [
      'expired',
      () => ({
        [PROVIDER]: signJwt(
          key,
          idTokenPayload({ sub: 'user-a', iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }),
        ),
      }),
      'NotAuthorizedException',
      /^Invalid login token\. Token expired: \d+ >= \d+$/,
    ],
    [
      'an audience that is not a configured client',
      () => ({ [PROVIDER]: idToken({ clientId: 'someotherclient' }) }),
      'NotAuthorizedException',
      /^Token is not from a supported provider of this identity pool\.$/,
    ],
    [
      'the client of another configured provider',
      () => ({ [PROVIDER]: idToken({ clientId: OTHER_CLIENT }) }),
      'NotAuthorizedException',
      /supported provider/,
    ],
    [
      'an access token (client_id, no aud)',
      () => ({ [PROVIDER]: accessToken() }),
      'NotAuthorizedException',
      /^Invalid login token\. Missing a required claim: aud$/,
    ],
    [
      'token_use access with an aud',
      () => ({
        [PROVIDER]: signJwt(key, {
          ...idTokenPayload({ sub: 'user-a' }, nowSeconds()),
          token_use: 'access',
        }),
      }),
      'NotAuthorizedException',
      /^Invalid login token\./,
    ],
    [
      'a token of another pool under our key',
      () => ({
        [PROVIDER]: signJwt(
          key,
          idTokenPayload({ sub: 'user-a', userPoolId: 'us-east-1_Elsewhere1' }, nowSeconds()),
        ),
      }),
      'NotAuthorizedException',
      /^Invalid login token\. Issuer doesn't match providerName$/,
    ],
    [
      'a provider the pool does not trust',
      () => ({
        'cognito-idp.us-east-1.amazonaws.com/us-east-1_Elsewhere1': signJwt(
          foreign,
          idTokenPayload({ sub: 'user-a', userPoolId: 'us-east-1_Elsewhere1' }, nowSeconds()),
        ),
      }),
      'NotAuthorizedException',
      /supported provider/,
    ],
    [
      'not a JWT',
      () => ({ [PROVIDER]: 'not-a-token' }),
      'NotAuthorizedException',
      /^Invalid login token\./,
    ],
    [
      'no login at all',
      () => ({}),
      'NotAuthorizedException',
      /^Unauthenticated access is not supported for this identity pool\.$/,
    ],
    [
      'two valid logins (linking)',
      () => ({
        [PROVIDER]: idToken(),
        [OTHER_PROVIDER]: signJwt(
          otherKey,
          idTokenPayload(
            { sub: 'user-a', userPoolId: OTHER_POOL_ID, clientId: OTHER_CLIENT },
            nowSeconds(),
          ),
        ),
      }),
      'InvalidParameterException',
      /one login/,
    ],
  ];

  it.each(tokenCases)('GetId refuses %s', async (_name, logins, name, message) => {
    const r = await refusal(getId(logins()));
    expect(r).toMatchObject({ name, status: 400, fault: 'client' });
    expect((r as Refusal).message).toMatch(message);
  });

  it.each(tokenCases)(
    'GetCredentialsForIdentity refuses %s',
    async (_name, logins, name, message) => {
      const r = await refusal(getCredentials(victimId, logins()));
      expect(r).toMatchObject({ name, status: 400 });
      expect((r as Refusal).message).toMatch(message);
    },
  );

  it('unknown or malformed pools and identities, and another user’s identity', async () => {
    const mine = idToken({ sub: 'user-a' });
    const { IdentityId: victim } = await getId({ [PROVIDER]: idToken({ sub: 'user-v' }) });
    expect(
      await refusal(getId({ [PROVIDER]: mine }, 'us-east-1:00000000-0000-0000-0000-000000000000')),
    ).toMatchObject({
      name: 'ResourceNotFoundException',
      message: "IdentityPool 'us-east-1:00000000-0000-0000-0000-000000000000' not found.",
      status: 400,
    });
    expect(await refusal(getId({ [PROVIDER]: mine }, 'us-east-1_TestPool1'))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(
        /^1 validation error detected: Value 'us-east-1_TestPool1' at 'identityPoolId'/,
      ),
    });
    expect(await refusal(getCredentials(victim, { [PROVIDER]: mine }))).toMatchObject({
      name: 'NotAuthorizedException',
      message:
        "Logins don't match. Please include at least one valid login for this identity or identity pool.",
    });
    const ghost = 'us-east-1:00000000-0000-5000-8000-000000000000';
    expect(await refusal(getCredentials(ghost, { [PROVIDER]: mine }))).toMatchObject({
      name: 'ResourceNotFoundException',
      message: `Identity '${ghost}' not found.`,
    });
    expect(await refusal(getCredentials('us-east-1:nope', { [PROVIDER]: mine }))).toMatchObject({
      name: 'ValidationException',
    });
    expect(await refusal(getCredentials(undefined, { [PROVIDER]: mine }))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("Value null at 'identityId'"),
    });
  });

  it('counts calls per operation and refusals by name; resetStats zeroes them', async () => {
    pool.resetStats();
    const token = idToken({ sub: 'user-s' });
    const { IdentityId } = await getId({ [PROVIDER]: token });
    await getCredentials(IdentityId, { [PROVIDER]: token });
    await refusal(getId({ [PROVIDER]: 'x.y.z' }));
    await refusal(getCredentials(IdentityId, {}));
    expect(pool.stats()).toEqual({
      GetId: 2,
      GetCredentialsForIdentity: 2,
      GetOpenIdToken: 0,
      GetOpenIdTokenForDeveloperIdentity: 0,
      errors: { NotAuthorizedException: 2 },
      jwksFetches: 0,
    });
    pool.resetStats();
    expect(pool.stats()).toMatchObject({ GetId: 0, GetCredentialsForIdentity: 0, errors: {} });
  });

  it('GetOpenIdToken: a token of the pool for the same identity and mapped tags, exchangeable once for credentials', async () => {
    const token = idToken({ sub: 'user-o', tenantId: 'acme' });
    const { IdentityId } = await getId({ [PROVIDER]: token });
    const out = await client.send(
      new GetOpenIdTokenCommand({ IdentityId, Logins: { [PROVIDER]: token } }),
    );
    expect(out.IdentityId).toBe(IdentityId);
    const claims = JSON.parse(
      Buffer.from((out.Token ?? '').split('.')[1] ?? '', 'base64url').toString(),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: 'https://cognito-identity.amazonaws.com',
      aud: POOL,
      sub: IdentityId,
      amr: ['authenticated', PROVIDER, `${PROVIDER}:CognitoSignIn:user-o`],
      exp: nowSeconds() + 600,
    });
    const creds = await getCredentials(IdentityId, {
      [COGNITO_IDENTITY_LOGIN]: out.Token ?? '',
    });
    expect(pool.sessions.lookup(creds.Credentials?.AccessKeyId ?? '')?.principalTags).toEqual({
      tenant_id: 'acme',
      user_id: 'user-o',
    });
    expect(
      await refusal(
        client.send(
          new GetOpenIdTokenCommand({
            IdentityId: identityIdFor('us-east-1', POOL, PROVIDER, 'user-v'),
            Logins: { [PROVIDER]: token },
          }),
        ),
      ),
    ).toMatchObject({
      name: 'NotAuthorizedException',
      message: expect.stringMatching(/^Logins don't match/),
    });
  });

  test.prop(
    [fc.string({ minLength: 1, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 64 })],
    {
      numRuns: 15,
    },
  )('any two subs: each stable, distinct when different', async (subA, subB) => {
    const a = await getId({ [PROVIDER]: idToken({ sub: subA }) });
    const again = await getId({ [PROVIDER]: idToken({ sub: subA }) });
    const b = await getId({ [PROVIDER]: idToken({ sub: subB }) });
    expect(again.IdentityId).toBe(a.IdentityId);
    expect(a.IdentityId === b.IdentityId).toBe(subA === subB);
  });
});

describe('identity-pool stand-in: lifetime and restarts on an injected clock', () => {
  it('credentials expire after the configured lifetime; a token is refused from its exp second on', async () => {
    const clockMs = { now: T0 + 500 };
    const pool = await startIdentityPool({
      ...baseOptions(),
      credentialsTtlSeconds: 30,
      now: () => clockMs.now,
    });
    const client = clientFor(pool.endpoint);
    try {
      const exp = Math.floor(T0 / 1000) + 60;
      const token = signJwt(
        key,
        idTokenPayload({ sub: 'user-l', tenantId: 'acme', exp }, Math.floor(T0 / 1000)),
      );
      const logins = { [PROVIDER]: token };
      const { IdentityId } = await client.send(
        new GetIdCommand({ IdentityPoolId: POOL, Logins: logins }),
      );
      const early = await client.send(
        new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }),
      );
      // Whole seconds: T0 + 0.5 s is second T0/1000, so expiry is that second + 30.
      expect(early.Credentials?.Expiration?.getTime()).toBe(T0 + 30_000);
      expect(pool.sessions.lookup(early.Credentials?.AccessKeyId ?? '')?.expiration.getTime()).toBe(
        T0 + 30_000,
      );

      clockMs.now = (exp - 1) * 1000;
      const late = await client.send(
        new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }),
      );
      expect(late.Credentials?.Expiration?.getTime()).toBe((exp - 1 + 30) * 1000);

      clockMs.now = exp * 1000;
      const r = await refusal(
        client.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins })),
      );
      expect(r).toMatchObject({
        name: 'NotAuthorizedException',
        message: `Invalid login token. Token expired: ${exp} >= ${exp}`,
      });
      // Expired sessions stay registered: the isolation layer must see them to refuse them.
      expect(pool.sessions.lookup(early.Credentials?.AccessKeyId ?? '')).toBeDefined();
      expect(pool.sessions.size).toBe(2);
    } finally {
      client.destroy();
      await pool.stop();
    }
  });

  it('IdentityIds survive a restart, and so does exchanging a cached one', async () => {
    const token = idToken({ sub: 'user-r' });
    const first = await startIdentityPool(baseOptions());
    const c1 = clientFor(first.endpoint);
    const { IdentityId } = await c1.send(
      new GetIdCommand({ IdentityPoolId: POOL, Logins: { [PROVIDER]: token } }),
    );
    c1.destroy();
    await first.stop();
    await first.stop(); // idempotent

    const second = await startIdentityPool(baseOptions());
    const c2 = clientFor(second.endpoint);
    try {
      const out = await c2.send(
        new GetCredentialsForIdentityCommand({ IdentityId, Logins: { [PROVIDER]: token } }),
      );
      expect(out.IdentityId).toBe(IdentityId);
      expect(second.stats()).toMatchObject({ GetId: 0, GetCredentialsForIdentity: 1 });
    } finally {
      c2.destroy();
      await second.stop();
    }
  });
});

it('the fixture issuer is the Logins key with https://', () => {
  expect(issuerOf(TEST_POOL_ID)).toBe(`https://${PROVIDER}`);
});
