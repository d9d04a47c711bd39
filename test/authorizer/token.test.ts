import { CognitoJwtVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwkValidationError,
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidClaimError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  NonRetryableFetchError,
  ParameterValidationError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AuthorizerConfigError,
  JwksUnavailableError,
  TokenRejectedError,
} from '../../authorizer/errors.js';
import { createTokenVerifier, type JwksCache } from '../../authorizer/token.js';
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
  withPayload,
} from '../fixtures/keys.js';

const key = createTestKey();
const foreign = createTestKey();
const POOL_B = 'eu-west-1_PoolB2';
const ISS_B = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL_B}`;

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

const settle = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

const reason = async (p: Promise<unknown>) => {
  const error = await settle(p);
  expect(error).toBeInstanceOf(TokenRejectedError);
  return (error as TokenRejectedError).reason;
};

describe('token verifier', () => {
  it('verifies an ID token of a trusted pool and client, payload frozen all the way down', async () => {
    const { verifier } = setup();
    // One payload, read once: a second idTokenPayload() reads the clock again and, across a second
    // boundary, gives an exp one higher (this flaked in CI: expected …518 to be …519).
    const payload = idTokenPayload({ sub: 'u1', tenantId: 'acme', groups: ['acme'] });
    const token = signJwt(key, payload);
    const v = await verifier.verify(token);
    expect(v).toMatchObject({
      sub: 'u1',
      userPoolId: TEST_POOL_ID,
      providerName: `cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`,
    });
    expect(v.exp).toBe(payload.exp);
    expect(v.payload['custom:tenant_id']).toBe('acme');
    expect(Object.isFrozen(v)).toBe(true);
    expect(Object.isFrozen(v.payload)).toBe(true);
    // The cached object is shared by every request repeating the token.
    expect(() => (v.payload['cognito:groups'] as string[]).push('beta')).toThrow(TypeError);
  });

  it('accepts the global issuer form with the regional Logins key', async () => {
    const { verifier, fetcher } = setup();
    const iss = `https://issuer-cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`;
    fetcher.set(`${iss}/.well-known/jwks.json`, jwksOf(key));
    const v = await verifier.verify(signJwt(key, idTokenPayload({ extra: { iss } })));
    expect(v.userPoolId).toBe(TEST_POOL_ID);
    expect(v.providerName).toBe(`cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`);
  });

  it('accepts a second pool with its own clients only', async () => {
    const { verifier } = setup();
    const ok = signJwt(key, idTokenPayload({ clientId: 'clientB', extra: { iss: ISS_B } }));
    const v = await verifier.verify(ok);
    expect(v.userPoolId).toBe(POOL_B);
    expect(v.providerName).toBe(`cognito-idp.eu-west-1.amazonaws.com/${POOL_B}`);
    const wrongClient = signJwt(
      key,
      idTokenPayload({ clientId: TEST_CLIENT_ID, extra: { iss: ISS_B } }),
    );
    expect(await reason(verifier.verify(wrongClient))).toBe('invalid-audience');
    // Pool B's client is not one of pool A's.
    const crossed = signJwt(key, idTokenPayload({ clientId: 'clientB' }));
    expect(await reason(verifier.verify(crossed))).toBe('invalid-audience');
  });

  it('a pool B token is refused when only pool A is configured', async () => {
    const { verifier } = setup({
      userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID, 'clientB'] }],
    });
    const fromB = signJwt(key, idTokenPayload({ clientId: 'clientB', extra: { iss: ISS_B } }));
    expect(await reason(verifier.verify(fromB))).toBe('invalid-issuer');
  });

  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const withoutClaim = (claim: string) => {
    const { [claim]: _, ...rest } = idTokenPayload();
    return rest;
  };
  const cases: [name: string, make: () => string, reason: string][] = [
    ['empty', () => '', 'missing'],
    ['whitespace', () => ' \t ', 'missing'],
    ['two parts', () => 'not.a-jwt', 'malformed'],
    ['garbage', () => 'abc', 'malformed'],
    ['header not JSON', () => `bm90anNvbg.${b64(idTokenPayload())}.AAAA`, 'malformed'],
    ['sub not a string', () => signJwt(key, idTokenPayload({ extra: { sub: 42 } })), 'malformed'],
    [
      'bad signature',
      () => `${signJwt(key, idTokenPayload()).slice(0, -6)}AAAAAA`,
      'invalid-signature',
    ],
    [
      'forged payload under a real signature',
      () => withPayload(signJwt(key, idTokenPayload()), idTokenPayload({ tenantId: 'beta' })),
      'invalid-signature',
    ],
    [
      'foreign key, same kid',
      () => signJwt({ ...foreign, kid: key.kid }, idTokenPayload()),
      'invalid-signature',
    ],
    ['unknown kid', () => signJwt(foreign, idTokenPayload()), 'unknown-key'],
    ['no kid', () => signJwt(key, idTokenPayload(), { kid: undefined }), 'unknown-key'],
    ['alg none', () => unsignedJwt(idTokenPayload(), key.kid), 'malformed'],
    [
      'alg none with a signature part',
      () => `${b64({ alg: 'none', kid: key.kid })}.${b64(idTokenPayload())}.AAAA`,
      'invalid-algorithm',
    ],
    [
      'HS256 with the public key as secret',
      () => signHs256(JSON.stringify(key.publicJwk), idTokenPayload(), key.kid),
      'invalid-algorithm',
    ],
    ['expired', () => signJwt(key, idTokenPayload({ iat: 1_000_000, exp: 1_003_600 })), 'expired'],
    [
      'not yet valid',
      () => signJwt(key, idTokenPayload({ extra: { nbf: now + 3600 } })),
      'not-yet-valid',
    ],
    [
      'wrong issuer',
      () => signJwt(key, idTokenPayload({ userPoolId: 'us-east-1_Other' })),
      'invalid-issuer',
    ],
    ['no issuer', () => signJwt(key, withoutClaim('iss')), 'invalid-issuer'],
    [
      'wrong client',
      () => signJwt(key, idTokenPayload({ clientId: 'someone-else' })),
      'invalid-audience',
    ],
    [
      'access token',
      () => signJwt(key, { ...idTokenPayload(), token_use: 'access', client_id: TEST_CLIENT_ID }),
      'invalid-token-use',
    ],
    ['no token_use', () => signJwt(key, withoutClaim('token_use')), 'invalid-token-use'],
    ['no sub', () => signJwt(key, withoutClaim('sub')), 'invalid-claims'],
    ['empty sub', () => signJwt(key, idTokenPayload({ sub: '' })), 'invalid-claims'],
    ['no exp', () => signJwt(key, withoutClaim('exp')), 'invalid-claims'],
  ];
  it.each(cases.map(([name, make, expected]) => [name, expected, make] as const))(
    '%s → %s',
    async (_name, expected, make) => {
      const { verifier } = setup();
      const token = make();
      const error = await settle(verifier.verify(token));
      expect(error).toBeInstanceOf(TokenRejectedError);
      expect((error as TokenRejectedError).reason).toBe(expected);
      if (token.trim() !== '') expect((error as Error).message).not.toContain(token);
    },
  );

  it('a kid that names an encryption key of the JWKS is a 401, not a 500', async () => {
    const { verifier, fetcher } = setup();
    fetcher.set(jwksUriOf(TEST_POOL_ID), { keys: [{ ...key.publicJwk, use: 'enc' }] });
    expect(await reason(verifier.verify(signJwt(key, idTokenPayload())))).toBe('unknown-key');
  });

  it('JWKS unreachable → JwksUnavailableError (a 500, fail closed), cause kept', async () => {
    const { verifier, fetcher } = setup();
    fetcher.state.fail = true;
    const error = await settle(verifier.verify(signJwt(key, idTokenPayload())));
    expect(error).toBeInstanceOf(JwksUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('JWKS not a key set → JwksUnavailableError', async () => {
    const { verifier, fetcher } = setup();
    fetcher.set(jwksUriOf(TEST_POOL_ID), { nokeys: [] } as never);
    expect(await settle(verifier.verify(signJwt(key, idTokenPayload())))).toBeInstanceOf(
      JwksUnavailableError,
    );
  });

  it.each([
    ['a plain network error', new Error('ECONNRESET')],
    ["aws-jwt-verify's FetchError", new FetchError('https://x', 'HTTP 503')],
    ["aws-jwt-verify's JwksNotAvailableInCacheError", new JwksNotAvailableInCacheError('none')],
  ])('a custom JwksCache failing with %s → JwksUnavailableError', async (_name, failure) => {
    const verifier = createTokenVerifier({
      userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
      jwksCache: new SimpleJwksCache({ fetcher: { fetch: () => Promise.reject(failure) } }),
    });
    const error = await settle(verifier.verify(signJwt(key, idTokenPayload())));
    expect(error).toBeInstanceOf(JwksUnavailableError);
    expect((error as Error).cause).toBe(failure);
  });

  it('fetches the JWKS once; hydrate prefetches every pool', async () => {
    const { verifier, fetcher } = setup();
    await verifier.hydrate();
    // Two pools, each under its regional and its global issuer form.
    expect(fetcher.state.fetches).toBe(4);
    await verifier.verify(signJwt(key, idTokenPayload()));
    await verifier.verify(signJwt(key, idTokenPayload()));
    expect(fetcher.state.fetches).toBe(4);
  });

  it('hydrate with every fetch failing → JwksUnavailableError', async () => {
    const { verifier, fetcher } = setup();
    fetcher.state.fail = true;
    expect(await settle(verifier.hydrate())).toBeInstanceOf(JwksUnavailableError);
  });
});

describe('verified-token cache', () => {
  it('a repeated token hits; a tampered copy of a cached token still fails', async () => {
    const { verifier, hits } = setup();
    const token = signJwt(key, idTokenPayload({ tenantId: 'acme', groups: ['acme'] }));
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(first);
    expect(hits).toEqual([false, true]);
    const forged = withPayload(token, { ...first.payload, 'custom:tenant_id': 'beta' });
    expect(await reason(verifier.verify(forged))).toBe('invalid-signature');
    expect(hits).toEqual([false, true, false]);
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

  it('an expired entry goes back to aws-jwt-verify, which rejects it as expired', async () => {
    const start = Date.now();
    let t = start;
    const { verifier, hits } = setup({ now: () => t });
    const exp = Math.floor(start / 1000) + 600;
    const token = signJwt(key, idTokenPayload({ exp }));
    await verifier.verify(token);
    t = exp * 1000 + 1;
    // aws-jwt-verify reads Date.now itself; a spy (not fake timers) moves its clock too.
    const spy = vi.spyOn(Date, 'now').mockReturnValue(t);
    try {
      expect(await reason(verifier.verify(token))).toBe('expired');
    } finally {
      spy.mockRestore();
    }
    expect(hits).toEqual([false, false]);
  });

  it('is dropped when a pool JWKS changes (key rotation)', async () => {
    const { verifier, fetcher, hits } = setup();
    const token = signJwt(key, idTokenPayload());
    await verifier.verify(token);
    await verifier.verify(token);
    const rotated = createTestKey();
    fetcher.set(jwksUriOf(TEST_POOL_ID), jwksOf(rotated));
    // A token under the new kid makes aws-jwt-verify refetch: the changed JWKS clears our cache.
    await verifier.verify(signJwt(rotated, idTokenPayload()));
    expect(await reason(verifier.verify(token))).toBe('unknown-key');
    expect(hits).toEqual([false, true, false, false]);
  });

  it('is kept when a refetch brings the same JWKS (an unknown kid is no rotation)', async () => {
    const { verifier, fetcher, hits } = setup();
    const token = signJwt(key, idTokenPayload());
    await verifier.verify(token);
    await reason(verifier.verify(signJwt(foreign, idTokenPayload())));
    expect(fetcher.state.fetches).toBe(2);
    await verifier.verify(token);
    expect(hits).toEqual([false, false, true]);
  });

  it('a verification that straddles a JWKS change is not stored', async () => {
    // A custom JwksCache that holds back the key for one token until told.
    const fetcher = staticJwksFetcher({ [jwksUriOf(TEST_POOL_ID)]: jwksOf(key) });
    const inner = new SimpleJwksCache({ fetcher });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const gated: JwksCache = {
      getJwk: async (uri, jwt) => {
        const jwk = await inner.getJwk(uri, jwt);
        if (jwt.payload.sub === 'slow') await gate;
        return jwk;
      },
      getCachedJwk: (uri, jwt) => inner.getCachedJwk(uri, jwt),
      addJwks: (uri, jwks) => inner.addJwks(uri, jwks),
      getJwks: (uri) => inner.getJwks(uri),
    };
    const hits: boolean[] = [];
    const verifier = createTokenVerifier({
      userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
      jwksCache: gated,
      observer: { tokenCache: (hit) => hits.push(hit) },
    });
    await verifier.hydrate();
    const slow = signJwt(key, idTokenPayload({ sub: 'slow' }));
    const pending = verifier.verify(slow);
    // Meanwhile the key set changes (a warm-up refetch sees a rotated JWKS).
    fetcher.set(jwksUriOf(TEST_POOL_ID), jwksOf(key, createTestKey()));
    await verifier.hydrate();
    release();
    expect((await pending).sub).toBe('slow');
    await verifier.verify(slow);
    expect(hits).toEqual([false, false]);
  });

  it('with a custom JwksCache, a refetch behind its getJwk drops the cache; a back-off does not', async () => {
    const fetcher = staticJwksFetcher({ [jwksUriOf(TEST_POOL_ID)]: jwksOf(key) });
    const hits: boolean[] = [];
    const verifier = createTokenVerifier({
      userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
      jwksCache: new SimpleJwksCache({ fetcher }),
      observer: { tokenCache: (hit) => hits.push(hit) },
    });
    const token = signJwt(key, idTokenPayload());
    await verifier.verify(token);
    await verifier.verify(token);
    // An unknown kid: the inner cache refetches (unseen by us), so the token cache is dropped.
    expect(await reason(verifier.verify(signJwt(foreign, idTokenPayload())))).toBe('unknown-key');
    await verifier.verify(token);
    // Another unknown kid within aws-jwt-verify's back-off: nothing fetched, nothing dropped.
    const other = createTestKey();
    expect(await reason(verifier.verify(signJwt(other, idTokenPayload())))).toBe('unknown-key');
    await verifier.verify(token);
    expect(hits).toEqual([false, true, false, false, false, true]);
    expect(fetcher.state.fetches).toBe(2);
  });

  it('with a custom JwksCache, a changed key set through getJwks drops the cache', async () => {
    const fetcher = staticJwksFetcher({ [jwksUriOf(TEST_POOL_ID)]: jwksOf(key) });
    const hits: boolean[] = [];
    const verifier = createTokenVerifier({
      userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
      jwksCache: new SimpleJwksCache({ fetcher }),
      observer: { tokenCache: (hit) => hits.push(hit) },
    });
    await verifier.hydrate();
    const token = signJwt(key, idTokenPayload());
    await verifier.verify(token);
    await verifier.hydrate();
    await verifier.verify(token);
    fetcher.set(jwksUriOf(TEST_POOL_ID), jwksOf(key, createTestKey()));
    await verifier.hydrate();
    await verifier.verify(token);
    expect(hits).toEqual([false, true, false]);
  });

  it('is bounded, least recently used out first', async () => {
    const { verifier, hits } = setup({ cacheSize: 2 });
    const [t1, t2, t3] = [1, 2, 3].map((i) => signJwt(key, idTokenPayload({ sub: `u${i}` })));
    if (!t1 || !t2 || !t3) throw new Error('tokens');
    await verifier.verify(t1);
    await verifier.verify(t2);
    await verifier.verify(t1); // t1 becomes the most recent
    await verifier.verify(t3); // evicts t2
    await verifier.verify(t1);
    await verifier.verify(t3);
    await verifier.verify(t2);
    expect(hits).toEqual([false, false, true, false, true, true, false]);
  });

  it('cacheSize 0 disables it', async () => {
    const { verifier, hits } = setup({ cacheSize: 0 });
    const token = signJwt(key, idTokenPayload());
    const a = await verifier.verify(token);
    const b = await verifier.verify(token);
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
    expect(hits).toEqual([]);
  });

  it('a rejected token is never stored', async () => {
    const { verifier, hits } = setup();
    const token = signJwt(key, idTokenPayload({ clientId: 'someone-else' }));
    await reason(verifier.verify(token));
    await reason(verifier.verify(token));
    expect(hits).toEqual([false, false]);
  });
});

describe('options', () => {
  const issuesOf = (options: Parameters<typeof createTokenVerifier>[0]) => {
    try {
      createTokenVerifier(options);
    } catch (error) {
      expect(error).toBeInstanceOf(AuthorizerConfigError);
      return (error as AuthorizerConfigError).issues;
    }
    return [];
  };

  it('lists every problem at once', () => {
    const issues = issuesOf({
      userPools: [
        { userPoolId: 'nope', clientIds: [] },
        { userPoolId: TEST_POOL_ID, clientIds: ['a'] },
        { userPoolId: TEST_POOL_ID, clientIds: ['a', ' '] },
      ],
      cacheSize: 1.5,
    });
    expect(issues).toHaveLength(5);
    expect(issues.join('\n')).toMatch(/userPools\[0\]\.userPoolId/);
    expect(issues.join('\n')).toMatch(/listed twice/);
    expect(issues.join('\n')).toMatch(/cacheSize/);
  });

  // Survivors of `npm run mutate authorizer` on main: without these, an anchor of the pool-id pattern
  // or the whole fetchTimeoutMs check could go and aws-jwt-verify (or a 0 ms timer) would decide.
  it('a pool id with anything before or after <region>_<id> is refused by name', () => {
    for (const userPoolId of ['xus-east-1_Abc123', 'us-east-1_Abc123!', ' us-east-1_Abc123']) {
      expect(issuesOf({ userPools: [{ userPoolId, clientIds: ['c'] }] })).toEqual([
        `userPools[0].userPoolId must look like <region>_<id>, got "${userPoolId}"`,
      ]);
    }
    expect(
      issuesOf({ userPools: [{ userPoolId: 'us-gov-west-1_Abc123', clientIds: ['c'] }] }),
    ).toEqual([]);
  });

  it('fetchTimeoutMs: whole milliseconds from 1 to 60,000', () => {
    const pools = [{ userPoolId: TEST_POOL_ID, clientIds: ['c'] }];
    for (const fetchTimeoutMs of [1, 60_000])
      expect(issuesOf({ userPools: pools, fetchTimeoutMs })).toEqual([]);
    for (const fetchTimeoutMs of [0, 60_001, 2.5]) {
      expect(issuesOf({ userPools: pools, fetchTimeoutMs })).toEqual([
        `fetchTimeoutMs must be an integer from 1 to 60000, got ${fetchTimeoutMs}`,
      ]);
    }
  });

  it('needs at least one pool; cacheSize must not be negative', () => {
    expect(issuesOf({ userPools: [], cacheSize: -1 })).toHaveLength(2);
  });

  // The exact wording: these are what an operator reads when a deploy fails at init.
  it('names each problem with its index and value', () => {
    expect(
      issuesOf({
        userPools: [
          { userPoolId: 'bad', clientIds: [] },
          { userPoolId: TEST_POOL_ID, clientIds: ['a'] },
          { userPoolId: TEST_POOL_ID, clientIds: [' '] },
        ],
        cacheSize: -1,
      }),
    ).toEqual([
      'userPools[0].userPoolId must look like <region>_<id>, got "bad"',
      'userPools[0].clientIds must be a non-empty list of app client ids',
      `userPools[2]: user pool ${TEST_POOL_ID} listed twice`,
      'userPools[2].clientIds must be a non-empty list of app client ids',
      'cacheSize must be a non-negative integer, got -1',
    ]);
    expect(issuesOf({ userPools: [] })).toEqual(['userPools must name at least one user pool']);
    expect(issuesOf({ userPools: 'us-east-1_Abc' as unknown as [], cacheSize: 0 })).toEqual([
      'userPools must name at least one user pool',
    ]);
  });

  it.each(['us-east-1_AbC123', 'us-gov-west-1_Abc', 'eusc-de-east-1_Abc', 'ap-southeast-2_x'])(
    'accepts pool id %s',
    (userPoolId) => {
      expect(issuesOf({ userPools: [{ userPoolId, clientIds: ['c'] }] })).toEqual([]);
    },
  );

  it.each([
    [[null], 'userPools[0].userPoolId must look like <region>_<id>, got "undefined"'],
    [
      [{ userPoolId: 'us-east-1_Abc', clientIds: [5] }],
      'userPools[0].clientIds must be a non-empty list of app client ids',
    ],
    [
      [{ userPoolId: 'xus-east-1_Abc', clientIds: ['c'] }],
      'userPools[0].userPoolId must look like <region>_<id>, got "xus-east-1_Abc"',
    ],
    [
      [{ userPoolId: 'us-east-1_Abc-', clientIds: ['c'] }],
      'userPools[0].userPoolId must look like <region>_<id>, got "us-east-1_Abc-"',
    ],
    // RegExp.test coerces a one-element array to its only string, which would pass.
    [
      [{ userPoolId: ['us-east-1_Abc'], clientIds: ['c'] }],
      'userPools[0].userPoolId must look like <region>_<id>, got "us-east-1_Abc"',
    ],
  ])("%j: a problem of ours, not a TypeError or aws-jwt-verify's", (userPools, first) => {
    expect(issuesOf({ userPools: userPools as never })[0]).toBe(first);
  });

  it.each([
    'us-east-1',
    '_Abc',
    'us-east-1_',
    'US-EAST-1_Abc',
    'us-east-1_a-b',
    'us-east-1_Abc/../x',
  ])('refuses pool id %s', (userPoolId) => {
    expect(issuesOf({ userPools: [{ userPoolId, clientIds: ['c'] }] })).toHaveLength(1);
  });
});

// Checks that aws-jwt-verify makes first: with the real library they cannot fail, so they are tested
// here on their own, with its verifier stubbed. They stay as defence in depth: the issuer lookup is
// what names the pool (and so the Logins key and the siloed tenant), and must never default.
describe('behind aws-jwt-verify (its verifier stubbed)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const stubbed = (payload: Record<string, unknown>) => {
    vi.spyOn(CognitoJwtVerifier, 'create').mockReturnValue({
      verify: async () => payload,
      hydrate: async () => {},
    } as never);
    return createTokenVerifier({
      userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
      fetcher: staticJwksFetcher({}),
    });
  };

  it.each([
    ['another pool', 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other'],
    ['a look-alike host', `https://cognito-idp.us-east-1.amazonaws.com.evil/${TEST_POOL_ID}`],
    ['no issuer', undefined],
    ['an issuer that is no string', 42],
  ])('a verified payload naming %s as issuer is refused: invalid-issuer', async (_name, iss) => {
    const verifier = stubbed({ ...idTokenPayload(), iss });
    expect(await reason(verifier.verify('stub.token.sig'))).toBe('invalid-issuer');
  });

  it('a verified payload of a configured pool names that pool', async () => {
    const verifier = stubbed(idTokenPayload({ sub: 'u9' }));
    await expect(verifier.verify('stub.token.sig')).resolves.toMatchObject({
      sub: 'u9',
      userPoolId: TEST_POOL_ID,
    });
  });

  it('aws-jwt-verify refusing the pools → AuthorizerConfigError naming it, cause kept', () => {
    const refusal = new Error('clientId must be a non-empty array');
    vi.spyOn(CognitoJwtVerifier, 'create').mockImplementation(() => {
      throw refusal;
    });
    const error = (() => {
      try {
        createTokenVerifier({ userPools: [{ userPoolId: TEST_POOL_ID, clientIds: ['c'] }] });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AuthorizerConfigError);
    expect((error as AuthorizerConfigError).issues).toEqual([
      'aws-jwt-verify refused userPools: clientId must be a non-empty array',
    ]);
    expect((error as Error).cause).toBe(refusal);
  });
});

// Every verdict of aws-jwt-verify, mapped: a 401 with its reason for a verdict on the token (the
// caller chooses the kid and the claims, so none of those may become a 500), a 500 when the keys
// cannot be had. Subclasses are listed before their bases in the code; each row pins one branch.
describe('aws-jwt-verify errors, mapped (its verifier stubbed)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const failingWith = (failure: unknown) => {
    vi.spyOn(CognitoJwtVerifier, 'create').mockReturnValue({
      verify: async () => Promise.reject(failure),
      hydrate: async () => Promise.reject(failure),
    } as never);
    return createTokenVerifier({
      userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
      fetcher: staticJwksFetcher({}),
    });
  };
  // Some of these classes are abstract in aws-jwt-verify's types; at run time they construct as any.
  type Concrete = new (m: string, a?: unknown, e?: string) => Error;
  const claim = (C: abstract new (m: string, a: unknown, e?: string) => Error) =>
    new (C as Concrete)('m', 'a', 'e');
  const base = () => new (JwtBaseError as unknown as Concrete)('m');

  it.each([
    ['KidNotFoundInJwksError', 'unknown-key', new KidNotFoundInJwksError('m')],
    ['JwtWithoutValidKidError', 'unknown-key', new JwtWithoutValidKidError('m')],
    ['WaitPeriodNotYetEndedJwkError', 'unknown-key', new WaitPeriodNotYetEndedJwkError('m')],
    ['JwkInvalidUseError', 'unknown-key', claim(JwkInvalidUseError)],
    ['JwkInvalidKtyError', 'unknown-key', claim(JwkInvalidKtyError)],
    ['JwtParseError', 'malformed', new JwtParseError('m')],
    [
      'JwtInvalidSignatureAlgorithmError',
      'invalid-algorithm',
      claim(JwtInvalidSignatureAlgorithmError),
    ],
    ['JwtInvalidSignatureError', 'invalid-signature', new JwtInvalidSignatureError('m')],
    ['JwtExpiredError', 'expired', claim(JwtExpiredError)],
    ['JwtNotBeforeError', 'not-yet-valid', claim(JwtNotBeforeError)],
    ['JwtInvalidIssuerError', 'invalid-issuer', claim(JwtInvalidIssuerError)],
    ['CognitoJwtInvalidTokenUseError', 'invalid-token-use', claim(CognitoJwtInvalidTokenUseError)],
    ['CognitoJwtInvalidClientIdError', 'invalid-audience', claim(CognitoJwtInvalidClientIdError)],
    ['JwtInvalidAudienceError', 'invalid-audience', claim(JwtInvalidAudienceError)],
    ['ParameterValidationError', 'invalid-issuer', new ParameterValidationError('m')],
    ['JwtInvalidClaimError', 'invalid-claims', claim(JwtInvalidClaimError)],
    ['any other JwtBaseError', 'invalid-claims', base()],
  ])(
    '%s → 401 %s, cause kept, never the token in the message',
    async (_name, expected, failure) => {
      const error = await settle(failingWith(failure).verify('stub.token.sig'));
      expect(error).toBeInstanceOf(TokenRejectedError);
      expect(error).toMatchObject({ reason: expected });
      expect((error as Error).cause).toBe(failure);
      expect((error as Error).message).not.toContain('stub.token.sig');
    },
  );

  it('an unexpected verdict is still named in the message (by its name)', async () => {
    const odd = Object.assign(base(), { name: 'OddVerdict' });
    const error = await settle(failingWith(odd).verify('stub.token.sig'));
    expect((error as Error).message).toBe('token rejected: OddVerdict');
  });

  it.each([
    ['FetchError', new FetchError('https://x', 'HTTP 503')],
    ['NonRetryableFetchError', new NonRetryableFetchError('https://x', 'HTTP 404')],
    ['JwksNotAvailableInCacheError', new JwksNotAvailableInCacheError('m')],
    ['JwksValidationError', new JwksValidationError('m')],
    ['JwkValidationError', new JwkValidationError('m')],
    ['a plain Error', new Error('ECONNRESET')],
    ['a thrown string', 'boom'],
  ])(
    '%s → JwksUnavailableError (500), from verify and hydrate, cause kept',
    async (_name, failure) => {
      const verifier = failingWith(failure);
      for (const p of [verifier.verify('stub.token.sig'), verifier.hydrate()]) {
        const error = await settle(p);
        expect(error).toBeInstanceOf(JwksUnavailableError);
        expect((error as Error).cause).toBe(failure);
      }
    },
  );

  it('names the kind of key failure in the message', async () => {
    // aws-jwt-verify's errors keep the name `Error`: the message carries whatever name they have.
    const named = Object.assign(new JwksValidationError('m'), { name: 'JwksValidationError' });
    const error = await settle(failingWith(named).verify('x.y.z'));
    expect((error as Error).message).toBe('signing keys unavailable: JwksValidationError');
    const plain = await settle(failingWith(new Error('x')).verify('x.y.z'));
    expect((plain as Error).message).toBe('signing keys unavailable');
  });

  it('a token that is no string, or blank, is missing: aws-jwt-verify is not asked', async () => {
    const verify = vi.fn();
    vi.spyOn(CognitoJwtVerifier, 'create').mockReturnValue({ verify, hydrate: vi.fn() } as never);
    const verifier = createTokenVerifier({
      userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
    });
    for (const token of [42, undefined, '', ' \n\t'])
      expect(await reason(verifier.verify(token as string))).toBe('missing');
    expect(verify).not.toHaveBeenCalled();
  });
});
