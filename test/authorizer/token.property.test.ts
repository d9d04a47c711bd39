/**
 * Properties of the token verifier with the production CognitoJwtVerifier and real RSA keys: no token
 * outside the trusted keys and claims is ever accepted — not even a tampered variant of a token the
 * cache already holds — every refusal is a 401 (never a 500 while the keys are reachable), and every
 * properly signed ID token of a trusted pool and client verifies, from the cache too.
 * One verifier is shared by all runs, so its cache fills as the runs go. numRuns stay small: each
 * run signs with RSA-2048 (~1–2 ms).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { TokenRejectedError } from '../../authorizer/errors.js';
import { createTokenVerifier } from '../../authorizer/token.js';
import {
  createTestKey,
  type IdTokenClaims,
  idTokenPayload,
  issuerOf,
  jwksOf,
  jwksUriOf,
  publicKeyBytes,
  signHs256,
  signJwt,
  staticJwksFetcher,
  TEST_CLIENT_ID,
  TEST_POOL_ID,
  unsignedJwt,
  withPayload,
} from '../fixtures/keys.js';

const key = createTestKey();
const keyB = createTestKey();
const foreign = createTestKey();
const POOL_B = 'us-east-1_PoolBee2';
const CLIENT_B = 'clientb0000000000000000000';
const TRUSTED_ISSUERS = new Set([
  issuerOf(TEST_POOL_ID),
  issuerOf(POOL_B),
  `https://issuer-cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`,
  `https://issuer-cognito-idp.us-east-1.amazonaws.com/${POOL_B}`,
]);

const hits = { hit: 0, miss: 0 };
const verifier = createTokenVerifier({
  userPools: [
    { userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] },
    { userPoolId: POOL_B, clientIds: [CLIENT_B] },
  ],
  fetcher: staticJwksFetcher({
    [jwksUriOf(TEST_POOL_ID)]: jwksOf(key),
    [jwksUriOf(POOL_B)]: jwksOf(keyB),
  }),
  cacheSize: 64,
  observer: { tokenCache: (hit) => void (hit ? hits.hit++ : hits.miss++) },
});

/** The refusal, or a failure naming what was accepted or thrown instead. */
async function refusal(token: string): Promise<TokenRejectedError> {
  const error = await verifier.verify(token).then(
    (v) => new Error(`accepted: ${JSON.stringify(v.payload)}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenRejectedError);
  // Reasons and messages are logged: they must never carry the token.
  if (token.length > 8) expect((error as Error).message).not.toContain(token);
  return error as TokenRejectedError;
}

// Claim names aws-jwt-verify parses with a type, or that we generate ourselves; extra claims avoid
// them so the payload round-trips unchanged (`__proto__`/`constructor` are stripped on parse).
const RESERVED = new Set([
  'sub',
  'iss',
  'aud',
  'token_use',
  'exp',
  'iat',
  'nbf',
  'auth_time',
  'scope',
  'jti',
  'client_id',
  '__proto__',
  'constructor',
]);
const claimName = fc.string({ minLength: 1, maxLength: 16 }).filter((k) => !RESERVED.has(k));
const tenantArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/);
const claimsArb = fc.record({
  sub: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 40 })),
  tenantId: tenantArb,
  groups: fc.array(tenantArb, { maxLength: 4 }),
  role: fc.constantFrom('admin', 'member', 'pilot'),
  extra: fc.dictionary(claimName, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
});
const payloadOf = (claims: IdTokenClaims) => idTokenPayload(claims);
/** What the payload reads as after signing and parsing: aws-jwt-verify drops `__proto__` and
 * `constructor` keys at any depth (its prototype-pollution guard). */
const roundTrip = (v: unknown) =>
  JSON.parse(JSON.stringify(v), (k, value) =>
    k === '__proto__' || k === 'constructor' ? undefined : value,
  );

describe('token verifier properties', () => {
  test.prop([claimsArb], { numRuns: 60 })(
    'a properly signed ID token of a trusted pool and client verifies, then from the cache',
    async (claims) => {
      const payload = payloadOf(claims);
      const token = signJwt(key, payload);
      const verified = await verifier.verify(token);
      expect(verified.payload).toEqual(roundTrip(payload));
      expect(verified).toMatchObject({ sub: payload.sub, userPoolId: TEST_POOL_ID });
      const before = hits.hit;
      expect(await verifier.verify(token)).toBe(verified);
      expect(hits.hit).toBe(before + 1);
    },
  );

  const mutation = fc.oneof(
    fc.record({ op: fc.constant('set' as const), claim: claimName, value: fc.jsonValue() }),
    fc.record({
      op: fc.constant('set' as const),
      claim: fc.constantFrom(
        'sub',
        'custom:tenant_id',
        'cognito:groups',
        'custom:role',
        'exp',
        'aud',
        'iss',
        'email',
      ),
      value: fc.oneof(fc.jsonValue(), tenantArb, fc.array(tenantArb)),
    }),
    fc.record({
      op: fc.constant('delete' as const),
      claim: fc.constantFrom('custom:tenant_id', 'cognito:groups', 'custom:role', 'email', 'exp'),
    }),
  );

  test.prop([claimsArb, fc.array(mutation, { minLength: 1, maxLength: 3 })], { numRuns: 60 })(
    'a tampered payload under the real signature never verifies, even with the original cached',
    async (claims, mutations) => {
      const payload = payloadOf(claims);
      const token = signJwt(key, payload);
      const forgedPayload: Record<string, unknown> = { ...payload };
      for (const m of mutations) {
        if (m.op === 'set') forgedPayload[m.claim] = m.value;
        else delete forgedPayload[m.claim];
      }
      const forged = withPayload(token, forgedPayload);
      fc.pre(forged !== token);
      await verifier.verify(token); // now cached
      await refusal(forged);
      // Refusing the forgery did not disturb the genuine entry.
      expect((await verifier.verify(token)).payload).toEqual(roundTrip(payload));
    },
  );

  test.prop([claimsArb, fc.nat(), fc.nat({ max: 63 })], { numRuns: 40 })(
    'a changed signature never verifies',
    async (claims, at, to) => {
      const token = signJwt(key, payloadOf(claims));
      await verifier.verify(token);
      const [h, p, s = ''] = token.split('.');
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const i = at % s.length;
      const changed = `${s.slice(0, i)}${alphabet[to]}${s.slice(i + 1)}`;
      // The last character carries unused bits: a change there may decode to the same bytes.
      fc.pre(!Buffer.from(changed, 'base64url').equals(Buffer.from(s, 'base64url')));
      await refusal(`${h}.${p}.${changed}`);
    },
  );

  test.prop(
    [
      claimsArb,
      fc.record(
        {
          alg: fc.constantFrom('RS256', 'RS384', 'RS512', 'ES256', 'PS256', 'HS256', 'none'),
          kid: fc.oneof(fc.constant(key.kid), fc.string()),
          typ: fc.constantFrom('JWT', 'at+jwt'),
          extra: fc.string(),
        },
        { requiredKeys: [] },
      ),
    ],
    { numRuns: 40 },
  )('a changed header under the real signature never verifies', async (claims, header) => {
    const token = signJwt(key, payloadOf(claims));
    await verifier.verify(token);
    const [, p, s] = token.split('.');
    const original = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString());
    const h = Buffer.from(JSON.stringify({ ...original, ...header })).toString('base64url');
    fc.pre(`${h}.${p}.${s}` !== token);
    await refusal(`${h}.${p}.${s}`);
  });

  test.prop([claimsArb, fc.constantFrom(...publicKeyBytes(key)), fc.boolean()], { numRuns: 30 })(
    'alg none and HS256 keyed with the public key are refused',
    async (claims, secret, none) => {
      const payload = payloadOf(claims);
      const token = none ? unsignedJwt(payload, key.kid) : signHs256(secret, payload, key.kid);
      expect(['malformed', 'invalid-algorithm']).toContain((await refusal(token)).reason);
    },
  );

  test.prop([claimsArb, fc.constantFrom(key.kid, keyB.kid, foreign.kid, 'CognitoLocal')], {
    numRuns: 30,
  })('a token signed by a foreign key is refused, whatever kid it names', async (claims, kid) => {
    await refusal(signJwt({ ...foreign, kid }, payloadOf(claims)));
  });

  test.prop([claimsArb, fc.boolean()], { numRuns: 20 })(
    "pool B's key signs for pool B only, and pool A's for pool A only",
    async (claims, asB) => {
      const forB = idTokenPayload({ ...claims, userPoolId: POOL_B, clientId: CLIENT_B });
      // The right pool, the other pool's key; then the right key, the other pool's client.
      await refusal(signJwt(asB ? key : keyB, asB ? forB : payloadOf(claims)));
      await refusal(signJwt(keyB, { ...forB, aud: asB ? TEST_CLIENT_ID : `${CLIENT_B}x` }));
      const v = await verifier.verify(signJwt(keyB, forB));
      expect(v.userPoolId).toBe(POOL_B);
      expect(v.providerName).toBe(`cognito-idp.us-east-1.amazonaws.com/${POOL_B}`);
    },
  );

  const now = () => Math.floor(Date.now() / 1000);
  const outOfPolicy = fc.oneof(
    fc
      .integer({ min: 0, max: now() - 1 })
      .map((exp) => ({ reason: 'expired', claims: { exp, iat: exp - 3600 } })),
    fc
      .integer({ min: now() + 60, max: now() + 10 * 365 * 86400 })
      .map((nbf) => ({ reason: 'not-yet-valid', claims: { nbf } })),
    fc
      .string({ minLength: 1 })
      .filter((aud) => aud !== TEST_CLIENT_ID)
      .map((aud) => ({ reason: 'invalid-audience', claims: { aud } })),
    fc
      .oneof(
        fc.string({ minLength: 1 }),
        fc.webUrl(),
        fc.stringMatching(/^[a-z]{2}-[a-z]+-\d_[A-Za-z0-9]{1,9}$/).map((p) => issuerOf(p)),
      )
      .filter((iss) => !TRUSTED_ISSUERS.has(iss))
      .map((iss) => ({ reason: 'invalid-issuer', claims: { iss } })),
    fc
      .string({ minLength: 1 })
      .filter((use) => use !== 'id')
      .map((token_use) => ({ reason: 'invalid-token-use', claims: { token_use } })),
  );

  test.prop([claimsArb, outOfPolicy], { numRuns: 60 })(
    'a token signed by the trusted key with claims out of policy is refused for that reason',
    async (claims, { reason, claims: bad }) => {
      const token = signJwt(key, { ...payloadOf(claims), ...bad });
      expect((await refusal(token)).reason).toBe(reason);
    },
  );

  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const junk = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.stringMatching(/^[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,40}$/),
    fc
      .tuple(
        fc.record(
          {
            alg: fc.constantFrom('RS256', 'ES256', 'EdDSA', 'HS256', 'none', ''),
            kid: fc.oneof(fc.constant(key.kid), fc.constant(keyB.kid), fc.string()),
          },
          { requiredKeys: [] },
        ),
        fc.oneof(claimsArb.map(payloadOf), fc.jsonValue()),
        fc.uint8Array({ maxLength: 300 }),
      )
      .map(([h, p, s]) => `${b64(h)}.${b64(p)}.${Buffer.from(s).toString('base64url')}`),
  );

  test.prop([junk], { numRuns: 150 })(
    'arbitrary strings are 401s, never accepted and never a 500 while the keys are reachable',
    async (token) => {
      await refusal(token);
    },
  );
});
