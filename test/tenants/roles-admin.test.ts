import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TenantContext } from '../../authorizer/index.js';
import { PolicyValidationError } from '../../policy/index.js';
import {
  ConflictError,
  createRolesAdmin,
  PermissionDeniedError,
  permissionCheck,
  ReservedRoleError,
  RightsExceededError,
  RoleNotFoundError,
  type RolesAdminOptions,
  type TenantsConfigError,
} from '../../tenants/index.js';
import { cancelled, failed, fakeRoleAuthorizer, L, N, NONE, thrown } from '../fixtures/tenants.js';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);

const ctx = (role = 'admin'): TenantContext => ({
  tenantId: 'acme',
  userId: 'caller',
  role,
  groups: ['acme'],
  identityId: 'us-east-1:identity',
  credentials: {
    accessKeyId: 'ASIACALLER',
    secretAccessKey: 'secret',
    sessionToken: 'session',
    expiration: new Date('2030-01-01T00:00:00Z'),
  },
});

const fakeRoles = (allowed: string[] = ['roles:list']) => fakeRoleAuthorizer(allowed);

/** Role items as stored in the control partition, by role id: what the rights checks read. */
let stored: Map<string, Record<string, unknown>>;
const storeRole = (roleId: string, allow: unknown, deny: unknown = [], version = 1) =>
  stored.set(roleId, {
    PK: 'CONTROL#acme',
    SK: `ROLE#${roleId}`,
    type: 'role',
    tenantId: 'acme',
    roleId,
    name: roleId,
    allow,
    deny,
    version,
    assigned: 0,
  });

let roles: ReturnType<typeof fakeRoles>;
beforeEach(() => {
  mock.reset();
  mock.on(TransactWriteCommand).resolves({});
  stored = new Map();
  storeRole('admin', ['*']);
  // A delegated role administrator: roles:* and everything about aircraft, nothing else.
  storeRole('manager', ['roles:*', 'aircraft:*'], [], 5);
  storeRole('viewer', ['roles:list', 'aircraft:*']);
  storeRole('pilot', ['aircraft:read', 'aircraft:list'], ['aircraft:delete'], 3);
  storeRole('member', ['*:read', '*:list', '*:*:read', '*:*:list', 'me:*'], [], 3);
  mock.on(GetCommand).callsFake((input: { Key: { PK: string; SK: string } }) => {
    const item = input.Key.PK === 'CONTROL#acme' ? stored.get(input.Key.SK.slice(5)) : undefined;
    return { Item: item === undefined ? undefined : structuredClone(item) };
  });
  roles = fakeRoles();
});

const admin = (options: Partial<RolesAdminOptions> = {}) =>
  createRolesAdmin({ tableName: 'T', roles, client: ddb, ...options });

/** The role items read (sort keys), each consistently. */
const reads = () =>
  mock.commandCalls(GetCommand).map((c) => {
    expect(c.args[0].input.ConsistentRead).toBe(true);
    return c.args[0].input.Key?.SK;
  });

const transactions = () =>
  mock.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems ?? []);
const policyIssues = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PolicyValidationError);
  return (error as PolicyValidationError).issues.map((i) =>
    i.index === undefined ? i.field : `${i.field}[${i.index}]`,
  );
};

const pilot = {
  roleId: 'pilot',
  name: 'Pilot',
  allow: ['aircraft:read', 'aircraft:list'],
  deny: ['aircraft:delete'],
};

describe('createRolesAdmin options', () => {
  it('lists every problem at once', () => {
    const error = (() => {
      try {
        createRolesAdmin({ tableName: '', roles: {} } as never);
      } catch (e) {
        return e;
      }
    })();
    expect((error as TenantsConfigError).issues).toEqual([
      'client must be a DynamoDB client',
      'tableName must be a non-empty string',
      'roles must be a RoleAuthorizer',
    ]);
  });
});

