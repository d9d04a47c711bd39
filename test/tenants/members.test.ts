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
import {
  ConflictError,
  createMembersService,
  type DirectoryUser,
  InvalidInputError,
  type MembersServiceOptions,
  NotFoundError,
  PermissionDeniedError,
  permissionCheck,
  RoleNotFoundError,
  TenantsConfigError,
  type TransactItem,
  type UserDirectory,
} from '../../tenants/index.js';
import { cancelled, failed, fakeRoleAuthorizer, L, NONE } from '../fixtures/tenants.js';

// --- fakes -------------------------------------------------------------------------------------

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);

const ctx = (role = 'manager', userId = 'caller'): TenantContext => ({
  tenantId: 'acme',
  userId,
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

/** A RoleAuthorizer that allows the listed actions and records what it was asked. */
const fakeRoles = (allowed: string[] = ['members:list', 'members:remove']) =>
  fakeRoleAuthorizer(allowed);

type Method = keyof UserDirectory;
function fakeDirectory(users: DirectoryUser[] = []) {
  const log: string[] = [];
  const failures = new Map<Method, unknown>();
  const step = (method: Method, detail: string) => {
    log.push(`${method}(${detail})`);
    if (failures.has(method)) {
      const error = failures.get(method);
      failures.delete(method);
      throw error;
    }
  };
  const directory: UserDirectory & { log: string[]; failOnce(m: Method, e: unknown): void } = {
    log,
    failOnce: (m, e) => failures.set(m, e),
    ensureGroup: async (t) => step('ensureGroup', t),
    addToGroup: async (u, t) => step('addToGroup', `${u},${t}`),
    removeFromGroup: async (u, t) => step('removeFromGroup', `${u},${t}`),
    setActiveTenant: async (u, t, r) => step('setActiveTenant', `${u},${t},${r}`),
    clearActiveTenant: async (u) => step('clearActiveTenant', u),
    async findUser(key) {
      step('findUser', key);
      return users.find((u) => u.userId === key || u.email === key);
    },
    async refresh() {
      throw new Error('not used here');
    },
  };
  return directory;
}

/** The table's items the service reads with GetCommand, by sort key (tenant `acme`). */
let items: Map<string, Record<string, unknown>>;
let directory: ReturnType<typeof fakeDirectory>;
let roles: ReturnType<typeof fakeRoles>;
let clientFor: TenantContext[];

const ann: DirectoryUser = { userId: 'u-ann', email: 'ann@example.com' };
const bob: DirectoryUser = {
  userId: 'u-bob',
  email: 'bob@example.com',
  activeTenantId: 'acme',
  role: 'pilot',
};
const NOW = Date.UTC(2026, 1, 3, 4, 5, 6);

beforeEach(() => {
  mock.reset();
  items = new Map([['TENANT', { PK: 'TENANT#acme', SK: 'TENANT', name: 'Acme Flight School' }]]);
  mock
    .on(GetCommand)
    .callsFake((input: { Key: { SK: string } }) => ({ Item: items.get(input.Key.SK) }));
  mock.on(TransactWriteCommand).resolves({});
  directory = fakeDirectory([ann, bob]);
  roles = fakeRoles();
  clientFor = [];
});

const service = (options: Partial<MembersServiceOptions> = {}) =>
  createMembersService({
    tableName: 'T',
    directory,
    roles,
    now: () => NOW,
    clientFor: (c) => {
      clientFor.push(c);
      return ddb;
    },
    ...options,
  });

const transactions = () =>
  mock.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems ?? []);
const member = (userId: string, role: string, extra: Record<string, unknown> = {}) =>
  items.set(`USER#${userId}`, {
    PK: 'TENANT#acme',
    SK: `USER#${userId}`,
    tenantId: 'acme',
    userId,
    role,
    ...extra,
  });

const countOn = (roleId: string, delta: 1 | -1, lastAdminGuard = false): TransactItem => ({
  Update: {
    TableName: 'T',
    Key: { PK: 'TENANT#acme', SK: `ROLE#${roleId}` },
    UpdateExpression: 'SET assigned = if_not_exists(assigned, :zero) + :delta',
    ConditionExpression: lastAdminGuard
      ? 'attribute_exists(PK) AND assigned > :one'
      : 'attribute_exists(PK)',
    ExpressionAttributeValues: {
      ':zero': 0,
      ':delta': delta,
      ...(lastAdminGuard ? { ':one': 1 } : {}),
    },
  },
});

// --- tests -------------------------------------------------------------------------------------

describe('createMembersService options', () => {
  it('lists every problem at once', () => {
    const error = (() => {
      try {
        createMembersService({ tableName: '', directory: {}, roles: {} } as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TenantsConfigError);
    expect((error as TenantsConfigError).issues).toEqual([
      'tableName must be a non-empty string',
      'directory must be a UserDirectory',
      'roles must be a RoleAuthorizer',
    ]);
  });
});

describe('list', () => {
  it('enforces members:list, then queries the tenant partition across pages', async () => {
    mock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ userId: 'u-ann', role: 'admin', email: 'ann@example.com', joinedAt: 'j1' }],
        LastEvaluatedKey: { PK: 'TENANT#acme', SK: 'USER#u-ann' },
      })
      .resolvesOnce({ Items: [{ userId: 'u-bob', role: 'pilot' }] });
    await expect(service().list(ctx())).resolves.toEqual([
      { userId: 'u-ann', role: 'admin', email: 'ann@example.com', joinedAt: 'j1' },
      { userId: 'u-bob', role: 'pilot' },
    ]);
    expect(roles.asked).toEqual(['members:list']);
    const inputs = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({
      TableName: 'T',
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :m)',
      ExpressionAttributeValues: { ':pk': 'TENANT#acme', ':m': 'USER#' },
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({ PK: 'TENANT#acme', SK: 'USER#u-ann' });
    // Every call with the caller's own (tenant-scoped) client.
    expect(clientFor.every((c) => c.credentials.accessKeyId === 'ASIACALLER')).toBe(true);
  });

  it('a caller without members:list is refused before any read', async () => {
    roles.allowed.clear();
    await expect(service().list(ctx())).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(mock.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('invite', () => {
  const invite = (input: { email: unknown; role: unknown }, c = ctx()) =>
    service().invite(c, input);

  it('writes the membership and the role count with the permission check, then Cognito', async () => {
    const result = await invite({ email: 'Ann@Example.com', role: 'pilot' });
    expect(result).toEqual({
      userId: 'u-ann',
      role: 'pilot',
      email: 'ann@example.com',
      joinedAt: '2026-02-03T04:05:06.000Z',
    });
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'manager', 'members:invite'),
        {
          Put: {
            TableName: 'T',
            Item: {
              PK: 'TENANT#acme',
              SK: 'USER#u-ann',
              GSI1PK: 'USER#u-ann',
              GSI1SK: 'TENANT#acme',
              type: 'membership',
              tenantId: 'acme',
              userId: 'u-ann',
              role: 'pilot',
              tenantName: 'Acme Flight School',
              email: 'ann@example.com',
              joinedAt: '2026-02-03T04:05:06.000Z',
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        countOn('pilot', 1),
      ],
    ]);
    // The lookup by (lower-cased) email, then the group, then — no active tenant yet — the attributes.
    expect(directory.log).toEqual([
      'findUser(ann@example.com)',
      'addToGroup(u-ann,acme)',
      'setActiveTenant(u-ann,acme,pilot)',
    ]);
  });

  it('leaves the active tenant of a user who has one', async () => {
    await invite({ email: 'bob@example.com', role: 'pilot' });
    expect(directory.log).toEqual(['findUser(bob@example.com)', 'addToGroup(u-bob,acme)']);
  });

  it("merges the check into the write on the caller's own role item (admin invites an admin)", async () => {
    await invite({ email: 'ann@example.com', role: 'admin' }, ctx('admin'));
    const [tx] = transactions();
    expect(tx).toHaveLength(2);
    expect(tx?.[0]?.Put).toBeDefined();
    const update = tx?.[1]?.Update;
    expect(update?.Key).toEqual({ PK: 'TENANT#acme', SK: 'ROLE#admin' });
    const check = permissionCheck('T', 'acme', 'admin', 'members:invite').ConditionCheck;
    expect(update?.ConditionExpression).toBe(
      `(attribute_exists(PK)) AND (${check?.ConditionExpression?.replace(/([:#])(\w+)/g, '$1tg_$2')})`,
    );
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':zero': 0,
      ':delta': 1,
      ':tg_list': 'L',
      ':tg_g0': 'members:invite',
    });
    expect(update?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('validates email and role together, with no call', async () => {
    const error = await invite({ email: 'not-an-email', role: 'Bad Role' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues.map((i) => i.field)).toEqual(['email', 'role']);
    expect(mock.calls()).toHaveLength(0);
    expect(directory.log).toEqual([]);
  });

  it('an unknown user is NotFoundError user, with no write', async () => {
    const error = await invite({ email: 'nobody@example.com', role: 'pilot' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'user' });
    expect(transactions()).toHaveLength(0);
  });

  it('already a member with the same role: idempotent success, and the group add is redone', async () => {
    member('u-ann', 'pilot');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE));
    await expect(invite({ email: 'ann@example.com', role: 'pilot' })).resolves.toMatchObject({
      userId: 'u-ann',
      role: 'pilot',
    });
    expect(directory.log).toContain('addToGroup(u-ann,acme)');
  });

  it('already a member with another role: ConflictError already-member, no Cognito call', async () => {
    member('u-ann', 'admin');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE));
    const error = await invite({ email: 'ann@example.com', role: 'pilot' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ reason: 'already-member' });
    expect((error as Error).message).toContain('admin');
    expect(directory.log).toEqual(['findUser(ann@example.com)']);
  });

  it('an unknown role: RoleNotFoundError, no Cognito call', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, NONE, failed()));
    await expect(invite({ email: 'ann@example.com', role: 'ghost' })).rejects.toBeInstanceOf(
      RoleNotFoundError,
    );
    expect(directory.log).toEqual(['findUser(ann@example.com)']);
  });

  it('permission denied: PermissionDeniedError with the reason the check saw, nothing else', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(failed({ allow: L('*'), deny: L('members:*') }), NONE, NONE));
    const error = await invite({ email: 'ann@example.com', role: 'pilot' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({
      action: 'members:invite',
      reason: 'explicit-deny',
      matched: 'members:*',
    });
    expect(directory.log).toEqual(['findUser(ann@example.com)']);
  });

  it('permission denied on the merged write (caller admin whose role no longer permits)', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, failed({ allow: L('aircraft:*'), deny: L() })));
    await expect(
      invite({ email: 'ann@example.com', role: 'admin' }, ctx('admin')),
    ).rejects.toMatchObject({ name: 'PermissionDeniedError', reason: 'no-match' });
  });

  it('a Cognito failure after the write surfaces; the retry completes it', async () => {
    const error = Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' });
    directory.failOnce('addToGroup', error);
    await expect(invite({ email: 'ann@example.com', role: 'pilot' })).rejects.toBe(error);
    // The membership is in the table now; the retry's write finds it.
    member('u-ann', 'pilot');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE));
    directory.log.length = 0;
    await expect(invite({ email: 'ann@example.com', role: 'pilot' })).resolves.toMatchObject({
      role: 'pilot',
    });
    expect(directory.log).toEqual([
      'findUser(ann@example.com)',
      'addToGroup(u-ann,acme)',
      'setActiveTenant(u-ann,acme,pilot)',
    ]);
  });

  it('a transaction conflict surfaces as it is', async () => {
    const error = cancelled(NONE, { Code: 'TransactionConflict' }, NONE);
    mock.on(TransactWriteCommand).rejects(error);
    await expect(invite({ email: 'ann@example.com', role: 'pilot' })).rejects.toBe(error);
  });
});

