import { fc, test } from '@fast-check/vitest';
import { describe, expect, it, vi } from 'vitest';
import {
  encodeTenantContext,
  encodeTenantlessContext,
  readCallerContext,
  readTenantContext,
} from '../../authorizer/context.js';
import { TenantContextError } from '../../authorizer/errors.js';
import { tenantDynamoClient } from '../../authorizer/tenant-client.js';
import type { TenantContext } from '../../authorizer/types.js';

const restEvent = (authorizer: unknown) => ({ requestContext: { authorizer } });
const httpEvent = (lambda: unknown) => ({ requestContext: { authorizer: { lambda } } });

const tenantContextArb = fc.record({
  tenantId: fc.string({ minLength: 1 }),
  userId: fc.string({ minLength: 1 }),
  role: fc.string(),
  groups: fc.array(fc.string({ minLength: 1 }), { maxLength: 6 }),
  identityId: fc.string({ minLength: 1 }),
  credentials: fc.record({
    accessKeyId: fc.string({ minLength: 1 }),
    secretAccessKey: fc.string({ minLength: 1 }),
    sessionToken: fc.string({ minLength: 1 }),
    expiration: fc.date({ min: new Date(0), max: new Date(8.64e15), noInvalidDate: true }),
  }),
});

describe('context codec', () => {
  test.prop([tenantContextArb, fc.boolean()])(
    'every tenant context round-trips (REST and HTTP API)',
    (ctx, http) => {
      const encoded = encodeTenantContext(ctx as TenantContext);
      for (const value of Object.values(encoded)) expect(typeof value).toBe('string');
      const event = http ? httpEvent(encoded) : restEvent({ ...encoded, principalId: ctx.userId });
      expect(readTenantContext(event)).toEqual(ctx);
    },
  );

  test.prop([fc.string({ minLength: 1 }), fc.array(fc.string({ minLength: 1 }), { maxLength: 6 })])(
    'tenantless contexts round-trip and are refused by readTenantContext',
    (userId, groups) => {
      const event = restEvent(encodeTenantlessContext({ userId, groups }));
      expect(readCallerContext(event)).toEqual({ scope: 'tenantless', userId, groups });
      expect(() => readTenantContext(event)).toThrow(TenantContextError);
    },
  );

  it('plain group names read as a comma-joined list', () => {
    const encoded = encodeTenantlessContext({ userId: 'u', groups: ['acme', 'beta-2'] });
    expect(encoded.groups).toBe('acme,beta-2');
  });

  it.each([
    ['no requestContext', {}],
    ['no authorizer', { requestContext: {} }],
    ['empty authorizer', restEvent({})],
    ['unknown scope', restEvent({ scope: 'admin', userId: 'u', groups: '' })],
    [
      'missing credentials',
      restEvent({
        ...encodeTenantlessContext({ userId: 'u', groups: [] }),
        scope: 'tenant',
        tenantId: 't',
      }),
    ],
  ])('%s → TenantContextError', (_name, event) => {
    expect(() => readTenantContext(event)).toThrow(TenantContextError);
  });

  const full = encodeTenantContext({
    tenantId: 't',
    userId: 'u',
    role: 'pilot',
    groups: ['t'],
    identityId: 'i',
    credentials: {
      accessKeyId: 'a',
      secretAccessKey: 's',
      sessionToken: 'x',
      expiration: new Date(),
    },
  });

  // An empty tenant id or credential must not read as a context: a protected function would key its
  // DynamoDB calls on `TENANT#` or sign with nothing. Only role and groups may be empty.
  it.each([
    'scope',
    'tenantId',
    'userId',
    'identityId',
    'accessKeyId',
    'secretAccessKey',
    'sessionToken',
    'credentialsExpiration',
  ])('an empty or missing %s is refused, naming it', (key) => {
    expect(() => readTenantContext(restEvent({ ...full, [key]: '' }))).toThrow(TenantContextError);
    const { [key]: _, ...without } = full;
    expect(() => readTenantContext(restEvent(without))).toThrow(
      key === 'credentialsExpiration' ? TenantContextError : `authorizer context lacks "${key}"`,
    );
    // HTTP API may hand JSON scalars through: a number is no string.
    expect(() => readTenantContext(httpEvent({ ...full, [key]: 7 }))).toThrow(TenantContextError);
  });

  it('an empty role and empty groups read as such', () => {
    expect(readTenantContext(httpEvent({ ...full, role: '', groups: '' }))).toMatchObject({
      role: '',
      groups: [],
    });
    expect(() => readTenantContext(httpEvent({ ...full, role: undefined }))).toThrow(
      'authorizer context lacks "role"',
    );
    expect(() => readTenantContext(httpEvent({ ...full, groups: undefined }))).toThrow(
      'authorizer context lacks "groups"',
    );
  });

  it('an authorizer context that is an array, or a lambda context that is one, is refused', () => {
    expect(() => readTenantContext(restEvent([full]))).toThrow(TenantContextError);
    // HTTP API's `lambda` wins over the outer object only when it is an object.
    expect(
      readTenantContext({ requestContext: { authorizer: { ...full, lambda: [] } } }),
    ).toMatchObject({
      tenantId: 't',
    });
    expect(() => readTenantContext({ requestContext: [] })).toThrow(TenantContextError);
  });

  it('a bad expiration is refused', () => {
    const encoded = encodeTenantContext({
      tenantId: 't',
      userId: 'u',
      role: '',
      groups: [],
      identityId: 'i',
      credentials: {
        accessKeyId: 'a',
        secretAccessKey: 's',
        sessionToken: 'x',
        expiration: new Date(),
      },
    });
    expect(() =>
      readTenantContext(restEvent({ ...encoded, credentialsExpiration: 'soon' })),
    ).toThrow(/credentialsExpiration/);
  });
});

