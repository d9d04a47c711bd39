import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
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
  RightsExceededError,
  RoleNotFoundError,
  TenantsConfigError,
  type TransactItem,
  type UserDirectory,
} from '../../tenants/index.js';
import { cancelled, failed, fakeRoleAuthorizer, L, N, NONE, thrown } from '../fixtures/tenants.js';

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

/**
 * The tenant's control partition (`CONTROL#acme`), by sort key: what the service reads with
 * GetCommand. A committed transaction's Puts and Deletes land here (conditions are the mocked
 * cancellations' business), so a retry sees what the first call left behind.
 */
let items: Map<string, Record<string, unknown>>;
let directory: ReturnType<typeof fakeDirectory>;
let roles: ReturnType<typeof fakeRoles>;

const ann: DirectoryUser = { userId: 'u-ann', email: 'ann@example.com' };
const bob: DirectoryUser = {
  userId: 'u-bob',
  email: 'bob@example.com',
  activeTenantId: 'acme',
  role: 'pilot',
};
const NOW = Date.UTC(2026, 1, 3, 4, 5, 6);

const storeRole = (roleId: string, allow: string[], deny: string[] = [], version = 1) =>
  items.set(`ROLE#${roleId}`, {
    PK: 'CONTROL#acme',
    SK: `ROLE#${roleId}`,
    type: 'role',
    tenantId: 'acme',
    roleId,
    name: roleId,
    allow,
    deny,
    version,
  });

const inAcme = (key: { PK?: unknown; SK?: unknown } | undefined) =>
  key?.PK === 'CONTROL#acme' ? String(key.SK) : undefined;

beforeEach(() => {
  mock.reset();
  items = new Map([['TENANT', { PK: 'CONTROL#acme', SK: 'TENANT', name: 'Acme Flight School' }]]);
  storeRole('admin', ['*']);
  storeRole('member', ['*:read', '*:list', '*:*:read', '*:*:list', 'me:*']);
  // A delegated member administrator: members:* and what pilots and instructors do, no more.
  storeRole('manager', ['members:*', 'aircraft:*', 'bookings:*'], [], 5);
  storeRole('pilot', ['aircraft:read', 'aircraft:list'], [], 2);
  storeRole('instructor', ['aircraft:*', 'bookings:*'], [], 3);
  storeRole('auditor', ['billing:*'], [], 4);
  mock.on(GetCommand).callsFake((input: { Key: { PK: string; SK: string } }) => {
    const sk = inAcme(input.Key);
    const item = sk === undefined ? undefined : items.get(sk);
    return { Item: item === undefined ? undefined : structuredClone(item) };
  });
  mock.on(TransactWriteCommand).callsFake((input: { TransactItems: TransactItem[] }) => {
    for (const t of input.TransactItems) {
      const put = inAcme(t.Put?.Item);
      if (put !== undefined)
        items.set(put, structuredClone(t.Put?.Item) as Record<string, unknown>);
      const del = inAcme(t.Delete?.Key);
      if (del !== undefined) items.delete(del);
    }
    return {};
  });
  mock.on(DeleteCommand).callsFake((input: { Key: { PK: string; SK: string } }) => {
    const sk = inAcme(input.Key);
    if (sk !== undefined) items.delete(sk);
    return {};
  });
  directory = fakeDirectory([ann, bob]);
  roles = fakeRoles();
});

const service = (options: Partial<MembersServiceOptions> = {}) =>
  createMembersService({
    tableName: 'T',
    directory,
    roles,
    now: () => NOW,
    client: ddb,
    ...options,
  });

const transactions = () =>
  mock.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems ?? []);
const member = (userId: string, role: string, extra: Record<string, unknown> = {}) =>
  items.set(`USER#${userId}`, {
    PK: 'CONTROL#acme',
    SK: `USER#${userId}`,
    tenantId: 'acme',
    userId,
    role,
    ...extra,
  });
const removalMarker = (userId: string) =>
  items.set(`REMOVED#${userId}`, {
    PK: 'CONTROL#acme',
    SK: `REMOVED#${userId}`,
    type: 'removal',
    userId,
    removedAt: '2026-02-03T04:05:06.000Z',
  });