describe('changeRole', () => {
  const change = (userId: string, role: unknown, c = ctx()) =>
    service().changeRole(c, userId, { role });

  it('updates the membership at the role read and moves the counts, with the check', async () => {
    member('u-bob', 'pilot', { email: 'bob@example.com' });
    await expect(change('u-bob', 'instructor')).resolves.toEqual({
      userId: 'u-bob',
      role: 'instructor',
      email: 'bob@example.com',
    });
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'manager', 'members:update'),
        {
          Update: {
            TableName: 'T',
            Key: { PK: 'TENANT#acme', SK: 'USER#u-bob' },
            UpdateExpression: 'SET #role = :to',
            ConditionExpression: '#role = :from',
            ExpressionAttributeNames: { '#role': 'role' },
            ExpressionAttributeValues: { ':to': 'instructor', ':from': 'pilot' },
          },
        },
        countOn('pilot', -1),
        countOn('instructor', 1),
      ],
    ]);
    // Bob's active tenant is acme: his attributes follow, so his next tokens carry the role.
    expect(directory.log).toEqual(['findUser(u-bob)', 'setActiveTenant(u-bob,acme,instructor)']);
  });

  it('demoting an admin guards the admin count (the last admin stays)', async () => {
    member('u-ann', 'admin');
    await change('u-ann', 'member');
    expect(transactions()[0]?.[2]).toEqual(countOn('admin', -1, true));
  });

  it('leaves the attributes of a member whose active tenant is another', async () => {
    member('u-ann', 'pilot');
    await change('u-ann', 'instructor');
    expect(directory.log).toEqual(['findUser(u-ann)']);
  });

  it('not a member: NotFoundError member, no write', async () => {
    const error = await change('u-nobody', 'pilot').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'member' });
    expect(transactions()).toHaveLength(0);
  });

  it('validates the role, with no call', async () => {
    const error = await change('u-bob', 'Not A Role').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toEqual([
      { field: 'role', message: expect.stringContaining('must match') },
    ]);
    expect(mock.calls()).toHaveLength(0);
  });

  it('the membership changed meanwhile: ConflictError stale-version, no Cognito call', async () => {
    member('u-bob', 'pilot');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE, NONE));
    await expect(change('u-bob', 'instructor')).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'stale-version',
    });
    expect(directory.log).toEqual([]);
  });

  it('demoting the last admin: ConflictError last-admin', async () => {
    member('u-ann', 'admin');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, NONE, failed(), NONE));
    const error = await change('u-ann', 'member').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ reason: 'last-admin' });
    expect(directory.log).toEqual([]);
  });

  it('the last admin demoting themself (merged write on their own role item): last-admin', async () => {
    member('caller', 'admin');
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, failed({ allow: L('*'), deny: L(), assigned: { N: '1' } }), NONE));
    await expect(change('caller', 'member', ctx('admin'))).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'last-admin',
    });
    const [tx] = transactions();
    // No separate check: the admin count update carries it.
    expect(tx).toHaveLength(3);
    expect(tx?.[1]?.Update?.ConditionExpression).toMatch(
      /^\(attribute_exists\(PK\) AND assigned > :one\) AND \(attribute_exists\(PK\) AND attribute_type\(#tg_allow, :tg_list\)/,
    );
  });

  it('an unknown target role: RoleNotFoundError', async () => {
    member('u-bob', 'pilot');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, NONE, NONE, failed()));
    await expect(change('u-bob', 'ghost')).rejects.toBeInstanceOf(RoleNotFoundError);
  });

  it('permission denied: PermissionDeniedError, no Cognito call', async () => {
    member('u-bob', 'pilot');
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(failed({ allow: L('aircraft:*') }), NONE, NONE, NONE));
    await expect(change('u-bob', 'instructor')).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      action: 'members:update',
      reason: 'no-match',
    });
    expect(directory.log).toEqual([]);
  });

  it('the same role again writes nothing and re-syncs the attributes if they lag', async () => {
    member('u-bob', 'instructor');
    roles.allowed.add('members:update');
    await expect(change('u-bob', 'instructor')).resolves.toMatchObject({ role: 'instructor' });
    expect(transactions()).toHaveLength(0);
    // Bob's attributes still say pilot (an earlier Cognito call failed): this completes it.
    expect(directory.log).toEqual(['findUser(u-bob)', 'setActiveTenant(u-bob,acme,instructor)']);
  });

  // BUG (tenants/members.ts, changeRole, lines 436-473): when the requested role equals the stored
  // one, no guarded write runs and nothing else checks `members:update` — a caller whose role lacks
  // it (e.g. `member`, which may `members:list` but not update) gets 200 with the member's data and
  // can make the function call AdminUpdateUserAttributes on another user. `remove` has the matching
  // path covered (`roles.enforce(ctx, 'members:remove')` when nothing is written); changeRole should
  // enforce `members:update` the same way (PermissionDeniedError, 403).
  it('the same role again still requires members:update', async () => {
    member('u-bob', 'instructor');
    await expect(change('u-bob', 'instructor', ctx('member'))).rejects.toBeInstanceOf(
      PermissionDeniedError,
    );
    expect(directory.log).toEqual([]);
  });
});