describe('malformed contexts', () => {
  it('an unknown scope is refused even with every tenant field present', () => {
    const encoded = encodeTenantContext({
      tenantId: 'acme',
      userId: 'u',
      role: 'r',
      groups: [],
      identityId: 'id',
      credentials: {
        accessKeyId: 'a',
        secretAccessKey: 's',
        sessionToken: 'x',
        expiration: new Date(0),
      },
    });
    expect(() => readCallerContext(restEvent({ ...encoded, scope: 'admin' }))).toThrow(
      new TenantContextError('unknown context scope "admin"'),
    );
  });

  it.each([
    null,
    undefined,
    'event',
    { requestContext: null },
    { requestContext: { authorizer: null } },
  ])('%j is a TenantContextError, not a TypeError', (event) => {
    expect(() => readCallerContext(event)).toThrow(TenantContextError);
  });
});

describe('tenantDynamoClient', () => {
  const creds = (accessKeyId: string) => ({
    credentials: {
      accessKeyId,
      secretAccessKey: 's',
      sessionToken: `t-${accessKeyId}`,
      expiration: new Date(Date.now() + 3600e3),
    },
  });

  it('reuses one client per credentials and signs with them', async () => {
    const a = tenantDynamoClient(creds('AKA'), { clientConfig: { region: 'us-east-1' } });
    expect(tenantDynamoClient(creds('AKA'))).toBe(a);
    expect(tenantDynamoClient(creds('AKB'), { clientConfig: { region: 'us-east-1' } })).not.toBe(a);
    const resolved = await a.config.credentials();
    expect(resolved.accessKeyId).toBe('AKA');
    expect(resolved.sessionToken).toBe('t-AKA');
  });

  it('keeps at most maxClients', () => {
    const first = tenantDynamoClient(creds('BOUND0'), {
      maxClients: 2,
      clientConfig: { region: 'us-east-1' },
    });
    tenantDynamoClient(creds('BOUND1'), { maxClients: 2, clientConfig: { region: 'us-east-1' } });
    tenantDynamoClient(creds('BOUND2'), { maxClients: 2, clientConfig: { region: 'us-east-1' } });
    expect(
      tenantDynamoClient(creds('BOUND0'), { maxClients: 2, clientConfig: { region: 'us-east-1' } }),
    ).not.toBe(first);
  });

  // The bound is exact and by recency: `>=` would keep one client fewer, and forgetting to move a
  // reused client to the back would evict the busiest caller's client (and its connection pool).
  it('keeps exactly maxClients, least recently used out first and destroyed', () => {
    const opts = { maxClients: 2, clientConfig: { region: 'us-east-1' } };
    const a = tenantDynamoClient(creds('LRU-A'), opts);
    const b = tenantDynamoClient(creds('LRU-B'), opts);
    const destroyA = vi.spyOn(a, 'destroy');
    const destroyB = vi.spyOn(b, 'destroy');
    expect(tenantDynamoClient(creds('LRU-A'), opts)).toBe(a); // A is now the most recent
    tenantDynamoClient(creds('LRU-C'), opts); // B goes
    expect(destroyB).toHaveBeenCalledOnce();
    expect(destroyA).not.toHaveBeenCalled();
    expect(tenantDynamoClient(creds('LRU-A'), opts)).toBe(a);
  });

  it('a new session token under the same access key id gets its own client', () => {
    const opts = { clientConfig: { region: 'us-east-1' } };
    const first = tenantDynamoClient(creds('SAMEKEY'), opts);
    const renewed = {
      credentials: { ...creds('SAMEKEY').credentials, sessionToken: 'another session' },
    };
    expect(tenantDynamoClient(renewed, opts)).not.toBe(first);
  });

  it('drops undefined attributes by default; a translateConfig of the caller wins', () => {
    const byDefault = tenantDynamoClient(creds('TRANSLATE-1'), {
      clientConfig: { region: 'us-east-1' },
    });
    expect(byDefault.config.translateConfig).toEqual({
      marshallOptions: { removeUndefinedValues: true },
    });
    const own = { marshallOptions: { convertEmptyValues: true } };
    const custom = tenantDynamoClient(creds('TRANSLATE-2'), {
      clientConfig: { region: 'us-east-1' },
      translateConfig: own,
    });
    expect(custom.config.translateConfig).toBe(own);
  });
});
