import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-cognito-identity';
import { fc, test } from '@fast-check/vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect } from 'vitest';
import {
  type CredentialsPrincipal,
  createCredentialsProvider,
  createLruCache,
} from '../../authorizer/credentials.js';
import { CredentialsUnavailableError } from '../../authorizer/errors.js';

const POOL_ID = 'eu-west-1:0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const DEV = 'login.tenantgate';
const PROVIDERS = [
  'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1',
  'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1"',
];
const T0 = 1_700_000_000_000;

// Few users and short values from an alphabet of delimiters: collisions of naive keys, cache hits
// and evictions all happen often.
const valueArb = fc.oneof(
  fc.constantFrom('acme', 'beta', 'a'),
  fc.string({
    minLength: 1,
    maxLength: 3,
    unit: fc.constantFrom('a', '|', '"', ',', '[', ']', '\\', ':'),
  }),
);
const requestArb: fc.Arbitrary<CredentialsPrincipal> = fc.record({
  providerName: fc.constantFrom(...PROVIDERS),
  userId: fc.constantFrom('u1', 'u2', 'u|1', 'u1:a'),
  tenantId: valueArb,
});

/**
 * A small key space (2 × 2 × 2 keys, each pair one delimiter apart) so that evicted, recently read and
 * expired keys come back often.
 */
const smallRequestArb: fc.Arbitrary<CredentialsPrincipal> = fc.record({
  providerName: fc.constantFrom(...PROVIDERS),
  userId: fc.constantFrom('u1', 'u|1'),
  tenantId: fc.constantFrom('acme', 'a|b'),
});

/** The principal tags the authorizer asks for, and so what the session must carry. */
const tagsOf = (p: CredentialsPrincipal) =>
  JSON.stringify({ tenant_id: p.tenantId, user_id: p.userId });
const loginOf = (p: CredentialsPrincipal) => `${p.providerName}:${p.userId}`;
const identityIdOf = (login: string) => `eu-west-1:${JSON.stringify(login)}`;

const client = new CognitoIdentityClient({ region: 'eu-west-1', maxAttempts: 1 });
const mock = mockClient(client);

/**
 * A fake identity pool: GetOpenIdTokenForDeveloperIdentity maps the developer login to an IdentityId
 * and puts the tags it was asked for into the token; GetCredentialsForIdentity mints credentials whose
 * session token encodes the tags of the token it was given, with a lifetime taken in turn from
 * `lifetimesSeconds` and a throttle taken in turn from `throttle`.
 */
function fakePool(clock: () => number, lifetimesSeconds: readonly number[], throttle: boolean[]) {
  const state = { minted: 0, getCredentialsCalls: 0, tokenCalls: 0, violations: [] as string[] };
  mock.reset();
  mock.on(GetOpenIdTokenForDeveloperIdentityCommand).callsFake((input) => {
    state.tokenCalls += 1;
    const login = input.Logins?.[DEV] as string;
    const tags = input.PrincipalTags as Record<string, string>;
    return {
      IdentityId: identityIdOf(login),
      Token: JSON.stringify({
        sub: identityIdOf(login),
        tags: { tenant_id: tags.tenant_id, user_id: tags.user_id },
      }),
    };
  });
  mock.on(GetCredentialsForIdentityCommand).callsFake((input) => {
    const call = state.getCredentialsCalls++;
    if (throttle[call % throttle.length]) {
      throw new TooManyRequestsException({ message: 'rate exceeded', $metadata: {} });
    }
    const token = JSON.parse(input.Logins?.['cognito-identity.amazonaws.com'] ?? 'null') as {
      sub: string;
      tags: Record<string, string>;
    };
    if (input.IdentityId !== token.sub) {
      state.violations.push(`IdentityId ${input.IdentityId} used with the token of ${token.sub}`);
    }
    state.minted += 1;
    const lifetime = lifetimesSeconds[state.minted % lifetimesSeconds.length] ?? 3600;
    return {
      IdentityId: input.IdentityId,
      Credentials: {
        AccessKeyId: `ASIA${state.minted}`,
        SecretKey: 'secret',
        SessionToken: JSON.stringify(token.tags),
        Expiration: new Date(clock() + lifetime * 1000),
      },
    };
  });
  return state;
}

const batchArb = fc.record({
  requests: fc.array(requestArb, { minLength: 1, maxLength: 4 }),
  advanceSeconds: fc.integer({ min: 0, max: 4000 }),
});