/** The count on a role; pinned at `version` when the caller is not an admin. */
const countOn = (roleId: string, delta: 1 | -1, version?: number): TransactItem => ({
  Update: {
    TableName: 'T',
    Key: { PK: 'CONTROL#acme', SK: `ROLE#${roleId}` },
    UpdateExpression: 'SET assigned = if_not_exists(assigned, :zero) + :delta',
    ConditionExpression:
      version === undefined
        ? 'attribute_exists(PK)'
        : 'attribute_exists(PK) AND version = :version',
    ExpressionAttributeValues: {
      ':zero': 0,
      ':delta': delta,
      ...(version === undefined ? {} : { ':version': version }),
    },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  },
});
const dropMarker = (userId: string): TransactItem => ({
  Delete: { TableName: 'T', Key: { PK: 'CONTROL#acme', SK: `REMOVED#${userId}` } },
});
const putMarker = (userId: string): TransactItem => ({
  Put: {
    TableName: 'T',
    Item: {
      PK: 'CONTROL#acme',
      SK: `REMOVED#${userId}`,
      type: 'removal',
      userId,
      removedAt: '2026-02-03T04:05:06.000Z',
    },
  },
});
/** The role item as the cancelled write saw it (raw attribute values). */
const roleAsSeen = (allow: string[], version: number, extra: Record<string, unknown> = {}) =>
  failed({ allow: L(...allow), deny: L(), version: N(version), ...extra });

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
      'client must be a DynamoDB client',
      'tableName must be a non-empty string',
      'directory must be a UserDirectory',
      'roles must be a RoleAuthorizer',
    ]);
  });
});

