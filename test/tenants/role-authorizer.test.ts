import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TenantContext } from '../../authorizer/index.js';
import { PolicyValidationError } from '../../policy/index.js';
import {
  createRoleAuthorizer,
  PermissionDeniedError,
  type RoleAuthorizerOptions,
  TenantsConfigError,
} from '../../tenants/index.js';
import { thrown } from '../fixtures/tenants.js';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);
const ctx = (role: string, tenantId = 'acme'): TenantContext => ({
  tenantId,
  userId: 'u1',
  role,
  groups: [tenantId],
  identityId: 'id',
  credentials: {
    accessKeyId: 'A',
    secretAccessKey: 'S',
    sessionToken: 'T',
    expiration: new Date(0),
  },
});
const pilot = {
  PK: 'CONTROL#acme',
  SK: 'ROLE#pilot',
  tenantId: 'acme',
  roleId: 'pilot',
  name: 'Pilot',
  allow: ['aircraft:*'],
  deny: ['aircraft:delete'],
  version: 1,
};
const gets = () => mock.commandCalls(GetCommand).length;

describe('role authorizer', () => {
  let t = 0;
  beforeEach(() => {
    mock.reset();
    t = 0;
  });
  const make = (options: Partial<RoleAuthorizerOptions> = {}) =>
    createRoleAuthorizer({ tableName: 'T', now: () => t, clientFor: () => ddb, ...options });

  it('loads the role with the client for the caller, decides, and names the reason', async () => {
    mock.on(GetCommand).resolves({ Item: pilot });
    const seen: TenantContext[] = [];
    const authz = make({
      clientFor: (c) => {
        seen.push(c);
        return ddb;
      },
    });
    expect(await authz.authorize(ctx('pilot'), 'aircraft:read')).toEqual({
      effect: 'allow',
      reason: 'allowed',
      matched: 'aircraft:*',
    });
    expect(seen[0]?.credentials.accessKeyId).toBe('A');
    expect(mock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'T',
      Key: { PK: 'CONTROL#acme', SK: 'ROLE#pilot' },
    });
    await expect(authz.enforce(ctx('pilot'), 'aircraft:read')).resolves.toBeUndefined();
  });

  it.each([
    ['billing:read', 'no-match', undefined],
    ['aircraft:delete', 'explicit-deny', 'aircraft:delete'],
  ])('enforce(%s) throws PermissionDeniedError (%s)', async (action, reason, matched) => {
    mock.on(GetCommand).resolves({ Item: pilot });
    const error = await make()
      .enforce(ctx('pilot'), action)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ action, reason, matched });
    expect((error as Error).message).toContain(action);
  });

  it('caches compiled roles per (tenant, role) for the TTL, one load for concurrent checks', async () => {
    mock.on(GetCommand).resolves({ Item: pilot });
    const authz = make();
    await Promise.all(
      Array.from({ length: 10 }, () => authz.authorize(ctx('pilot'), 'aircraft:read')),
    );
    expect(gets()).toBe(1);
    t = 29_999;
    await authz.authorize(ctx('pilot'), 'aircraft:read');
    expect(gets()).toBe(1);
    await authz.authorize(ctx('pilot', 'other'), 'aircraft:read');
    await authz.authorize(ctx('other'), 'aircraft:read');
    expect(gets()).toBe(3);
    t = 30_000;
    await authz.authorize(ctx('pilot'), 'aircraft:read');
    expect(gets()).toBe(4);
  });

  it('keeps at most maxEntries roles, evicting the oldest', async () => {
    mock.on(GetCommand).resolves({ Item: pilot });
    const authz = make({ maxEntries: 2 });
    for (const role of ['a', 'b', 'c']) await authz.authorize(ctx(role), 'aircraft:read');
    expect(gets()).toBe(3);
    await authz.authorize(ctx('c'), 'aircraft:read');
    await authz.authorize(ctx('b'), 'aircraft:read');
    expect(gets()).toBe(3);
    await authz.authorize(ctx('a'), 'aircraft:read');
    expect(gets()).toBe(4);
  });

  it('does not cache a failed load: the next check reads again', async () => {
    mock.on(GetCommand).rejectsOnce(new Error('throttled')).resolves({ Item: pilot });
    const authz = make();
    await expect(authz.authorize(ctx('pilot'), 'aircraft:read')).rejects.toThrow('throttled');
    expect((await authz.authorize(ctx('pilot'), 'aircraft:read')).effect).toBe('allow');
    expect(gets()).toBe(2);
  });

  it('a missing role is unknown-role; a role id that cannot exist is not even read', async () => {
    mock.on(GetCommand).resolves({});
    for (const role of ['ghost', '', 'Admin', 'a#b', 'x'.repeat(65)]) {
      expect(await make().authorize(ctx(role), 'aircraft:read')).toEqual({
        effect: 'deny',
        reason: 'unknown-role',
      });
    }
    expect(gets()).toBe(1);
    await expect(make().enforce(ctx('ghost'), 'aircraft:read')).rejects.toMatchObject({
      reason: 'unknown-role',
    });
  });

  it('fails closed, loudly, on a stored role that is not valid', async () => {
    mock.on(GetCommand).resolves({ Item: { ...pilot, allow: 'aircraft:read' } });
    await expect(make().authorize(ctx('pilot'), 'aircraft:read')).rejects.toBeInstanceOf(
      PolicyValidationError,
    );
  });

  it('rejects a malformed action at the call site', async () => {
    mock.on(GetCommand).resolves({ Item: pilot });
    await expect(make().authorize(ctx('pilot'), 'Aircraft Read')).rejects.toBeInstanceOf(
      PolicyValidationError,
    );
  });

  it('a stored role without deny denies nothing; with one, it decides', async () => {
    const { deny: _, ...noDeny } = pilot;
    mock.on(GetCommand).resolves({ Item: noDeny });
    expect(await make().authorize(ctx('pilot'), 'aircraft:delete')).toMatchObject({
      effect: 'allow',
    });
  });

  it('by default loads the role with a client signed with the caller credentials', async () => {
    const tenantClients = mockClient(DynamoDBDocumentClient);
    try {
      tenantClients.on(GetCommand).resolves({ Item: pilot });
      const authz = createRoleAuthorizer({ tableName: 'T', now: () => t });
      expect((await authz.authorize(ctx('pilot'), 'aircraft:read')).effect).toBe('allow');
      const client = tenantClients.call(0).thisValue as DynamoDBDocumentClient;
      const credentials = await client.config.credentials();
      expect(credentials).toMatchObject({ accessKeyId: 'A', sessionToken: 'T' });
    } finally {
      tenantClients.restore();
    }
  });

  it.each([
    [{ ttlMs: 0 }, 0],
    [{ ttlMs: 1.5 }, 1],
    [{ ttlMs: -1 }, 1],
    [{ maxEntries: 1 }, 0],
    [{ maxEntries: 0 }, 1],
    [{ maxEntries: 1.5 }, 1],
    [{ tableName: '' }, 1],
    [{ tableName: 7 as unknown as string }, 1],
  ])('bounds: %j → %d problem(s)', (options, problems) => {
    const issues = (() => {
      try {
        make(options);
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(TenantsConfigError);
        return (e as TenantsConfigError).issues;
      }
    })();
    expect(issues).toHaveLength(problems);
  });

  it('with a TTL of 0 every check reads the role', async () => {
    mock.on(GetCommand).resolves({ Item: pilot });
    const authz = make({ ttlMs: 0 });
    await authz.authorize(ctx('pilot'), 'aircraft:read');
    await authz.authorize(ctx('pilot'), 'aircraft:read');
    expect(gets()).toBe(2);
  });

  it('validates its options once, listing every problem', () => {
    let error: unknown;
    try {
      createRoleAuthorizer({
        tableName: '',
        ttlMs: -1,
        maxEntries: 0,
        now: 5 as unknown as () => number,
        clientFor: 'x' as unknown as () => DynamoDBDocumentClient,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantsConfigError);
    expect((error as TenantsConfigError).issues).toEqual([
      'tableName must be a non-empty string',
      'ttlMs must be a non-negative integer, got -1',
      'maxEntries must be a positive integer, got 0',
      'now must be a function returning milliseconds',
      'clientFor must be a function',
    ]);
    expect(() => createRoleAuthorizer({ tableName: 'T' })).not.toThrow();
  });
});

// Killed a mutant that survived `npm run mutate tenants` on main (each `options?.` read as `options.`).
describe('createRoleAuthorizer without options at all', () => {
  it('is a TenantsConfigError naming tableName, not a TypeError', () => {
    const error = thrown(() => createRoleAuthorizer(undefined as never));
    expect(error).toBeInstanceOf(TenantsConfigError);
    expect((error as TenantsConfigError).issues).toEqual(['tableName must be a non-empty string']);
  });
});
