import { describe, expect, it } from 'vitest';
import {
  AuthorizerConfigError,
  JwksUnavailableError,
  TokenRejectedError,
} from '../../authorizer/errors.js';
import { createTokenVerifier } from '../../authorizer/token.js';
import {
  createTestKey,
  idTokenPayload,
  jwksOf,
  jwksUriOf,
  signHs256,
  signJwt,
  staticJwksFetcher,
  TEST_CLIENT_ID,
  TEST_POOL_ID,
  unsignedJwt,
} from '../fixtures/keys.js';

const key = createTestKey();
const foreign = createTestKey();
const POOL_B = 'eu-west-1_PoolB2';

function setup(extra: Partial<Parameters<typeof createTokenVerifier>[0]> = {}) {
  const fetcher = staticJwksFetcher({
    [jwksUriOf(TEST_POOL_ID)]: jwksOf(key),
    [jwksUriOf(POOL_B, 'eu-west-1')]: jwksOf(key),
  });
  const hits: boolean[] = [];
  const verifier = createTokenVerifier({
    userPools: [
      { userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] },
      { userPoolId: POOL_B, clientIds: ['clientB'] },
    ],
    fetcher,
    observer: { tokenCache: (hit) => hits.push(hit) },
    ...extra,
  });
  return { verifier, fetcher, hits };
}

const reason = async (p: Promise<unknown>) => {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenRejectedError);
  return (error as TokenRejectedError).reason;
};

describe('token verifier', () => {
  it('verifies an ID token of a trusted pool and client', async () => {
    const { verifier } = setup();
    const token = signJwt(key, idTokenPayload({ sub: 'u1', tenantId: 'acme', groups: ['acme'] }));
    const v = await verifier.verify(token);
    expect(v).toMatchObject({
      sub: 'u1',
      userPoolId: TEST_POOL_ID,
      providerName: `cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`,
    });
    expect(v.payload['custom:tenant_id']).toBe('acme');
    expect(Object.isFrozen(v.payload)).toBe(true);
  });

  it('accepts the global issuer form with the regional Logins key', async () => {
    const { verifier, fetcher } = setup();
    const iss = `https://issuer-cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`;
    fetcher.set(`${iss}/.well-known/jwks.json`, jwksOf(key));
    const v = await verifier.verify(signJwt(key, idTokenPayload({ extra: { iss } })));
    expect(v.providerName).toBe(`cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`);
  });

  it('accepts a second pool with its own clients only', async () => {
    const { verifier } = setup();
    const iss = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_PoolB2';
    const ok = signJwt(key, idTokenPayload({ clientId: 'clientB', extra: { iss } }));
    expect((await verifier.verify(ok)).userPoolId).toBe(POOL_B);
    const wrongClient = signJwt(key, idTokenPayload({ clientId: TEST_CLIENT_ID, extra: { iss } }));
    expect(await reason(verifier.verify(wrongClient))).toBe('invalid-audience');
  });

  it.each([
    ['missing', () => '', 'missing'],
    ['malformed', () => 'not.a.jwt', 'malformed'],
    ['garbage', () => 'abc', 'malformed'],
    [
      'bad signature',
      () => `${signJwt(key, idTokenPayload()).slice(0, -6)}AAAAAA`,
      'invalid-signature',
    ],
    [
      'foreign key, same kid',
      () => signJwt({ ...foreign, kid: key.kid }, idTokenPayload()),
      'invalid-signature',
    ],
    ['unknown kid', () => signJwt(foreign, idTokenPayload()), 'unknown-key'],
    ['alg none', () => unsignedJwt(idTokenPayload(), key.kid), 'malformed'],
    [
      'HS256 with the public key as secret',
      () => signHs256(JSON.stringify(key.publicJwk), idTokenPayload(), key.kid),
      'invalid-algorithm',
    ],
    ['expired', () => signJwt(key, idTokenPayload({ iat: 1_000_000, exp: 1_003_600 })), 'expired'],
    [
      'wrong issuer',
      () => signJwt(key, idTokenPayload({ userPoolId: 'us-east-1_Other' })),
      'invalid-issuer',
    ],
    [
      'wrong client',
      () => signJwt(key, idTokenPayload({ clientId: 'someone-else' })),
      'invalid-audience',
    ],
    [
      'access token',
      () => signJwt(key, { ...idTokenPayload(), token_use: 'access' }),
      'invalid-token-use',
    ],
  ])('%s → %s', async (_name, make, expected) => {
    const { verifier } = setup();
    expect(await reason(verifier.verify(make()))).toBe(expected);
  });

  it('JWKS unreachable → JwksUnavailableError (a 500, fail closed)', async () => {
    const { verifier, fetcher } = setup();
    fetcher.state.fail = true;
    await expect(verifier.verify(signJwt(key, idTokenPayload()))).rejects.toBeInstanceOf(
      JwksUnavailableError,
    );
  });

  it('fetches the JWKS once; hydrate prefetches every pool', async () => {
    const { verifier, fetcher } = setup();
    await verifier.hydrate();
    // Two pools, each under its regional and its global issuer form.
    const afterHydrate = fetcher.state.fetches;
    expect(afterHydrate).toBeGreaterThanOrEqual(2);
    await verifier.verify(signJwt(key, idTokenPayload()));
    await verifier.verify(signJwt(key, idTokenPayload()));
    expect(fetcher.state.fetches).toBe(afterHydrate);
  });
});

