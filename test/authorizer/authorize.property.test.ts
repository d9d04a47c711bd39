/**
 * Properties of the whole authorizer with the production verifier and real RSA keys: no token outside
 * the trusted keys and claims is ever allowed, and arbitrary events only ever yield Allow, Deny,
 * `Unauthorized` or a typed infrastructure error.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createAuthorizer } from '../../authorizer/authorize.js';
import { readTenantContext } from '../../authorizer/context.js';
import { AuthorizerError } from '../../authorizer/errors.js';
import type { IamPolicyResponse, SimpleResponse } from '../../authorizer/events.js';
import { ALL_EVENT_BUILDERS } from '../fixtures/events.js';
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

const handler = createAuthorizer({
  userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
  identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
  developerProviderName: 'login.tenantgate',
  jwksFetcher: staticJwksFetcher({ [jwksUriOf(TEST_POOL_ID)]: jwksOf(key) }),
  credentials: {
    get: async (principal) => ({
      identityId: `us-east-1:${principal.userId}`,
      credentials: {
        accessKeyId: 'ASIAPROP',
        secretAccessKey: 'secret',
        sessionToken: `session-for-${principal.tenantId}`,
        expiration: new Date(Date.now() + 3600e3),
      },
      cached: false,
    }),
  },
});

const tenantArb = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
const valid = (tenant: string, sub = 'user-1') =>
  idTokenPayload({ sub, tenantId: tenant, groups: [tenant, 'other'], role: 'pilot' });

type Attack = (payload: Record<string, unknown>) => string;
const attacks: Record<string, Attack> = {
  tamperedTenant: (p) => {
    const [h, , s] = signJwt(key, p).split('.');
    const forged = { ...p, 'custom:tenant_id': 'victim', 'cognito:groups': ['victim'] };
    return `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
  },
  algNone: (p) => unsignedJwt(p, key.kid),
  hs256PublicKey: (p) => signHs256(JSON.stringify(key.publicJwk), p, key.kid),
  foreignKeySameKid: (p) => signJwt({ ...foreign, kid: key.kid }, p),
  foreignKeyOwnKid: (p) => signJwt(foreign, p),
  expired: (p) => signJwt(key, { ...p, iat: 1_000_000, exp: 1_003_600 }),
  wrongAudience: (p) => signJwt(key, { ...p, aud: 'another-client' }),
  wrongIssuer: (p) =>
    signJwt(key, { ...p, iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Evil' }),
  accessToken: (p) => signJwt(key, { ...p, token_use: 'access', client_id: TEST_CLIENT_ID }),
  truncated: (p) => signJwt(key, p).slice(0, -10),
};

const eventBuilderArb = fc.constantFrom(...Object.values(ALL_EVENT_BUILDERS));

const outcome = async (event: unknown) => {
  try {
    return { kind: 'response' as const, value: await handler(event) };
  } catch (error) {
    return { kind: 'thrown' as const, error };
  }
};

const isAllow = (r: unknown): boolean => {
  if ((r as SimpleResponse).isAuthorized === true) return true;
  const statements = (r as IamPolicyResponse).policyDocument?.Statement ?? [];
  return statements.some((s) => s.Effect === 'Allow' && s.Resource.some((x) => x.endsWith('/*/*')));
};

describe('authorizer properties', () => {
  test.prop([tenantArb, fc.constantFrom(...Object.keys(attacks)), eventBuilderArb], {
    numRuns: 60,
  })(
    'no token outside the trusted keys and claims is ever allowed',
    async (tenant, attack, build) => {
      const token = attacks[attack]?.(valid(tenant)) ?? '';
      const result = await outcome(build({ token }));
      expect(result.kind).toBe('thrown');
      if (result.kind === 'thrown') expect((result.error as Error).message).toBe('Unauthorized');
    },
  );

  test.prop([tenantArb, eventBuilderArb], { numRuns: 30 })(
    'a valid member token is allowed, with credentials for exactly its tenant',
    async (tenant, build) => {
      const result = await outcome(build({ token: signJwt(key, valid(tenant)) }));
      expect(result.kind).toBe('response');
      if (result.kind !== 'response') return;
      expect(isAllow(result.value)).toBe(true);
      const ctx = (result.value as IamPolicyResponse).context ?? {};
      const lambda = { requestContext: { authorizer: ctx } };
      expect(readTenantContext(lambda).tenantId).toBe(tenant);
      expect(readTenantContext(lambda).credentials.sessionToken).toBe(`session-for-${tenant}`);
    },
  );

  test.prop([tenantArb, tenantArb, eventBuilderArb], { numRuns: 30 })(
    'a valid token whose tenant is not among its groups is never allowed',
    async (tenant, other, build) => {
      fc.pre(tenant !== other);
      const token = signJwt(key, idTokenPayload({ tenantId: tenant, groups: [other] }));
      const result = await outcome(build({ token }));
      expect(result.kind).toBe('response');
      if (result.kind === 'response') expect(isAllow(result.value)).toBe(false);
    },
  );

  test.prop(
    [
      fc.oneof(
        fc.anything(),
        fc.record({
          type: fc.constantFrom('TOKEN', 'REQUEST', 'X'),
          version: fc.constantFrom(undefined, '1.0', '2.0'),
          methodArn: fc.oneof(
            fc.string(),
            fc.constant('arn:aws:execute-api:us-east-1:1:a/s/GET/x'),
          ),
          routeArn: fc.string(),
          authorizationToken: fc.string(),
          identitySource: fc.oneof(fc.string(), fc.array(fc.string())),
          headers: fc.dictionary(
            fc.constantFrom('Authorization', 'authorization', 'Host', 'x'),
            fc.string(),
          ),
          routeKey: fc.string(),
        }),
      ),
    ],
    { numRuns: 300 },
  )(
    'arbitrary events yield only Unauthorized or a typed error, never an Allow or a crash',
    async (event) => {
      const result = await outcome(event);
      if (result.kind === 'response') {
        expect(isAllow(result.value)).toBe(false);
        return;
      }
      const error = result.error as Error;
      expect(error.message === 'Unauthorized' || error instanceof AuthorizerError).toBe(true);
    },
  );
});