describe('list', () => {
  it('enforces roles:list and maps the role items with their counts, across pages', async () => {
    mock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          {
            tenantId: 'acme',
            roleId: 'admin',
            name: 'Administrator',
            allow: ['*'],
            deny: [],
            version: 1,
            assigned: 2,
          },
        ],
        LastEvaluatedKey: { PK: 'CONTROL#acme', SK: 'ROLE#admin' },
      })
      .resolvesOnce({
        Items: [{ tenantId: 'acme', roleId: 'pilot', name: 'Pilot', allow: ['a:b'], version: 3 }],
      });
    await expect(admin().list(ctx())).resolves.toEqual([
      {
        tenantId: 'acme',
        roleId: 'admin',
        name: 'Administrator',
        allow: ['*'],
        deny: [],
        version: 1,
        assigned: 2,
      },
      {
        tenantId: 'acme',
        roleId: 'pilot',
        name: 'Pilot',
        allow: ['a:b'],
        deny: [],
        version: 3,
        assigned: 0,
      },
    ]);
    expect(roles.asked).toEqual(['roles:list']);
    const inputs = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :role)',
      ExpressionAttributeValues: { ':pk': 'CONTROL#acme', ':role': 'ROLE#' },
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({ PK: 'CONTROL#acme', SK: 'ROLE#admin' });
  });

  it('refused without roles:list, before any read', async () => {
    roles.allowed.clear();
    await expect(admin().list(ctx('pilot'))).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(mock.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('create', () => {
  it('puts the validated role at version 1 with a zero count, guarded by roles:create', async () => {
    await expect(admin().create(ctx(), pilot)).resolves.toEqual({
      tenantId: 'acme',
      ...pilot,
      version: 1,
    });
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'admin', 'roles:create'),
        {
          Put: {
            TableName: 'T',
            Item: {
              PK: 'CONTROL#acme',
              SK: 'ROLE#pilot',
              type: 'role',
              tenantId: 'acme',
              ...pilot,
              version: 1,
              assigned: 0,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
      ],
    ]);
    // An admin is unbounded: no role is read and nothing is pinned.
    expect(reads()).toEqual([]);
  });

  it('a missing deny is an empty list', async () => {
    const { deny: _, ...noDeny } = pilot;
    await expect(admin().create(ctx(), noDeny)).resolves.toMatchObject({ deny: [] });
  });

  it('PolicyValidationError lists each bad field, with no write', async () => {
    expect(
      await policyIssues(
        admin().create(ctx(), {
          roleId: 'Bad Id',
          name: '',
          allow: ['ok:read', 'Not Ok'],
          deny: 'x',
        }),
      ),
    ).toEqual(['roleId', 'name', 'allow[1]', 'deny']);
    expect(transactions()).toHaveLength(0);
  });

  it.each(['admin', 'member'])(
    'refuses the reserved role %s (ReservedRoleError create)',
    async (roleId) => {
      const error = await admin()
        .create(ctx(), { ...pilot, roleId })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReservedRoleError);
      expect(error).toMatchObject({ roleId, operation: 'create' });
      expect(transactions()).toHaveLength(0);
    },
  );

  it('an existing role: ConflictError already-exists', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed()));
    await expect(admin().create(ctx(), pilot)).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'already-exists',
    });
  });

  it('permission denied: PermissionDeniedError naming the deny pattern', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(failed({ allow: L('*'), deny: L('roles:*') }), NONE));
    await expect(admin().create(ctx('manager'), pilot)).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      action: 'roles:create',
      reason: 'explicit-deny',
      matched: 'roles:*',
    });
  });

  it('other failures surface as they are', async () => {
    const error = cancelled({ Code: 'TransactionConflict' }, NONE);
    mock.on(TransactWriteCommand).rejects(error);
    await expect(admin().create(ctx(), pilot)).rejects.toBe(error);
  });
});