describe('remove', () => {
  const remove = (userId: string, c = ctx()) => service().remove(c, userId);

  it('deletes the membership at the role read and decrements the count, with the check', async () => {
    member('u-ann', 'pilot');
    await remove('u-ann');
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'manager', 'members:remove'),
        {
          Delete: {
            TableName: 'T',
            Key: { PK: 'TENANT#acme', SK: 'USER#u-ann' },
            ConditionExpression: '#role = :from',
            ExpressionAttributeNames: { '#role': 'role' },
            ExpressionAttributeValues: { ':from': 'pilot' },
          },
        },
        countOn('pilot', -1),
      ],
    ]);
    // Not Ann's active tenant: out of the group, attributes untouched.
    expect(directory.log).toEqual(['findUser(u-ann)', 'removeFromGroup(u-ann,acme)']);
    // The table write came first; no separate enforce call was needed.
    expect(roles.asked).toEqual([]);
  });

  it('clears the attributes only if it was their active tenant', async () => {
    member('u-bob', 'pilot');
    await remove('u-bob');
    expect(directory.log).toEqual([
      'findUser(u-bob)',
      'removeFromGroup(u-bob,acme)',
      'clearActiveTenant(u-bob)',
    ]);
  });

  it('removing an admin guards the admin count', async () => {
    member('u-ann', 'admin');
    await remove('u-ann');
    expect(transactions()[0]?.[2]).toEqual(countOn('admin', -1, true));
  });

  it('the last admin: ConflictError last-admin, no Cognito call', async () => {
    member('u-ann', 'admin');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, NONE, failed()));
    await expect(remove('u-ann')).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'last-admin',
    });
    expect(directory.log).toEqual([]);
  });

  it('the last admin removing themself (merged write): last-admin', async () => {
    member('caller', 'admin');
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, failed({ allow: L('*'), deny: L(), assigned: { N: '1' } })));
    await expect(remove('caller', ctx('admin'))).rejects.toMatchObject({ reason: 'last-admin' });
    expect(transactions()[0]).toHaveLength(2);
  });

  it('changed meanwhile: ConflictError stale-version', async () => {
    member('u-ann', 'pilot');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE));
    await expect(remove('u-ann')).rejects.toMatchObject({ reason: 'stale-version' });
    expect(directory.log).toEqual([]);
  });

  it('permission denied: PermissionDeniedError, no Cognito call', async () => {
    member('u-ann', 'pilot');
    mock.on(TransactWriteCommand).rejects(cancelled(failed(), NONE, NONE));
    await expect(remove('u-ann')).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      reason: 'unknown-role',
    });
    expect(directory.log).toEqual([]);
  });

  it('a Cognito failure after the delete surfaces; the retry completes the cleanup, then 404', async () => {
    member('u-bob', 'pilot');
    const error = Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' });
    directory.failOnce('removeFromGroup', error);
    await expect(remove('u-bob')).rejects.toBe(error);
    expect(directory.log).toEqual(['findUser(u-bob)', 'removeFromGroup(u-bob,acme)']);
    // The membership is gone from the table (the write committed).
    items.delete('USER#u-bob');
    directory.log.length = 0;
    const retry = await remove('u-bob').catch((e: unknown) => e);
    expect(retry).toBeInstanceOf(NotFoundError);
    expect(retry).toMatchObject({ kind: 'member' });
    expect(roles.asked).toEqual(['members:remove']);
    expect(directory.log).toEqual([
      'findUser(u-bob)',
      'removeFromGroup(u-bob,acme)',
      'clearActiveTenant(u-bob)',
    ]);
    expect(transactions()).toHaveLength(1);
  });

  it('no membership and no permission: PermissionDeniedError, no Cognito call', async () => {
    roles.allowed.clear();
    await expect(remove('u-bob')).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(directory.log).toEqual([]);
    expect(transactions()).toHaveLength(0);
  });

  it('no membership and no such user: NotFoundError, nothing changed', async () => {
    await expect(remove('u-nobody')).rejects.toBeInstanceOf(NotFoundError);
    expect(directory.log).toEqual(['findUser(u-nobody)']);
  });
});