describe('list', () => {
  it('enforces members:list, then queries the control partition across pages', async () => {
    mock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ userId: 'u-ann', role: 'admin', email: 'ann@example.com', joinedAt: 'j1' }],
        LastEvaluatedKey: { PK: 'CONTROL#acme', SK: 'USER#u-ann' },
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
      ExpressionAttributeValues: { ':pk': 'CONTROL#acme', ':m': 'USER#' },
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({ PK: 'CONTROL#acme', SK: 'USER#u-ann' });
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

  it('writes the membership, the pinned role count and the marker drop with the pinned check, then Cognito', async () => {
    const result = await invite({ email: 'Ann@Example.com', role: 'pilot' });
    expect(result).toEqual({
      userId: 'u-ann',
      role: 'pilot',
      email: 'ann@example.com',
      joinedAt: '2026-02-03T04:05:06.000Z',
    });
    expect(transactions()).toEqual([
      [
        // The caller's role at the version the coverage decision read (5); the role granted at its (2).
        permissionCheck('T', 'acme', 'manager', 'members:invite', 5),
        {
          Put: {
            TableName: 'T',
            Item: {
              PK: 'CONTROL#acme',
              SK: 'USER#u-ann',
              GSI1PK: 'USER#u-ann',
              GSI1SK: 'CONTROL#acme',
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
        countOn('pilot', 1, 2),
        // A removal of Ann still finishing must not take the new membership's group away.
        dropMarker('u-ann'),
      ],
    ]);
    expect(transactions()[0]?.[0]?.ConditionCheck?.ConditionExpression).toMatch(
      / AND #version = :version$/,
    );
    // The lookup by (lower-cased) email, then the group, then — no active tenant yet — the attributes.
    expect(directory.log).toEqual([
      'findUser(ann@example.com)',
      'addToGroup(u-ann,acme)',
      'setActiveTenant(u-ann,acme,pilot)',
    ]);
    // Both roles read consistently, before anything else.
    const gets = mock.commandCalls(GetCommand).map((c) => c.args[0].input);
    expect(gets.slice(0, 2).map((g) => g.Key?.SK)).toEqual(['ROLE#manager', 'ROLE#pilot']);
    expect(gets.every((g) => g.ConsistentRead === true)).toBe(true);
  });

  it('an admin is unbounded: no role of theirs is read, nothing is pinned', async () => {
    await invite({ email: 'ann@example.com', role: 'auditor' }, ctx('admin'));
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'admin', 'members:invite'),
        expect.objectContaining({ Put: expect.anything() }),
        countOn('auditor', 1),
        dropMarker('u-ann'),
      ],
    ]);
    expect(mock.commandCalls(GetCommand).map((c) => c.args[0].input.Key?.SK)).not.toContain(
      'ROLE#admin',
    );
  });

  it('leaves the active tenant of a user who has one', async () => {
    await invite({ email: 'bob@example.com', role: 'pilot' });
    expect(directory.log).toEqual(['findUser(bob@example.com)', 'addToGroup(u-bob,acme)']);
  });

  it("merges the check into the write on the caller's own role item (admin invites an admin)", async () => {
    await invite({ email: 'ann@example.com', role: 'admin' }, ctx('admin'));
    const [tx] = transactions();
    expect(tx).toHaveLength(3);
    expect(tx?.[0]?.Put).toBeDefined();
    const update = tx?.[1]?.Update;
    expect(update?.Key).toEqual({ PK: 'CONTROL#acme', SK: 'ROLE#admin' });
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
    expect(tx?.[2]).toEqual(dropMarker('u-ann'));
  });

  it("a merged write keeps both pins: the count's version and the caller's (manager invites a manager)", async () => {
    await invite({ email: 'ann@example.com', role: 'manager' });
    const [tx] = transactions();
    expect(tx).toHaveLength(3);
    const update = tx?.[1]?.Update;
    expect(update?.Key).toEqual({ PK: 'CONTROL#acme', SK: 'ROLE#manager' });
    expect(update?.ConditionExpression).toMatch(
      /^\(attribute_exists\(PK\) AND version = :version\) AND \(attribute_exists\(PK\) AND /,
    );
    expect(update?.ConditionExpression).toMatch(/ AND #tg_version = :tg_version\)$/);
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':delta': 1,
      ':version': 5,
      ':tg_version': 5,
    });
    expect(update?.ExpressionAttributeNames).toMatchObject({ '#tg_version': 'version' });
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

  it('an email over 254 characters is a 400, with no call', async () => {
    const email = `${'a'.repeat(243)}@example.com`;
    expect(email).toHaveLength(255);
    const error = await invite({ email, role: 'pilot' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues.map((i) => i.field)).toEqual(['email']);
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
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE, NONE));
    await expect(invite({ email: 'ann@example.com', role: 'pilot' })).resolves.toMatchObject({
      userId: 'u-ann',
      role: 'pilot',
    });
    expect(directory.log).toContain('addToGroup(u-ann,acme)');
  });

  it('already a member with another role: ConflictError already-member, no Cognito call', async () => {
    member('u-ann', 'instructor');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE, NONE));
    const error = await invite({ email: 'ann@example.com', role: 'pilot' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ reason: 'already-member' });
    expect((error as Error).message).toContain('instructor');
    expect(directory.log).toEqual(['findUser(ann@example.com)']);
  });

  it('an unknown role: RoleNotFoundError at the read, with no Cognito call and no write', async () => {
    await expect(invite({ email: 'ann@example.com', role: 'ghost' })).rejects.toBeInstanceOf(
      RoleNotFoundError,
    );
    expect(directory.log).toEqual([]);
    expect(transactions()).toHaveLength(0);
  });

  it('the role deleted between the read and the write: RoleNotFoundError, no Cognito call', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, NONE, failed(), NONE));
    await expect(invite({ email: 'ann@example.com', role: 'pilot' })).rejects.toBeInstanceOf(
      RoleNotFoundError,
    );
    expect(directory.log).toEqual(['findUser(ann@example.com)']);
  });

  it('the role granted edited between the read and the write: ConflictError role-changed', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, NONE, roleAsSeen(['aircraft:*'], 3), NONE));
    const error = await invite({ email: 'ann@example.com', role: 'pilot' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ reason: 'role-changed' });
    expect(directory.log).toEqual(['findUser(ann@example.com)']);
  });

  it("the caller's role edited between the read and the write: ConflictError role-changed", async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(roleAsSeen(['members:*', 'aircraft:*'], 6), NONE, NONE, NONE));
    await expect(invite({ email: 'ann@example.com', role: 'pilot' })).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'role-changed',
    });
    expect(directory.log).toEqual(['findUser(ann@example.com)']);
  });

  it('permission denied: PermissionDeniedError with the reason the check saw, nothing else', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(failed({ allow: L('*'), deny: L('members:*') }), NONE, NONE, NONE));
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
      .rejects(cancelled(NONE, failed({ allow: L('aircraft:*'), deny: L() }), NONE));
    await expect(
      invite({ email: 'ann@example.com', role: 'admin' }, ctx('admin')),
    ).rejects.toMatchObject({ name: 'PermissionDeniedError', reason: 'no-match' });
  });

  it('a Cognito failure after the write surfaces; the retry completes it', async () => {
    const error = Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' });
    directory.failOnce('addToGroup', error);
    await expect(invite({ email: 'ann@example.com', role: 'pilot' })).rejects.toBe(error);
    // The membership is in the table now; the retry's write finds it.
    expect(items.get('USER#u-ann')).toMatchObject({ role: 'pilot' });
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE, NONE));
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
    const error = cancelled(NONE, { Code: 'TransactionConflict' }, NONE, NONE);
    mock.on(TransactWriteCommand).rejects(error);
    await expect(invite({ email: 'ann@example.com', role: 'pilot' })).rejects.toBe(error);
  });
});