describe('update', () => {
  const input = { name: 'Pilot (PPL)', allow: ['aircraft:read'], deny: [], version: 3 };

  it('changes only the document fields, at the expected version, guarded by roles:update', async () => {
    await expect(admin().update(ctx(), 'pilot', input)).resolves.toEqual({
      tenantId: 'acme',
      roleId: 'pilot',
      name: 'Pilot (PPL)',
      allow: ['aircraft:read'],
      deny: [],
      version: 4,
    });
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'admin', 'roles:update'),
        {
          Update: {
            TableName: 'T',
            Key: { PK: 'CONTROL#acme', SK: 'ROLE#pilot' },
            // `assigned` is left alone: membership writes keep it.
            UpdateExpression: 'SET #name = :name, #allow = :allow, #deny = :deny, version = :next',
            ConditionExpression: 'attribute_exists(PK) AND version = :expected',
            ExpressionAttributeNames: { '#name': 'name', '#allow': 'allow', '#deny': 'deny' },
            ExpressionAttributeValues: {
              ':name': 'Pilot (PPL)',
              ':allow': ['aircraft:read'],
              ':deny': [],
              ':next': 4,
              ':expected': 3,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
    ]);
    // The role as stored is read (its version and, for anyone but an admin, its rights); not the
    // admin's own.
    expect(reads()).toEqual(['ROLE#pilot']);
  });

  // A role with denies, updated: the denies are written and answered as sent. Writing `[]` instead
  // would widen the role silently (pilot could then delete aircraft).
  it('a role with denies keeps them: written and answered, deduplicated, in order', async () => {
    const withDenies = {
      name: 'Pilot',
      allow: ['aircraft:*'],
      deny: ['aircraft:delete', 'aircraft:scrap', 'aircraft:delete'],
      version: 3,
    };
    await expect(admin().update(ctx(), 'pilot', withDenies)).resolves.toMatchObject({
      allow: ['aircraft:*'],
      deny: ['aircraft:delete', 'aircraft:scrap'],
    });
    const update = transactions()[0]?.[1]?.Update;
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':allow': ['aircraft:*'],
      ':deny': ['aircraft:delete', 'aircraft:scrap'],
    });
    // A missing deny list is no denies (not a validation error).
    const { deny: _, ...noDeny } = withDenies;
    await expect(admin().update(ctx(), 'pilot', noDeny)).resolves.toMatchObject({ deny: [] });
  });

  it('admin is reserved (ReservedRoleError update); member may be edited', async () => {
    await expect(admin().update(ctx(), 'admin', input)).rejects.toMatchObject({
      name: 'ReservedRoleError',
      operation: 'update',
    });
    expect(transactions()).toHaveLength(0);
    await expect(admin().update(ctx(), 'member', input)).resolves.toMatchObject({ version: 4 });
  });

  it('PolicyValidationError per field (name, allow entry, version), with no write', async () => {
    expect(
      await policyIssues(
        admin().update(ctx(), 'pilot', { name: ' ', allow: ['ok:read', 7], version: '3' }),
      ),
    ).toEqual(['name', 'version', 'allow[1]']);
    expect(await policyIssues(admin().update(ctx(), 'Bad Id', input))).toEqual(['roleId']);
    expect(await policyIssues(admin().update(ctx(), 'pilot', { ...input, version: 1.5 }))).toEqual([
      'version',
    ]);
    expect(transactions()).toHaveLength(0);
  });

  // The expected version is validated as sent, not as `expected + 1` (which once let -1 through as
  // 0 and answered a 409 stale-version instead of a 400 naming `version`, as `remove` does).
  it('version -1 is a 400 naming version, with no write', async () => {
    expect(await policyIssues(admin().update(ctx(), 'pilot', { ...input, version: -1 }))).toEqual([
      'version',
    ]);
    expect(transactions()).toHaveLength(0);
  });

  it('version 0 is a 400 naming version (stored versions start at 1); version 1 is updated to 2', async () => {
    // The bound on the expected version decides 400 against a write that can only fail (409):
    // mutation testing found `>= 1` could become `> 1` or be dropped unnoticed.
    expect(await policyIssues(admin().update(ctx(), 'pilot', { ...input, version: 0 }))).toEqual([
      'version',
    ]);
    expect(transactions()).toHaveLength(0);
    storeRole('pilot', ['aircraft:read'], [], 1);
    await expect(admin().update(ctx(), 'pilot', { ...input, version: 1 })).resolves.toMatchObject({
      version: 2,
    });
  });

  it('stale when read: ConflictError stale-version naming both versions, with no write', async () => {
    storeRole('pilot', ['aircraft:read'], [], 5);
    const error = await admin()
      .update(ctx(), 'pilot', input)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ConflictError', reason: 'stale-version' });
    expect((error as Error).message).toBe('role pilot is at version 5, not 3');
    expect(transactions()).toHaveLength(0);
  });

  it('gone when read: RoleNotFoundError, with no write', async () => {
    stored.delete('pilot');
    await expect(admin().update(ctx(), 'pilot', input)).rejects.toBeInstanceOf(RoleNotFoundError);
    expect(transactions()).toHaveLength(0);
  });

  it('stale at the write: ConflictError stale-version naming both versions', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed({ version: N(5) })));
    const error = await admin()
      .update(ctx(), 'pilot', input)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ reason: 'stale-version' });
    expect((error as Error).message).toBe('role pilot is at version 5, not 3');
  });

  it('gone at the write: RoleNotFoundError', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed()));
    await expect(admin().update(ctx(), 'pilot', input)).rejects.toBeInstanceOf(RoleNotFoundError);
  });

  it('permission denied: PermissionDeniedError', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(failed({ allow: L('roles:list') }), NONE));
    await expect(admin().update(ctx('viewer'), 'pilot', input)).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      reason: 'no-match',
    });
  });

  describe("the caller's own role (check merged into the write)", () => {
    const own = { ...input, version: 5 };

    it('one item, carrying the check and the pin next to its own version condition', async () => {
      await admin().update(ctx('manager'), 'manager', { ...own, allow: ['roles:*'] });
      const [tx] = transactions();
      expect(tx).toHaveLength(1);
      const update = tx?.[0]?.Update;
      expect(update?.ConditionExpression).toMatch(
        /^\(attribute_exists\(PK\) AND version = :expected\) AND \(attribute_exists\(PK\) AND attribute_type\(#tg_allow, :tg_list\)/,
      );
      expect(update?.ConditionExpression).toMatch(/ AND #tg_version = :tg_version\)$/);
      expect(update?.ExpressionAttributeValues).toMatchObject({
        ':expected': 5,
        ':next': 6,
        ':tg_version': 5,
      });
      expect(update?.ExpressionAttributeNames).toMatchObject({ '#tg_version': 'version' });
    });

    // The version the update expects is the version the decision pinned: a change in between is a
    // changed role (409 either way).
    it('role-changed when the item as it was permits; denied when it does not', async () => {
      mock
        .on(TransactWriteCommand)
        .rejectsOnce(cancelled(failed({ allow: L('roles:*'), deny: L(), version: N(9) })))
        .rejectsOnce(cancelled(failed({ allow: L('roles:list'), deny: L(), version: N(5) })));
      await expect(admin().update(ctx('manager'), 'manager', own)).rejects.toMatchObject({
        name: 'ConflictError',
        reason: 'role-changed',
      });
      await expect(admin().update(ctx('manager'), 'manager', own)).rejects.toMatchObject({
        name: 'PermissionDeniedError',
        reason: 'no-match',
      });
    });
  });
});

describe('remove', () => {
  it('deletes at the expected version only if unassigned, guarded by roles:delete', async () => {
    await admin().remove(ctx(), 'pilot', 2);
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'admin', 'roles:delete'),
        {
          Delete: {
            TableName: 'T',
            Key: { PK: 'CONTROL#acme', SK: 'ROLE#pilot' },
            ConditionExpression:
              'attribute_exists(PK) AND version = :expected AND (attribute_not_exists(assigned) OR assigned = :zero)',
            ExpressionAttributeValues: { ':expected': 2, ':zero': 0 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
    ]);
  });

  it.each(['admin', 'member'])(
    'refuses the reserved role %s (ReservedRoleError delete)',
    async (roleId) => {
      await expect(admin().remove(ctx(), roleId, 1)).rejects.toMatchObject({
        name: 'ReservedRoleError',
        roleId,
        operation: 'delete',
      });
      expect(transactions()).toHaveLength(0);
    },
  );

  it.each([undefined, '2', -1, 1.5])(
    'version %j is a 400 naming version, with no write',
    async (version) => {
      expect(await policyIssues(admin().remove(ctx(), 'pilot', version))).toEqual(['version']);
      expect(transactions()).toHaveLength(0);
    },
  );

  it('still assigned: ConflictError role-in-use naming the count', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, failed({ version: N(2), assigned: N(3) })));
    const error = await admin()
      .remove(ctx(), 'pilot', 2)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ConflictError', reason: 'role-in-use' });
    expect((error as Error).message).toContain('3 member(s)');
  });

  it('stale: ConflictError stale-version; gone: RoleNotFoundError', async () => {
    mock
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled(NONE, failed({ version: N(4), assigned: N(0) })))
      .rejectsOnce(cancelled(NONE, failed()));
    await expect(admin().remove(ctx(), 'pilot', 2)).rejects.toMatchObject({
      reason: 'stale-version',
    });
    await expect(admin().remove(ctx(), 'pilot', 2)).rejects.toBeInstanceOf(RoleNotFoundError);
  });

  it('permission denied: PermissionDeniedError', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(failed({ allow: L('roles:read') }), NONE));
    await expect(admin().remove(ctx('viewer'), 'pilot', 2)).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      action: 'roles:delete',
    });
  });
});