describe('verified-token cache', () => {
  it('a repeated token hits; a tampered copy of a cached token still fails', async () => {
    const { verifier, hits } = setup();
    const token = signJwt(key, idTokenPayload({ tenantId: 'acme', groups: ['acme'] }));
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first);
    expect(hits).toEqual([false, true]);
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...first.payload, 'custom:tenant_id': 'beta' })).toString('base64url')}.${s}`;
    expect(await reason(verifier.verify(forged))).toBe('invalid-signature');
  });

  it('re-checks exp on every hit with the injected clock', async () => {
    let t = Date.now();
    const { verifier, hits } = setup({ now: () => t });
    const exp = Math.floor(t / 1000) + 600;
    const token = signJwt(key, idTokenPayload({ exp }));
    await verifier.verify(token);
    t = exp * 1000 - 1;
    await verifier.verify(token);
    t = exp * 1000;
    // Past exp by our clock: dropped, and the real verifier is asked again (its clock still accepts it).
    await verifier.verify(token);
    expect(hits).toEqual([false, true, false]);
  });

  it('is dropped when a pool JWKS changes (key rotation)', async () => {
    const { verifier, fetcher, hits } = setup();
    const token = signJwt(key, idTokenPayload());
    await verifier.verify(token);
    const rotated = createTestKey();
    fetcher.set(jwksUriOf(TEST_POOL_ID), jwksOf(rotated));
    // A token under the new kid makes aws-jwt-verify refetch: the changed JWKS clears our cache.
    await verifier.verify(signJwt(rotated, idTokenPayload()));
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(TokenRejectedError);
    expect(hits).toEqual([false, false, false]);
  });

  it('is bounded (LRU) and can be disabled', async () => {
    const small = setup({ cacheSize: 2 });
    const tokens = [1, 2, 3].map((i) => signJwt(key, idTokenPayload({ sub: `u${i}` })));
    for (const t of tokens) await small.verifier.verify(t);
    await small.verifier.verify(tokens[0] ?? '');
    expect(small.hits).toEqual([false, false, false, false]);
    const off = setup({ cacheSize: 0 });
    await off.verifier.verify(tokens[0] ?? '');
    await off.verifier.verify(tokens[0] ?? '');
    expect(off.hits).toEqual([]);
  });
});

describe('options', () => {
  it('lists every problem at once', () => {
    let error: unknown;
    try {
      createTokenVerifier({
        userPools: [
          { userPoolId: 'nope', clientIds: [] },
          { userPoolId: TEST_POOL_ID, clientIds: ['a'] },
          { userPoolId: TEST_POOL_ID, clientIds: ['a'] },
        ],
        cacheSize: -1,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthorizerConfigError);
    expect((error as AuthorizerConfigError).issues).toHaveLength(4);
  });
});