describe('changeRole', () => {
  const change = (userId: string, role: unknown, c = ctx()) =>
    service().changeRole(c, userId, { role });

  it('updates the membership at the role read and moves the pinned counts, with the pinned check', async () => {
    member('u-bob', 'pilot', { email: 'bob@example.com' });
    await expect(change('u-bob', 'instructor')).resolves.toEqual({
      userId: 'u-bob',
      role: 'instructor',
      email: 'bob@example.com',
    });
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'manager', 'members:update', 5),
        {
          Update: {
            TableName: 'T',
            Key: { PK: 'CONTROL#acme', SK: 'USER#u-bob' },
            UpdateExpression: 'SET #role = :to',
            ConditionExpression: '#role = :from',
            ExpressionAttributeNames: { '#role': 'role' },
            ExpressionAttributeValues: { ':to': 'instructor', ':from': 'pilot' },
          },
        },
        // Both ends at the versions the decision read.
        countOn('pilot', -1, 2),
        countOn('instructor', 1, 3),
      ],
    ]);
    // Bob's active tenant is acme: his attributes follow, so his next tokens carry the role.
    expect(directory.log).toEqual(['findUser(u-bob)', 'setActiveTenant(u-bob,acme,instructor)']);
  });

  it('an admin demoting an admin: the admin count guards the last admin (merged with the check)', async () => {
    member('u-ann', 'admin');
    await change('u-ann', 'member', ctx('admin'));
    const [tx] = transactions();
    expect(tx).toHaveLength(3);
    const update = tx?.[1]?.Update;
    expect(update?.Key).toEqual({ PK: 'CONTROL#acme', SK: 'ROLE#admin' });
    expect(update?.ConditionExpression).toMatch(
      /^\(attribute_exists\(PK\) AND assigned > :one\) AND \(attribute_exists\(PK\) AND /,
    );
    expect(update?.ExpressionAttributeValues).toMatchObject({ ':delta': -1, ':one': 1 });
    // An admin pins nothing.
    expect(update?.ConditionExpression).not.toContain('version');
    expect(tx?.[2]).toEqual(countOn('member', 1));
  });

  it('leaves the attributes of a member whose active tenant is another', async () => {
    member('u-ann', 'pilot');
    await change('u-ann', 'instructor');
    expect(directory.log).toEqual(['findUser(u-ann)']);
  });

  it('not a member: NotFoundError member, no write, no Cognito call', async () => {
    const error = await change('u-nobody', 'pilot').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'member' });
    expect(transactions()).toHaveLength(0);
    expect(directory.log).toEqual([]);
  });

  it.each([
    ['an email', 'bob@example.com'],
    ['a 2,000-character id', 'u'.repeat(2000)],
    ['a key part', 'u-bob#x'],
  ])('%s in the path: NotFoundError member with no call at all', async (_, userId) => {
    member(userId, 'pilot');
    const error = await change(userId, 'instructor').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'member' });
    expect((error as Error).message.length).toBeLessThan(100);
    expect(mock.calls()).toHaveLength(0);
    expect(directory.log).toEqual([]);
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

  it('a role at either end edited between the read and the write: role-changed, never last-admin', async () => {
    // Only taking someone off `admin` can be a last-admin refusal; any other failed count with the
    // role still there means it changed since the decision (mutation testing: turning that test off
    // went unnoticed). The write's own error is kept as the cause.
    member('u-bob', 'pilot');
    for (const failure of [
      cancelled(NONE, NONE, roleAsSeen(['aircraft:*'], 3), NONE),
      cancelled(NONE, NONE, NONE, roleAsSeen(['aircraft:*'], 4)),
    ]) {
      mock.on(TransactWriteCommand).rejects(failure);
      const error = await change('u-bob', 'instructor').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ reason: 'role-changed' });
      expect((error as Error).cause).toBeInstanceOf(Error);
    }
    expect(directory.log).toEqual([]);
  });

  it('demoting the last admin: ConflictError last-admin', async () => {
    member('u-ann', 'admin');
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, failed({ allow: L('*'), deny: L(), assigned: N(1) }), NONE));
    const error = await change('u-ann', 'member', ctx('admin')).catch((e: unknown) => e);
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

  it('an unknown target role: RoleNotFoundError at the read, with no write', async () => {
    member('u-bob', 'pilot');
    await expect(change('u-bob', 'ghost')).rejects.toBeInstanceOf(RoleNotFoundError);
    expect(transactions()).toHaveLength(0);
    expect(directory.log).toEqual([]);
  });

  it('the target role deleted before the write: RoleNotFoundError', async () => {
    member('u-bob', 'pilot');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, NONE, NONE, failed()));
    await expect(change('u-bob', 'instructor')).rejects.toBeInstanceOf(RoleNotFoundError);
  });

  it.each([
    ['the current role (from)', 2, 'pilot'],
    ['the new role (to)', 3, 'instructor'],
  ])('%s edited before the write: ConflictError role-changed naming it', async (_, at, roleId) => {
    member('u-bob', 'pilot');
    const reasons = [NONE, NONE, NONE, NONE];
    reasons[at] = roleAsSeen(['aircraft:read'], 9);
    mock.on(TransactWriteCommand).rejects(cancelled(...reasons));
    const error = await change('u-bob', 'instructor').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ reason: 'role-changed' });
    expect((error as Error).message).toContain(roleId);
    expect(directory.log).toEqual([]);
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

  // Was a bug: when the requested role equals the stored one no guarded write runs, so nothing
  // checked `members:update` — a `member` got 200 and made the function call Cognito for another user.
  it('the same role again still requires members:update', async () => {
    member('u-bob', 'member');
    await expect(change('u-bob', 'member', ctx('member'))).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      action: 'members:update',
      reason: 'no-match',
    });
    expect(directory.log).toEqual([]);
  });
});