describe('no one grants more than they hold (anyone but an admin)', () => {
  const manager = ctx('manager');
  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RightsExceededError);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(transactions()).toHaveLength(0);
    return error as RightsExceededError;
  };

  describe('create', () => {
    it('a role granting what the caller does not hold: RightsExceededError, no write', async () => {
      const error = await refusal(
        admin().create(manager, { roleId: 'billing', name: 'Billing', allow: ['billing:*'] }),
      );
      expect(error).toMatchObject({
        name: 'RightsExceededError',
        action: 'roles:create',
        reason: 'exceeds-own-role',
        roleId: 'billing',
        pattern: 'billing:*',
        example: 'billing:x0',
        gap: 'not-granted',
      });
      expect(error.matched).toBeUndefined();
      expect(error.message).toBe(
        'permission denied for roles:create: role billing grants billing:* (e.g. billing:x0), which your role does not grant',
      );
      // The caller's role, as stored now.
      expect(reads()).toEqual(['ROLE#manager']);
    });

    it("a role granting what the caller's role denies: gap denied, by the deny pattern", async () => {
      storeRole('ops', ['*'], ['billing:*'], 2);
      const error = await refusal(
        admin().create(ctx('ops'), { roleId: 'clerk', name: 'Clerk', allow: ['billing:read'] }),
      );
      expect(error).toMatchObject({
        action: 'roles:create',
        reason: 'exceeds-own-role',
        roleId: 'clerk',
        pattern: 'billing:read',
        example: 'billing:read',
        gap: 'denied',
        matched: 'billing:*',
      });
    });

    it('`*` from a caller who does not hold `*`', async () => {
      const error = await refusal(
        admin().create(manager, { roleId: 'root', name: 'Root', allow: ['*'] }),
      );
      expect(error).toMatchObject({ roleId: 'root', pattern: '*', gap: 'not-granted' });
    });

    it("the target's own denies count: a narrower role within the caller's is created", async () => {
      await admin().create(manager, {
        roleId: 'mechanic',
        name: 'Mechanic',
        allow: ['aircraft:*'],
        deny: ['aircraft:delete'],
      });
      expect(transactions()).toHaveLength(1);
    });

    it("within the caller's role: the write pins the caller's role at the version read", async () => {
      await admin().create(manager, pilot);
      const [tx] = transactions();
      expect(tx?.[0]).toEqual(permissionCheck('T', 'acme', 'manager', 'roles:create', 5));
      expect(tx?.[0]?.ConditionCheck?.ConditionExpression).toMatch(/ AND #version = :version$/);
      expect(tx?.[0]?.ConditionCheck?.ExpressionAttributeValues).toMatchObject({ ':version': 5 });
      expect(tx?.[1]?.Put?.Item).toMatchObject({ SK: 'ROLE#pilot', version: 1, assigned: 0 });
    });

    it("the caller's role changed between the read and the write: ConflictError role-changed", async () => {
      mock
        .on(TransactWriteCommand)
        .rejects(
          cancelled(failed({ allow: L('roles:*', 'aircraft:*'), deny: L(), version: N(6) }), NONE),
        );
      const error = await admin()
        .create(manager, pilot)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ reason: 'role-changed' });
    });

    it("the caller's role narrowed meanwhile so it no longer permits: PermissionDeniedError", async () => {
      mock
        .on(TransactWriteCommand)
        .rejects(cancelled(failed({ allow: L('aircraft:*'), deny: L(), version: N(6) }), NONE));
      await expect(admin().create(manager, pilot)).rejects.toMatchObject({
        name: 'PermissionDeniedError',
        action: 'roles:create',
        reason: 'no-match',
      });
    });

    it('a caller whose stored role is corrupt decides nothing: PermissionDeniedError invalid-role', async () => {
      storeRole('broken', 'roles:*');
      await expect(admin().create(ctx('broken'), pilot)).rejects.toMatchObject({
        name: 'PermissionDeniedError',
        action: 'roles:create',
        reason: 'invalid-role',
      });
      expect(transactions()).toHaveLength(0);
    });

    it('a caller whose role item is gone holds nothing', async () => {
      await refusal(admin().create(ctx('ghost'), pilot));
    });
  });

  describe('update: both the stored document and the new one', () => {
    it('the stored role grants more than the caller holds (even if the new one would not)', async () => {
      storeRole('auditor', ['billing:*'], [], 2);
      const error = await refusal(
        admin().update(manager, 'auditor', {
          name: 'Auditor',
          allow: ['aircraft:read'],
          version: 2,
        }),
      );
      expect(error).toMatchObject({
        action: 'roles:update',
        reason: 'exceeds-own-role',
        roleId: 'auditor',
        pattern: 'billing:*',
        example: 'billing:x0',
        gap: 'not-granted',
      });
    });

    it('the new document grants more than the caller holds', async () => {
      const error = await refusal(
        admin().update(manager, 'pilot', {
          name: 'Pilot',
          allow: ['aircraft:*', 'billing:read'],
          version: 3,
        }),
      );
      expect(error).toMatchObject({
        action: 'roles:update',
        roleId: 'pilot',
        pattern: 'billing:read',
        example: 'billing:read',
        gap: 'not-granted',
      });
    });

    it("dropping a deny past what the caller's role denies: gap denied", async () => {
      storeRole('ops', ['*'], ['aircraft:delete'], 4);
      const error = await refusal(
        admin().update(ctx('ops'), 'pilot', { name: 'Pilot', allow: ['aircraft:*'], version: 3 }),
      );
      expect(error).toMatchObject({
        roleId: 'pilot',
        pattern: 'aircraft:*',
        example: 'aircraft:delete',
        gap: 'denied',
        matched: 'aircraft:delete',
      });
    });

    it('the caller cannot widen a role they hold to `*`', async () => {
      const error = await refusal(
        admin().update(manager, 'manager', { name: 'Manager', allow: ['*'], version: 5 }),
      );
      expect(error).toMatchObject({ roleId: 'manager', pattern: '*', gap: 'not-granted' });
    });

    it("within: the caller's role pinned in the check, the role's version in the write", async () => {
      await admin().update(manager, 'pilot', {
        name: 'Pilot (PPL)',
        allow: ['aircraft:read'],
        version: 3,
      });
      const [tx] = transactions();
      expect(tx).toHaveLength(2);
      expect(tx?.[0]).toEqual(permissionCheck('T', 'acme', 'manager', 'roles:update', 5));
      expect(tx?.[1]?.Update?.ConditionExpression).toBe(
        'attribute_exists(PK) AND version = :expected',
      );
      expect(tx?.[1]?.Update?.ExpressionAttributeValues).toMatchObject({ ':expected': 3 });
      expect(reads().sort()).toEqual(['ROLE#manager', 'ROLE#pilot']);
    });
  });

  describe('delete', () => {
    it('a role granting more than the caller holds: RightsExceededError, no write', async () => {
      storeRole('auditor', ['billing:*'], [], 2);
      const error = await refusal(admin().remove(manager, 'auditor', 2));
      expect(error).toMatchObject({
        action: 'roles:delete',
        reason: 'exceeds-own-role',
        roleId: 'auditor',
        pattern: 'billing:*',
        gap: 'not-granted',
      });
    });

    it("within: the delete pins the caller's role", async () => {
      await admin().remove(manager, 'pilot', 3);
      expect(transactions()[0]?.[0]).toEqual(
        permissionCheck('T', 'acme', 'manager', 'roles:delete', 5),
      );
    });

    it('a role that is not there grants nothing: the write decides (RoleNotFoundError)', async () => {
      mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed()));
      await expect(admin().remove(manager, 'ghost', 1)).rejects.toBeInstanceOf(RoleNotFoundError);
    });
  });
});