describe('credentials provider properties', () => {
  test.prop(
    [
      fc.integer({ min: 1, max: 3599 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.integer({ min: 1, max: 3600 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
      fc.array(batchArb, { minLength: 1, maxLength: 10, size: 'max' }),
    ],
    { numRuns: 100 },
  )(
    'never serves credentials minted for another key, nor with less than the margin left',
    async (margin, maxEntries, lifetimes, throttle, batches) => {
      let t = T0;
      const pool = fakePool(() => t, lifetimes, throttle);
      const provider = createCredentialsProvider({
        client,
        identityPoolId: POOL_ID,
        developerProviderName: DEV,
        refreshMarginSeconds: margin,
        maxEntries,
        now: () => t,
        sleep: async () => {},
        random: () => 0.5,
      });
      for (const batch of batches) {
        // Every request of a batch is in flight at once: single flight and joiners are exercised.
        const settled = await Promise.allSettled(batch.requests.map((r) => provider.get(r)));
        settled.forEach((outcome, i) => {
          const own = batch.requests[i] as CredentialsPrincipal;
          if (outcome.status === 'rejected') {
            expect(outcome.reason).toBeInstanceOf(CredentialsUnavailableError);
            return;
          }
          const { credentials, identityId } = outcome.value;
          expect(credentials.sessionToken).toBe(tagsOf(own));
          expect(identityId).toBe(identityIdOf(loginOf(own)));
          expect(credentials.expiration.getTime() - t).toBeGreaterThanOrEqual(margin * 1000);
        });
        t += batch.advanceSeconds * 1000;
      }
      expect(pool.violations).toEqual([]);
    },
  );

  test.prop(
    [
      fc.integer({ min: 1, max: 3599 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.integer({ min: 1, max: 3600 }), { minLength: 1, maxLength: 4 }),
      fc.array(
        // Mostly no time passes, so that recency rather than expiry decides what is served.
        fc.tuple(smallRequestArb, fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2000 }))),
        {
          minLength: 5,
          maxLength: 30,
          size: 'max',
        },
      ),
    ],
    { numRuns: 100 },
  )(
    'serves from cache exactly what a bounded LRU of fresh entries holds (sequential model)',
    async (margin, maxEntries, lifetimes, steps) => {
      let t = T0;
      const pool = fakePool(() => t, lifetimes, [false]);
      const provider = createCredentialsProvider({
        client,
        identityPoolId: POOL_ID,
        developerProviderName: DEV,
        refreshMarginSeconds: margin,
        maxEntries,
        now: () => t,
        sleep: async () => {},
      });
      // The model: key → expiry, in recency order; never more than maxEntries.
      const model = new Map<string, number>();
      let minted = 0;
      for (const [r, advanceSeconds] of steps) {
        const key = JSON.stringify([r.providerName, r.userId, r.tenantId]);
        const expiry = model.get(key);
        model.delete(key);
        let expected: 'hit' | 'miss' | 'refused';
        if (expiry !== undefined && expiry - t >= margin * 1000) {
          expected = 'hit';
          model.set(key, expiry);
        } else {
          minted += 1;
          const lifetime = lifetimes[minted % lifetimes.length] ?? 3600;
          if (lifetime >= margin) {
            expected = 'miss';
            model.set(key, t + lifetime * 1000);
            for (const oldest of model.keys()) {
              if (model.size <= maxEntries) break;
              model.delete(oldest);
            }
          } else expected = 'refused';
        }
        const outcome = await provider.get(r).then(
          (value) => (value.cached ? 'hit' : 'miss'),
          (error: unknown) => {
            expect(error).toBeInstanceOf(CredentialsUnavailableError);
            return 'refused';
          },
        );
        expect(outcome).toBe(expected);
        expect(model.size).toBeLessThanOrEqual(maxEntries);
        t += advanceSeconds * 1000;
      }
      expect(pool.minted).toBe(minted);
      // Never more OpenID tokens than credentials: a refresh may reuse one, a miss needs at most one.
      expect(pool.tokenCalls).toBeLessThanOrEqual(minted);
      expect(pool.violations).toEqual([]);
    },
  );

  test.prop(
    [
      fc.integer({ min: 1, max: 4 }),
      // Keys from a set a little larger than the bound, and long runs: evictions of recently read
      // keys are common (fast-check's default small sizes would seldom overflow the bound).
      fc.array(
        fc.tuple(
          fc.constantFrom('get', 'get', 'set', 'set', 'delete'),
          fc.integer({ min: 0, max: 5 }),
        ),
        { minLength: 10, maxLength: 60, size: 'max' },
      ),
    ],
    { numRuns: 200 },
  )('the LRU never exceeds its bound and agrees with a model', (bound, ops) => {
    const lru = createLruCache<number>(bound);
    const model: number[] = []; // keys, least recent first
    ops.forEach(([op, k], value) => {
      const key = String(k);
      const at = model.indexOf(k);
      if (op === 'get') {
        expect(lru.get(key) !== undefined).toBe(at >= 0);
        if (at >= 0) model.push(...model.splice(at, 1));
      } else if (op === 'set') {
        lru.set(key, value);
        if (at >= 0) model.splice(at, 1);
        model.push(k);
        if (model.length > bound) model.shift();
      } else {
        lru.delete(key);
        if (at >= 0) model.splice(at, 1);
      }
      expect(lru.size).toBe(model.length);
      expect(lru.size).toBeLessThanOrEqual(bound);
    });
  });
});