describe('remove', () => {
  const remove = (userId: string, c = ctx()) => service().remove(c, userId);

  it('deletes the membership at the role read, decrements the pinned count and leaves a marker, with the pinned check', async () => {
    member('u-ann', 'pilot');
    await remove('u-ann');
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'manager', 'members:remove', 5),
        {
          Delete: {
            TableName: 'T',
            Key: { PK: 'CONTROL#acme', SK: 'USER#u-ann' },
            ConditionExpression: '#role = :from',
            ExpressionAttributeNames: { '#role': 'role' },
            ExpressionAttributeValues: { ':from': 'pilot' },
          },
        },
        countOn('pilot', -1, 2),
        putMarker('u-ann'),
      ],
    ]);
    // Not Ann's active tenant: out of the group, attributes untouched.
    expect(directory.log).toEqual(['findUser(u-ann)', 'removeFromGroup(u-ann,acme)']);
    // The table write came first; no separate enforce call was needed.
    expect(roles.asked).toEqual([]);
    // The cleanup done, the marker goes.
    expect(mock.commandCalls(DeleteCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: 'T', Key: { PK: 'CONTROL#acme', SK: 'REMOVED#u-ann' } },
    ]);
    expect(items.has('REMOVED#u-ann')).toBe(false);
    expect(items.has('USER#u-ann')).toBe(false);
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

  it('an admin removing an admin: the admin count guards the last admin (merged with the check)', async () => {
    member('u-ann', 'admin');
    await remove('u-ann', ctx('admin'));
    const [tx] = transactions();
    expect(tx).toHaveLength(3);
    expect(tx?.[1]?.Update?.Key).toEqual({ PK: 'CONTROL#acme', SK: 'ROLE#admin' });
    expect(tx?.[1]?.Update?.ConditionExpression).toMatch(
      /^\(attribute_exists\(PK\) AND assigned > :one\) AND \(/,
    );
    expect(tx?.[2]).toEqual(putMarker('u-ann'));
  });

  it('the last admin: ConflictError last-admin, no Cognito call, no marker', async () => {
    member('u-ann', 'admin');
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, failed({ allow: L('*'), deny: L(), assigned: N(1) }), NONE));
    await expect(remove('u-ann', ctx('admin'))).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'last-admin',
    });
    expect(directory.log).toEqual([]);
    expect(items.has('REMOVED#u-ann')).toBe(false);
  });

  it('the last admin removing themself (merged write): last-admin', async () => {
    member('caller', 'admin');
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, failed({ allow: L('*'), deny: L(), assigned: { N: '1' } }), NONE));
    await expect(remove('caller', ctx('admin'))).rejects.toMatchObject({ reason: 'last-admin' });
    expect(transactions()[0]).toHaveLength(3);
  });

  it('changed meanwhile: ConflictError stale-version', async () => {
    member('u-ann', 'pilot');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE, NONE));
    await expect(remove('u-ann')).rejects.toMatchObject({ reason: 'stale-version' });
    expect(directory.log).toEqual([]);
  });

  it("the member's role edited before the write: ConflictError role-changed", async () => {
    member('u-ann', 'pilot');
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, NONE, roleAsSeen(['aircraft:read'], 7), NONE));
    await expect(remove('u-ann')).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'role-changed',
    });
    expect(directory.log).toEqual([]);
  });

  it('permission denied: PermissionDeniedError, no Cognito call', async () => {
    member('u-ann', 'pilot');
    mock.on(TransactWriteCommand).rejects(cancelled(failed(), NONE, NONE, NONE));
    await expect(remove('u-ann')).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      reason: 'unknown-role',
    });
    expect(directory.log).toEqual([]);
  });

  it('a Cognito failure after the delete surfaces, the marker stays; the retry completes the cleanup; then 404', async () => {
    member('u-bob', 'pilot');
    const error = Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' });
    directory.failOnce('removeFromGroup', error);
    await expect(remove('u-bob')).rejects.toBe(error);
    expect(directory.log).toEqual(['findUser(u-bob)', 'removeFromGroup(u-bob,acme)']);
    // The membership is gone from the table (the write committed); its marker is there.
    expect(items.has('USER#u-bob')).toBe(false);
    expect(items.get('REMOVED#u-bob')).toMatchObject({ type: 'removal', userId: 'u-bob' });
    directory.log.length = 0;

    await expect(remove('u-bob')).resolves.toBeUndefined();
    // The retry is a removal too: members:remove is asked, since no guarded write runs.
    expect(roles.asked).toEqual(['members:remove']);
    expect(directory.log).toEqual([
      'findUser(u-bob)',
      'removeFromGroup(u-bob,acme)',
      'clearActiveTenant(u-bob)',
    ]);
    expect(items.has('REMOVED#u-bob')).toBe(false);
    expect(transactions()).toHaveLength(1);

    // Done: a third call finds neither membership nor marker.
    directory.log.length = 0;
    const third = await remove('u-bob').catch((e: unknown) => e);
    expect(third).toBeInstanceOf(NotFoundError);
    expect(third).toMatchObject({ kind: 'member' });
    expect(directory.log).toEqual([]);
    expect(roles.asked).toEqual(['members:remove']);
  });

  it('a marker without members:remove: PermissionDeniedError, no Cognito call, the marker stays', async () => {
    removalMarker('u-bob');
    roles.allowed.clear();
    await expect(remove('u-bob')).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      action: 'members:remove',
    });
    expect(directory.log).toEqual([]);
    expect(transactions()).toHaveLength(0);
    expect(items.has('REMOVED#u-bob')).toBe(true);
  });

  it('neither membership nor marker: NotFoundError, no Cognito call, nothing asked', async () => {
    roles.allowed.clear();
    await expect(remove('u-bob')).rejects.toBeInstanceOf(NotFoundError);
    // A user of the pool who is not a member: never reaches Cognito either.
    roles.allowed.add('members:remove');
    await expect(remove('u-nobody')).rejects.toBeInstanceOf(NotFoundError);
    expect(directory.log).toEqual([]);
    expect(roles.asked).toEqual([]);
    expect(transactions()).toHaveLength(0);
  });

  it.each([
    ['an email', 'bob@example.com'],
    ['a 2,000-character id', 'u'.repeat(2000)],
    ['a key part', 'u-bob#x'],
  ])('%s in the path: NotFoundError with no call at all', async (_, userId) => {
    // Even where an item with that key part would exist.
    member(userId, 'pilot');
    removalMarker(userId);
    const error = await remove(userId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'member' });
    expect((error as Error).message).toBe(`no member ${userId.slice(0, 64)} in this tenant`);
    expect(mock.calls()).toHaveLength(0);
    expect(directory.log).toEqual([]);
    expect(roles.asked).toEqual([]);
  });

  it('a new invitation of a removed user drops the marker in its transaction', async () => {
    removalMarker('u-ann');
    await service().invite(ctx(), { email: 'ann@example.com', role: 'pilot' });
    expect(transactions()[0]?.[3]).toEqual(dropMarker('u-ann'));
    expect(items.has('REMOVED#u-ann')).toBe(false);
    // A late retry of the removal now finds a membership: it is a new removal, not a cleanup.
    expect(items.get('USER#u-ann')).toMatchObject({ role: 'pilot' });
  });
});