// Each test below kills a mutant that survived `npm run mutate tenants` on main.
describe('what a mutation run on main found untested', () => {
  const update = { name: 'Pilot (PPL)', allow: ['aircraft:read'], deny: [], version: 3 };

  it('options that are not an object at all: TenantsConfigError, not a TypeError', () => {
    for (const options of [undefined, { roles: null }]) {
      const error = thrown(() => createRolesAdmin(options as never));
      expect(error).toMatchObject({ name: 'TenantsConfigError' });
      expect((error as TenantsConfigError).issues).toContain('roles must be a RoleAuthorizer');
    }
  });

  it('every refusal of the write keeps the cancelled write as its cause', async () => {
    const cases: [Record<string, unknown>, () => Promise<unknown>][] = [
      [{ name: 'RoleNotFoundError' }, () => admin().update(ctx(), 'pilot', update)],
      [{ reason: 'stale-version' }, () => admin().update(ctx(), 'pilot', update)],
      [{ reason: 'role-in-use' }, () => admin().remove(ctx(), 'pilot', 3)],
      [{ reason: 'already-exists' }, () => admin().create(ctx(), pilot)],
    ];
    const failures = [
      cancelled(NONE, failed()),
      cancelled(NONE, failed({ version: N(7) })),
      cancelled(NONE, failed({ version: N(3), assigned: N(2) })),
      cancelled(NONE, failed()),
    ];
    for (const [i, [expected, call]] of cases.entries()) {
      mock.on(TransactWriteCommand).rejects(failures[i]);
      const error = await call().catch((e: unknown) => e);
      expect(error).toMatchObject(expected);
      expect((error as Error).cause).toBeInstanceOf(Error);
    }
  });

  it('already-exists names the role', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed()));
    await expect(admin().create(ctx(), pilot)).rejects.toThrow('role pilot already exists');
  });

  it('a refused write whose item has no version attribute is stale-version, not a TypeError', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed({ assigned: N(0) })));
    const error = await admin()
      .update(ctx(), 'pilot', update)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ConflictError', reason: 'stale-version' });
    expect((error as Error).message).toBe('role pilot is at version undefined, not 3');
  });

  it('a corrupt role item answers 403 invalid-role naming the operation asked', async () => {
    storeRole('broken', ['aircraft:read'], 'aircraft:*', 3);
    const refusedBoth = async (roleId: string) => {
      await expect(admin().update(ctx('manager'), roleId, update)).rejects.toMatchObject({
        action: 'roles:update',
        reason: 'invalid-role',
      });
      await expect(admin().remove(ctx('manager'), roleId, 3)).rejects.toMatchObject({
        action: 'roles:delete',
        reason: 'invalid-role',
      });
    };
    // The role edited or deleted is corrupt…
    await refusedBoth('broken');
    // …or the caller's own role is.
    storeRole('manager', 'roles:*', [], 5);
    await refusedBoth('pilot');
    expect(transactions()).toHaveLength(0);
  });
});