describe('no one grants more than they hold (anyone but an admin)', () => {
  /** A RightsExceededError (a 403), with nothing written and nothing asked of Cognito. */
  const exceeds = async (promise: Promise<unknown>) => {
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RightsExceededError);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(transactions()).toHaveLength(0);
    expect(directory.log).toEqual([]);
    return error as RightsExceededError;
  };
  /** A PermissionDeniedError with `reason`, with nothing written and nothing asked of Cognito. */
  const refused = async (promise: Promise<unknown>, action: string, reason: string) => {
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).not.toBeInstanceOf(RightsExceededError);
    expect(error).toMatchObject({ action, reason });
    expect(transactions()).toHaveLength(0);
    expect(directory.log).toEqual([]);
  };

  describe('invite', () => {
    it('a role beyond the inviter: RightsExceededError with the uncovered pattern', async () => {
      const error = await exceeds(
        service().invite(ctx(), { email: 'ann@example.com', role: 'auditor' }),
      );
      expect(error).toMatchObject({
        name: 'RightsExceededError',
        action: 'members:invite',
        reason: 'exceeds-own-role',
        roleId: 'auditor',
        pattern: 'billing:*',
        example: 'billing:x0',
        gap: 'not-granted',
      });
      expect(error.matched).toBeUndefined();
    });

    it("a role that reaches what the inviter's role denies: gap denied, matched", async () => {
      storeRole('ops', ['*'], ['billing:*'], 2);
      storeRole('clerk', ['billing:read', 'aircraft:read']);
      const error = await exceeds(
        service().invite(ctx('ops'), { email: 'ann@example.com', role: 'clerk' }),
      );
      expect(error).toMatchObject({
        action: 'members:invite',
        reason: 'exceeds-own-role',
        roleId: 'clerk',
        pattern: 'billing:read',
        example: 'billing:read',
        gap: 'denied',
        matched: 'billing:*',
      });
    });

    it('a delegate holding members:* cannot hand out a role with `*`', async () => {
      storeRole('root', ['*']);
      const error = await exceeds(
        service().invite(ctx(), { email: 'ann@example.com', role: 'root' }),
      );
      expect(error).toMatchObject({ roleId: 'root', pattern: '*', gap: 'not-granted' });
    });

    it('admin only: even a holder of `*` who is not admin cannot make an admin', async () => {
      storeRole('ops', ['*'], [], 2);
      await refused(
        service().invite(ctx('ops'), { email: 'ann@example.com', role: 'admin' }),
        'members:invite',
        'admin-only',
      );
    });
  });

  describe('changeRole: both ends', () => {
    it('from a role beyond the caller (taking it away is as much beyond them)', async () => {
      member('u-bob', 'auditor');
      const error = await exceeds(service().changeRole(ctx(), 'u-bob', { role: 'pilot' }));
      expect(error).toMatchObject({
        action: 'members:update',
        reason: 'exceeds-own-role',
        roleId: 'auditor',
        pattern: 'billing:*',
        example: 'billing:x0',
        gap: 'not-granted',
      });
    });

    it('to a role beyond the caller', async () => {
      member('u-bob', 'pilot');
      const error = await exceeds(service().changeRole(ctx(), 'u-bob', { role: 'auditor' }));
      expect(error).toMatchObject({ action: 'members:update', roleId: 'auditor' });
    });

    it('admin only: to admin, and from admin, even for a holder of `*`', async () => {
      storeRole('ops', ['*'], [], 2);
      member('u-bob', 'pilot');
      await refused(
        service().changeRole(ctx('ops'), 'u-bob', { role: 'admin' }),
        'members:update',
        'admin-only',
      );
      member('u-ann', 'admin');
      await refused(
        service().changeRole(ctx('ops'), 'u-ann', { role: 'member' }),
        'members:update',
        'admin-only',
      );
    });

    it('own role: nobody but an admin changes their own, refused before any read', async () => {
      member('caller', 'manager');
      await refused(
        service().changeRole(ctx('manager', 'caller'), 'caller', { role: 'pilot' }),
        'members:update',
        'own-role',
      );
      expect(mock.calls()).toHaveLength(0);
    });
  });

  describe('remove', () => {
    it('a member whose role is beyond the caller', async () => {
      member('u-ann', 'auditor');
      const error = await exceeds(service().remove(ctx(), 'u-ann'));
      expect(error).toMatchObject({
        action: 'members:remove',
        reason: 'exceeds-own-role',
        roleId: 'auditor',
        pattern: 'billing:*',
        gap: 'not-granted',
      });
      expect(items.has('USER#u-ann')).toBe(true);
      expect(items.has('REMOVED#u-ann')).toBe(false);
    });

    it('admin only: an admin member, even for a holder of `*`', async () => {
      storeRole('ops', ['*'], [], 2);
      member('u-ann', 'admin');
      await refused(service().remove(ctx('ops'), 'u-ann'), 'members:remove', 'admin-only');
    });
  });
});

// Each test below kills a mutant that survived `npm run mutate tenants` on main: a decision, an error
// type or a cause that no earlier test pinned down.
describe('what a mutation run on main found untested', () => {
  it('a member listed without email or joinedAt has no such keys (not undefined ones)', async () => {
    mock.on(QueryCommand).resolves({ Items: [{ userId: 'u-bob', role: 'pilot' }] });
    const [listed] = await service().list(ctx());
    expect(Object.keys(listed ?? {})).toEqual(['userId', 'role']);
  });

  it('options that are not an object at all: TenantsConfigError listing everything, not a TypeError', () => {
    for (const options of [undefined, { directory: null, roles: null }]) {
      const error = thrown(() => createMembersService(options as never));
      expect(error).toBeInstanceOf(TenantsConfigError);
      expect((error as TenantsConfigError).issues).toContain('directory must be a UserDirectory');
      expect((error as TenantsConfigError).issues).toContain('roles must be a RoleAuthorizer');
    }
  });

  it('an admin invite carries no :version value at all (the document client refuses undefined ones)', async () => {
    await service().invite(ctx('admin'), { email: 'ann@example.com', role: 'auditor' });
    const count = transactions()[0]?.[2]?.Update;
    expect(Object.keys(count?.ExpressionAttributeValues ?? {})).toEqual([':zero', ':delta']);
  });

  it('a role item that fails validation answers 403 invalid-role naming the operation asked', async () => {
    member('u-bob', 'pilot');
    member('u-ann', 'instructor');
    items.set('ROLE#pilot', { ...items.get('ROLE#pilot'), allow: 'aircraft:read' });
    const cases: [string, () => Promise<unknown>][] = [
      [
        'members:invite',
        () => service().invite(ctx(), { email: 'ann@example.com', role: 'pilot' }),
      ],
      ['members:update', () => service().changeRole(ctx(), 'u-bob', { role: 'instructor' })],
      ['members:remove', () => service().remove(ctx(), 'u-bob')],
      // The corrupt role as the target of a change.
      ['members:update', () => service().changeRole(ctx(), 'u-ann', { role: 'pilot' })],
    ];
    for (const [action, call] of cases) {
      await expect(call()).rejects.toMatchObject({
        name: 'PermissionDeniedError',
        action,
        reason: 'invalid-role',
      });
    }
    // And the caller's own role, read for the same reason.
    storeRole('pilot', ['aircraft:read', 'aircraft:list'], [], 2);
    items.set('ROLE#manager', { ...items.get('ROLE#manager'), deny: 7 });
    for (const [action, call] of cases) {
      await expect(call()).rejects.toMatchObject({ action, reason: 'invalid-role' });
    }
    expect(transactions()).toHaveLength(0);
  });

  it('the role deleted before the write keeps the cancelled write as its cause', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, NONE, failed(), NONE));
    const error = await service()
      .invite(ctx(), { email: 'ann@example.com', role: 'pilot' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoleNotFoundError);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('last-admin and stale-version keep the cancelled write as their cause, with a message', async () => {
    member('u-ann', 'admin');
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, failed({ allow: L('*'), deny: L(), assigned: N(1) }), NONE));
    const lastAdmin = await service()
      .remove(ctx('admin'), 'u-ann')
      .catch((e: unknown) => e);
    expect(lastAdmin).toMatchObject({ name: 'ConflictError', reason: 'last-admin' });
    expect((lastAdmin as Error).message).toMatch(/admin/);
    expect((lastAdmin as Error).cause).toBeInstanceOf(Error);

    member('u-bob', 'pilot');
    for (const call of [
      () => service().remove(ctx(), 'u-bob'),
      () => service().changeRole(ctx(), 'u-bob', { role: 'instructor' }),
    ]) {
      mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE, NONE));
      const stale = await call().catch((e: unknown) => e);
      expect(stale).toMatchObject({ name: 'ConflictError', reason: 'stale-version' });
      expect((stale as Error).message).toMatch(/changed meanwhile/);
      expect((stale as Error).cause).toBeInstanceOf(Error);
    }
  });

  it('a membership refused as already there but gone on the re-read is already-member, not a TypeError', async () => {
    // The Put's condition failed, then a concurrent removal took the membership before the re-read.
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed(), NONE, NONE));
    const error = await service()
      .invite(ctx(), { email: 'ann@example.com', role: 'pilot' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ reason: 'already-member' });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(directory.log).toEqual(['findUser(ann@example.com)']);
  });

  it('a member whose role item is gone: change and remove answer RoleNotFoundError, not a TypeError', async () => {
    member('u-bob', 'retired');
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, NONE, failed(), NONE));
    await expect(service().remove(ctx(), 'u-bob')).rejects.toBeInstanceOf(RoleNotFoundError);
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, NONE, failed(), NONE, NONE));
    await expect(
      service().changeRole(ctx(), 'u-bob', { role: 'instructor' }),
    ).rejects.toBeInstanceOf(RoleNotFoundError);
    // Nothing of a missing role can be pinned.
    for (const tx of transactions())
      expect(tx[2]?.Update?.ConditionExpression).toBe('attribute_exists(PK)');
  });

  it.each([
    ['a member working in another tenant keeps that active tenant', 'beta', 'pilot'],
    [
      'attributes that already carry the new role (a retry) are not written again',
      'acme',
      'instructor',
    ],
  ])('a role change: %s', async (_, activeTenantId, role) => {
    directory = fakeDirectory([
      { userId: 'u-carol', email: 'carol@example.com', activeTenantId, role },
    ]);
    member('u-carol', 'pilot');
    await service().changeRole(ctx(), 'u-carol', { role: 'instructor' });
    expect(directory.log).toEqual(['findUser(u-carol)']);
  });

  it('a removed member already deleted from the user pool: no Cognito write, the marker still goes', async () => {
    member('u-gone', 'pilot');
    await service().remove(ctx(), 'u-gone');
    expect(directory.log).toEqual(['findUser(u-gone)']);
    expect(items.has('REMOVED#u-gone')).toBe(false);
    expect(items.has('USER#u-gone')).toBe(false);
  });
});

describe('what the second mutation run on main found untested', () => {
  it('a role given as a number (which the pattern would read as "5") is a 400, with no call', async () => {
    storeRole('5', ['aircraft:read']);
    member('u-bob', 'pilot');
    for (const call of [
      () => service().changeRole(ctx(), 'u-bob', { role: 5 }),
      () => service().invite(ctx(), { email: 'ann@example.com', role: 5 }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues).toEqual([
        { field: 'role', message: expect.stringContaining('must match') },
      ]);
    }
    expect(mock.calls()).toHaveLength(0);
  });

  it('a role change for a member already deleted from the user pool succeeds, with no Cognito write', async () => {
    member('u-gone', 'pilot');
    await expect(
      service().changeRole(ctx(), 'u-gone', { role: 'instructor' }),
    ).resolves.toMatchObject({ userId: 'u-gone', role: 'instructor' });
    expect(directory.log).toEqual(['findUser(u-gone)']);
  });
});
