import {
  type CancellationReason,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  createTenantService,
  InvalidInputError,
  MAX_REFRESH_TOKEN_LENGTH,
  MAX_TENANT_NAME_LENGTH,
  NotFoundError,
  RefreshTokenError,
  TenantAccessError,
  type TenantServiceOptions,
  TenantsConfigError,
  type Tokens,
  type UserDirectory,
} from '../../tenants/index.js';
import { unsignedJwt } from '../fixtures/keys.js';

// ---------------------------------------------------------------------------------------------
// A fake user directory: in memory, every call logged (shared with the table's log, so the order
// across DynamoDB and Cognito is visible), any method can be made to fail once.
// ---------------------------------------------------------------------------------------------

type Method = keyof UserDirectory;

interface FakeDirectory extends UserDirectory {
  readonly groups: Map<string, Set<string>>;
  readonly attributes: Map<string, { tenantId: string; role: string }>;
  failOnce(method: Method, error: unknown): void;
  /** The `sub` the next refresh's ID token carries (default: the caller). */
  refreshSubject: string | undefined;
  /** The `cognito:groups` refreshed ID tokens carry (Cognito's view, not the token the caller holds). */
  refreshGroups: string[] | undefined;
}

function fakeDirectory(log: string[]): FakeDirectory {
  const failures = new Map<Method, unknown>();
  const groups = new Map<string, Set<string>>();
  const attributes = new Map<string, { tenantId: string; role: string }>();
  const step = (method: Method, detail: string) => {
    log.push(`${method}(${detail})`);
    if (failures.has(method)) {
      const error = failures.get(method);
      failures.delete(method);
      throw error;
    }
  };
  const directory: FakeDirectory = {
    groups,
    attributes,
    refreshSubject: undefined,
    refreshGroups: undefined,
    failOnce(method, error) {
      failures.set(method, error);
    },
    async ensureGroup(tenantId) {
      step('ensureGroup', tenantId);
      if (!groups.has(tenantId)) groups.set(tenantId, new Set());
    },
    async addToGroup(userId, tenantId) {
      step('addToGroup', `${userId},${tenantId}`);
      const group = groups.get(tenantId);
      if (!group) throw Object.assign(new Error('no group'), { name: 'ResourceNotFoundException' });
      group.add(userId);
    },
    async removeFromGroup(userId, tenantId) {
      step('removeFromGroup', `${userId},${tenantId}`);
      groups.get(tenantId)?.delete(userId);
    },
    async setActiveTenant(userId, tenantId, role) {
      step('setActiveTenant', `${userId},${tenantId},${role}`);
      attributes.set(userId, { tenantId, role });
    },
    async clearActiveTenant(userId) {
      step('clearActiveTenant', userId);
      attributes.delete(userId);
    },
    async findUser(usernameOrEmail) {
      step('findUser', usernameOrEmail);
      return undefined;
    },
    async refresh(refreshToken) {
      step('refresh', refreshToken);
      const sub = directory.refreshSubject ?? 'u1';
      const groups = directory.refreshGroups;
      return {
        idToken: unsignedJwt(
          { sub, token_use: 'id', ...(groups === undefined ? {} : { 'cognito:groups': groups }) },
          'k',
        ),
        accessToken: 'access',
        expiresIn: 3600,
      } satisfies Tokens;
    },
  };
  return directory;
}

// ---------------------------------------------------------------------------------------------
// A small in-memory table behind aws-sdk-client-mock: just enough of Get and TransactWriteItems
// (the expressions tenant-service.ts sends) that a retry sees what the failed call left behind.
// ---------------------------------------------------------------------------------------------

type Item = Record<string, unknown>;
const keyOf = (k: Item) => `${String(k.PK)}|${String(k.SK)}`;

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);

const cancelled = (reasons: CancellationReason[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons
      .map((r) => r.Code)
      .join(', ')}]`,
    $metadata: {},
    CancellationReasons: reasons,
  });

function fakeTable(log: string[]) {
  const items = new Map<string, Item>();
  /** Transactions that reached the table (committed or cancelled by a condition). */
  const transactions: NonNullable<TransactWriteCommandInput['TransactItems']>[] = [];
  const failures = new Map<'create' | 'finalize', unknown>();

  const kind = (tx: NonNullable<TransactWriteCommandInput['TransactItems']>) =>
    tx.some((t) => t.Put?.Item?.type === 'tenant') ? 'create' : 'finalize';

  let staleReads = 0;
  mock.on(GetCommand).callsFake((input: { Key: Item }) => {
    if (staleReads > 0) {
      staleReads--;
      return { Item: undefined };
    }
    const item = items.get(keyOf(input.Key));
    return { Item: item === undefined ? undefined : structuredClone(item) };
  });

  mock
    .on(TransactWriteCommand)
    .callsFake(
      (input: { TransactItems: NonNullable<TransactWriteCommandInput['TransactItems']> }) => {
        const tx = input.TransactItems;
        log.push(`transact:${kind(tx)}`);
        if (failures.has(kind(tx))) {
          const error = failures.get(kind(tx));
          failures.delete(kind(tx));
          throw error;
        }
        transactions.push(structuredClone(tx));
        // Evaluate every condition first: all or nothing.
        const reasons: CancellationReason[] = tx.map((t) => {
          const body = t.Put ?? t.Update;
          const key = (t.Put?.Item ?? t.Update?.Key) as Item;
          const existing = items.get(keyOf(key));
          const condition = body?.ConditionExpression;
          let ok = true;
          if (condition === 'attribute_not_exists(PK)') ok = existing === undefined;
          else if (condition === 'attribute_exists(PK)') ok = existing !== undefined;
          else if (condition === 'attribute_not_exists(pendingTenant)')
            ok = existing?.pendingTenant === undefined;
          else if (condition === 'attribute_not_exists(pendingTenant) OR pendingTenant = :stale')
            ok =
              existing?.pendingTenant === undefined ||
              existing.pendingTenant === t.Update?.ExpressionAttributeValues?.[':stale'];
          else if (condition !== undefined) throw new Error(`fake table: unknown ${condition}`);
          return { Code: ok ? 'None' : 'ConditionalCheckFailed' };
        });
        if (reasons.some((r) => r.Code !== 'None')) throw cancelled(reasons);
        for (const t of tx) {
          if (t.Put) items.set(keyOf(t.Put.Item as Item), structuredClone(t.Put.Item as Item));
          if (t.Update) {
            const k = t.Update.Key as Item;
            const item = items.get(keyOf(k)) ?? { PK: k.PK, SK: k.SK };
            const expr = t.Update.UpdateExpression;
            if (expr === 'SET pendingTenant = :t')
              item.pendingTenant = t.Update.ExpressionAttributeValues?.[':t'];
            else if (expr === 'SET #status = :active') item.status = 'active';
            else if (expr === 'REMOVE pendingTenant') delete item.pendingTenant;
            else throw new Error(`fake table: unknown ${expr}`);
            items.set(keyOf(k), item);
          }
        }
        return {};
      },
    );

  return {
    items,
    transactions,
    creations: () => transactions.filter((tx) => kind(tx) === 'create'),
    /** The next transaction of this kind fails before reaching the table (throttling, network). */
    failOnce(kind: 'create' | 'finalize', error: unknown) {
      failures.set(kind, error);
    },
    get: (PK: string, SK: string) => items.get(keyOf({ PK, SK })),
    /** The next read sees nothing: it raced a concurrent call's write. */
    staleReadOnce() {
      staleReads++;
    },
  };
}

const NOW = Date.UTC(2026, 4, 6, 7, 8, 9);
const AT = '2026-05-06T07:08:09.000Z';

let log: string[];
let directory: FakeDirectory;
let table: ReturnType<typeof fakeTable>;
let ids: string[];

beforeEach(() => {
  mock.reset();
  log = [];
  directory = fakeDirectory(log);
  table = fakeTable(log);
  ids = ['t-first', 't-second', 't-third'];
});

const service = (options: Partial<TenantServiceOptions> = {}) =>
  createTenantService({
    client: ddb,
    tableName: 'T',
    directory,
    now: () => NOW,
    newTenantId: () => ids.shift() ?? 'exhausted',
    ...options,
  });

const create = (s = service(), name: unknown = 'Acme Flight School') =>
  s.createTenant({ userId: 'u1', name, refreshToken: 'rt' });

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });

/** The state of a completed creation of `tenantId` for u1. */
function expectComplete(tenantId: string) {
  expect(table.get(`CONTROL#${tenantId}`, 'TENANT')?.status).toBe('active');
  expect(table.get('USER#u1', 'PROFILE')?.pendingTenant).toBeUndefined();
  expect(directory.groups.get(tenantId)?.has('u1')).toBe(true);
  expect(directory.attributes.get('u1')).toEqual({ tenantId, role: 'admin' });
}

describe('createTenantService options', () => {
  it('lists every problem at once', () => {
    const error = (() => {
      try {
        createTenantService({ client: {}, tableName: '', directory: {} } as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TenantsConfigError);
    expect((error as TenantsConfigError).issues).toEqual([
      'client must be a DynamoDB client',
      'tableName must be a non-empty string',
      'directory must be a UserDirectory',
    ]);
  });
});

describe('createTenant', () => {
  it('writes tenant, admin membership, built-in roles and the marker in ONE transaction', async () => {
    await create();
    expect(table.creations()).toHaveLength(1);
    const tx = table.creations()[0] ?? [];
    expect(tx).toHaveLength(5);
    expect(tx[0]).toEqual({
      Put: {
        TableName: 'T',
        Item: {
          PK: 'CONTROL#t-first',
          SK: 'TENANT',
          type: 'tenant',
          tenantId: 't-first',
          name: 'Acme Flight School',
          createdBy: 'u1',
          createdAt: AT,
          status: 'creating',
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    });
    expect(tx[1]).toEqual({
      Put: {
        TableName: 'T',
        Item: {
          PK: 'CONTROL#t-first',
          SK: 'USER#u1',
          GSI1PK: 'USER#u1',
          GSI1SK: 'CONTROL#t-first',
          type: 'membership',
          tenantId: 't-first',
          userId: 'u1',
          role: 'admin',
          tenantName: 'Acme Flight School',
          joinedAt: AT,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    });
    const roles = tx.slice(2, 4).map((t) => t.Put);
    expect(roles.map((p) => p?.ConditionExpression)).toEqual([
      'attribute_not_exists(PK)',
      'attribute_not_exists(PK)',
    ]);
    expect(roles.map((p) => p?.Item)).toEqual([
      expect.objectContaining({
        PK: 'CONTROL#t-first',
        SK: 'ROLE#admin',
        roleId: 'admin',
        allow: ['*'],
        deny: [],
        version: 1,
        assigned: 1,
      }),
      expect.objectContaining({
        PK: 'CONTROL#t-first',
        SK: 'ROLE#member',
        roleId: 'member',
        version: 1,
        assigned: 0,
      }),
    ]);
    expect(tx[4]).toEqual({
      Update: {
        TableName: 'T',
        Key: { PK: 'USER#u1', SK: 'PROFILE' },
        UpdateExpression: 'SET pendingTenant = :t',
        ConditionExpression: 'attribute_not_exists(pendingTenant)',
        ExpressionAttributeValues: { ':t': 't-first' },
      },
    });
  });

  it('then group, add, attributes, refresh, finalize — in that order — and returns tokens', async () => {
    const result = await create();
    expect(log).toEqual([
      'transact:create',
      'ensureGroup(t-first)',
      'addToGroup(u1,t-first)',
      'setActiveTenant(u1,t-first,admin)',
      'refresh(rt)',
      'transact:finalize',
    ]);
    expect(result).toEqual({
      tenant: { tenantId: 't-first', name: 'Acme Flight School' },
      resumed: false,
      tokens: { idToken: expect.any(String), accessToken: 'access', expiresIn: 3600 },
    });
    const finalize = table.transactions[1] ?? [];
    expect(finalize).toEqual([
      {
        Update: {
          TableName: 'T',
          Key: { PK: 'CONTROL#t-first', SK: 'TENANT' },
          UpdateExpression: 'SET #status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'active' },
          ConditionExpression: 'attribute_exists(PK)',
        },
      },
      {
        Update: {
          TableName: 'T',
          Key: { PK: 'USER#u1', SK: 'PROFILE' },
          UpdateExpression: 'REMOVE pendingTenant',
        },
      },
    ]);
    expectComplete('t-first');
  });

  it('reads the profile marker consistently before deciding', async () => {
    await create();
    const first = mock.commandCalls(GetCommand)[0]?.args[0].input;
    expect(first).toEqual({
      TableName: 'T',
      Key: { PK: 'USER#u1', SK: 'PROFILE' },
      ConsistentRead: true,
    });
  });

  it('stores the trimmed name', async () => {
    const result = await create(service(), '  Acme  ');
    expect(result.tenant.name).toBe('Acme');
    expect(table.get('CONTROL#t-first', 'TENANT')?.name).toBe('Acme');
  });

  it('without a refresh token completes and returns no tokens (no refresh call)', async () => {
    const result = await service().createTenant({ userId: 'u1', name: 'Acme' });
    expect(result).toEqual({ tenant: { tenantId: 't-first', name: 'Acme' }, resumed: false });
    expect(log).not.toContain('refresh(rt)');
    expect(log.some((l) => l.startsWith('refresh'))).toBe(false);
    expectComplete('t-first');
  });

  it('a second tenant for the same user is a fresh creation once the first completed', async () => {
    const s = service();
    await create(s, 'One');
    const second = await create(s, 'Two');
    expect(second).toMatchObject({ tenant: { tenantId: 't-second', name: 'Two' }, resumed: false });
    expect(table.creations()).toHaveLength(2);
    expectComplete('t-second');
  });

  describe('failure points: the error as documented, and a retry completes the same tenant', () => {
    const steps = [
      'transact:create',
      'ensureGroup(t-first)',
      'addToGroup(u1,t-first)',
      'setActiveTenant(u1,t-first,admin)',
      'refresh(rt)',
      'transact:finalize',
    ];
    const points = [
      { point: 'ensureGroup', at: 1, arm: (e: unknown) => directory.failOnce('ensureGroup', e) },
      { point: 'addToGroup', at: 2, arm: (e: unknown) => directory.failOnce('addToGroup', e) },
      {
        point: 'setActiveTenant',
        at: 3,
        arm: (e: unknown) => directory.failOnce('setActiveTenant', e),
      },
      // A passing refresh failure (throttling, a 5xx) comes before the marker is removed.
      {
        point: 'refresh (throttled)',
        at: 4,
        arm: (e: unknown) => directory.failOnce('refresh', e),
      },
      { point: 'finalize', at: 5, arm: (e: unknown) => table.failOnce('finalize', e) },
    ];

    it('transaction (transient): error surfaces, nothing written, nothing in Cognito; a retry starts clean', async () => {
      const s = service();
      const error = throttled();
      table.failOnce('create', error);
      await expect(create(s)).rejects.toBe(error);
      expect(log).toEqual(['transact:create']);
      expect(table.items.size).toBe(0);
      expect(directory.groups.size).toBe(0);
      // All or nothing: no marker, so the retry is a creation of its own, and completes.
      const retry = await create(s);
      expect(retry).toMatchObject({ tenant: { tenantId: 't-second' }, resumed: false });
      expect(table.creations()).toHaveLength(1);
      expectComplete('t-second');
    });

    it.each(points)(
      '$point fails: its error surfaces, the marker stays; a retry RESUMES t-first',
      async ({ at, arm }) => {
        const s = service();
        const error = throttled();
        arm(error);
        await expect(create(s)).rejects.toBe(error);
        expect(log).toEqual(steps.slice(0, at + 1));
        expect(table.get('USER#u1', 'PROFILE')?.pendingTenant).toBe('t-first');
        expect(table.get('CONTROL#t-first', 'TENANT')?.status).toBe('creating');
        // What the user can reach meanwhile: the membership is written, so the tenant is listed.
        expect(table.get('CONTROL#t-first', 'USER#u1')?.role).toBe('admin');

        log.length = 0;
        const retry = await create(s, 'Another Name');
        expect(retry).toEqual({
          // The tenant the first call began, under its name: the retry finishes it.
          tenant: { tenantId: 't-first', name: 'Acme Flight School' },
          resumed: true,
          tokens: expect.objectContaining({ accessToken: 'access' }),
        });
        // No second creation transaction; the idempotent steps run again from the group on.
        expect(table.creations()).toHaveLength(1);
        expect(log).toEqual(steps.slice(1));
        expectComplete('t-first');
        expect(ids).toEqual(['t-second', 't-third']);
      },
    );

    it('a retry with an invalid name is refused before anything is resumed (input first)', async () => {
      directory.failOnce('ensureGroup', throttled());
      await create().catch(() => undefined);
      await expect(create(service(), '')).rejects.toBeInstanceOf(InvalidInputError);
      expect(table.get('USER#u1', 'PROFILE')?.pendingTenant).toBe('t-first');
    });

    it('a concurrent call that missed the marker gets ConflictError already-exists; a retry resumes', async () => {
      const s = service();
      directory.failOnce('ensureGroup', throttled());
      await create(s).catch(() => undefined);
      // The second call's profile read raced the first call's transaction: it saw no marker.
      table.staleReadOnce();
      log.length = 0;
      const error = await create(s).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ reason: 'already-exists' });
      expect((error as Error).cause).toBeInstanceOf(TransactionCanceledException);
      expect(log).toEqual(['transact:create']);
      // The cancelled transaction wrote nothing of t-second.
      expect(table.get('CONTROL#t-second', 'TENANT')).toBeUndefined();
      const retry = await create(s);
      expect(retry).toMatchObject({ tenant: { tenantId: 't-first' }, resumed: true });
      expectComplete('t-first');
    });

    it('refresh refused (RefreshTokenError): the tenant is complete, the result has no tokens', async () => {
      directory.failOnce('refresh', new RefreshTokenError('the refresh token was refused'));
      const result = await create();
      expect(result).toEqual({
        tenant: { tenantId: 't-first', name: 'Acme Flight School' },
        resumed: false,
      });
      expect(log).toEqual(steps);
      expectComplete('t-first');
    });

    it('tokens of another user are refused: the result has no tokens', async () => {
      directory.refreshSubject = 'someone-else';
      const result = await create();
      expect(result).toEqual({
        tenant: { tenantId: 't-first', name: 'Acme Flight School' },
        resumed: false,
      });
      expect(result.tokens).toBeUndefined();
      expectComplete('t-first');
    });

    // Found by this suite: the marker used to go before the refresh, so a throttled refresh followed
    // by the client's retry created a second tenant. The refresh now precedes the finalize.
    it('refresh fails transiently: a retry resumes t-first instead of creating a second tenant', async () => {
      const s = service();
      directory.failOnce('refresh', throttled());
      await create(s).catch(() => undefined);
      const retry = await create(s);
      expect(retry.tenant.tenantId).toBe('t-first');
      expect(table.creations()).toHaveLength(1);
    });
  });

  describe('resumes only its own unfinished tenant; any other marker is replaced', () => {
    const marker = (pendingTenant: string) =>
      table.items.set('USER#u1|PROFILE', { PK: 'USER#u1', SK: 'PROFILE', pendingTenant });
    const tenantItem = (tenantId: string, item: Record<string, unknown>) =>
      table.items.set(`CONTROL#${tenantId}|TENANT`, {
        PK: `CONTROL#${tenantId}`,
        SK: 'TENANT',
        tenantId,
        name: `Tenant ${tenantId}`,
        ...item,
      });

    /** A new tenant was created and completed; the stale marker was replaced in its transaction. */
    const expectFreshCreation = (result: Awaited<ReturnType<typeof create>>, stale: string) => {
      expect(result).toMatchObject({
        tenant: { tenantId: 't-first', name: 'Acme Flight School' },
        resumed: false,
      });
      const [tx] = table.creations();
      expect(tx?.[4]).toEqual({
        Update: {
          TableName: 'T',
          Key: { PK: 'USER#u1', SK: 'PROFILE' },
          UpdateExpression: 'SET pendingTenant = :t',
          ConditionExpression: 'attribute_not_exists(pendingTenant) OR pendingTenant = :stale',
          ExpressionAttributeValues: { ':t': 't-first', ':stale': stale },
        },
      });
      expectComplete('t-first');
      // Nothing of the tenant the marker named was touched or handed over.
      expect(log.filter((l) => l.includes(stale))).toEqual([]);
      expect(directory.groups.has(stale)).toBe(false);
    };

    it("a marker naming another user's unfinished tenant: never handed over", async () => {
      marker('victim');
      tenantItem('victim', { type: 'tenant', createdBy: 'u2', status: 'creating' });
      expectFreshCreation(await create(), 'victim');
      expect(table.get('CONTROL#victim', 'TENANT')?.status).toBe('creating');
    });

    it('a marker naming its own tenant that is already active: a new tenant', async () => {
      marker('done');
      tenantItem('done', { type: 'tenant', createdBy: 'u1', status: 'active' });
      expectFreshCreation(await create(), 'done');
    });

    it.each([
      ['an item that is not a tenant', { type: 'role', createdBy: 'u1', status: 'creating' }],
      ['a tenant item without its type', { createdBy: 'u1', status: 'creating' }],
    ])('a marker naming %s: a new tenant', async (_, item) => {
      marker('odd');
      tenantItem('odd', item);
      expectFreshCreation(await create(), 'odd');
    });

    it('a marker naming nothing: a new tenant', async () => {
      marker('ghost');
      expectFreshCreation(await create(), 'ghost');
    });

    it('a marker that is not a tenant id is not even read: a new tenant', async () => {
      marker('a#b');
      expectFreshCreation(await create(), 'a#b');
      expect(mock.commandCalls(GetCommand).map((c) => c.args[0].input.Key)).toEqual([
        { PK: 'USER#u1', SK: 'PROFILE' },
      ]);
    });

    it('its own unfinished tenant is resumed (and read consistently)', async () => {
      marker('mine');
      tenantItem('mine', { type: 'tenant', createdBy: 'u1', status: 'creating', name: 'Mine' });
      await expect(create()).resolves.toMatchObject({
        tenant: { tenantId: 'mine', name: 'Mine' },
        resumed: true,
      });
      expect(table.creations()).toHaveLength(0);
      expect(mock.commandCalls(GetCommand)[1]?.args[0].input).toEqual({
        TableName: 'T',
        Key: { PK: 'CONTROL#mine', SK: 'TENANT' },
        ConsistentRead: true,
      });
      expectComplete('mine');
    });
  });

  describe('input validation (400 issues per field, nothing written)', () => {
    it.each([
      ['a number', 42, 'must be a string'],
      ['missing', undefined, 'must be a string'],
      ['empty', '', `must be 1 to ${MAX_TENANT_NAME_LENGTH} characters`],
      ['blank', '   ', `must be 1 to ${MAX_TENANT_NAME_LENGTH} characters`],
      [
        'too long',
        'x'.repeat(MAX_TENANT_NAME_LENGTH + 1),
        `must be 1 to ${MAX_TENANT_NAME_LENGTH} characters`,
      ],
    ])('name %s', async (_, name, message) => {
      const error = await service()
        .createTenant({ userId: 'u1', name, refreshToken: 'rt' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues).toEqual([{ field: 'name', message }]);
      expect(mock.calls()).toHaveLength(0);
      expect(log).toEqual([]);
    });

    it('accepts the longest name, and a longer one that trims to it', async () => {
      const name = 'x'.repeat(MAX_TENANT_NAME_LENGTH);
      await expect(create(service(), `  ${name}  `)).resolves.toMatchObject({ tenant: { name } });
    });

    it('lists the name and the refresh token together', async () => {
      const error = await service()
        .createTenant({ userId: 'u1', name: null, refreshToken: '' })
        .catch((e: unknown) => e);
      expect((error as InvalidInputError).issues).toEqual([
        { field: 'name', message: 'must be a string' },
        { field: 'refreshToken', message: 'must be a refresh token (at most 8192 characters)' },
      ]);
      expect(mock.calls()).toHaveLength(0);
    });

    it.each([
      ['a 300 KB refresh token', 'r'.repeat(300 * 1024)],
      ['characters no refresh token has', 'rt\u0000'],
    ])('refuses %s: InvalidInputError, with no call', async (_, refreshToken) => {
      const error = await service()
        .createTenant({ userId: 'u1', name: 'Acme', refreshToken })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues).toEqual([
        { field: 'refreshToken', message: 'must be a refresh token (at most 8192 characters)' },
      ]);
      expect(mock.calls()).toHaveLength(0);
      expect(log).toEqual([]);
    });

    it('refuses a newTenantId that gives an unsafe id, before writing', async () => {
      await expect(create(service({ newTenantId: () => 'a#b' }))).rejects.toBeInstanceOf(
        TenantsConfigError,
      );
      expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });

    it('the default tenant id is 12 URL-safe characters, new each time', async () => {
      const s = createTenantService({ client: ddb, tableName: 'T', directory });
      const a = await s.createTenant({ userId: 'u1', name: 'A' });
      const b = await s.createTenant({ userId: 'u1', name: 'B' });
      expect(a.tenant.tenantId).toMatch(/^[A-Za-z0-9_-]{12}$/);
      expect(b.tenant.tenantId).toMatch(/^[A-Za-z0-9_-]{12}$/);
      expect(a.tenant.tenantId).not.toBe(b.tenant.tenantId);
    });
  });
});

describe('switchTenant', () => {
  const membership = (tenantId: string, role: string) => {
    table.items.set(`CONTROL#${tenantId}|USER#u1`, {
      PK: `CONTROL#${tenantId}`,
      SK: 'USER#u1',
      tenantId,
      userId: 'u1',
      role,
    });
  };
  const role = (tenantId: string, roleId: string) => {
    table.items.set(`CONTROL#${tenantId}|ROLE#${roleId}`, {
      PK: `CONTROL#${tenantId}`,
      SK: `ROLE#${roleId}`,
      roleId,
    });
  };
  const switchTo = (tenantId: string, groups = ['acme', 'beta'], refreshToken = 'rt') =>
    service().switchTenant({ userId: 'u1', groups, tenantId, refreshToken });

  it('sets the membership role and returns refreshed tokens', async () => {
    membership('beta', 'pilot');
    role('beta', 'pilot');
    const result = await switchTo('beta');
    expect(result).toEqual({
      tenantId: 'beta',
      role: 'pilot',
      tokens: expect.objectContaining({ accessToken: 'access' }),
    });
    expect(log).toEqual(['setActiveTenant(u1,beta,pilot)', 'refresh(rt)']);
    expect(directory.attributes.get('u1')).toEqual({ tenantId: 'beta', role: 'pilot' });
    expect(mock.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: 'T', Key: { PK: 'CONTROL#beta', SK: 'USER#u1' }, ConsistentRead: true },
      { TableName: 'T', Key: { PK: 'CONTROL#beta', SK: 'ROLE#pilot' }, ConsistentRead: true },
    ]);
  });

  it("not in the caller's groups, nor in a fresh token's: TenantAccessError, with no DynamoDB call and no change", async () => {
    membership('gamma', 'admin');
    role('gamma', 'admin');
    directory.refreshGroups = ['acme', 'beta'];
    const error = await switchTo('gamma').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TenantAccessError);
    expect(error).toMatchObject({ reason: 'not-in-groups' });
    expect(mock.calls()).toHaveLength(0);
    // Cognito was asked for the user's current groups only; nothing was changed.
    expect(log).toEqual(['refresh(rt)']);
    expect(directory.attributes.size).toBe(0);
  });

  it('a fresh token without groups at all: TenantAccessError', async () => {
    membership('gamma', 'admin');
    role('gamma', 'admin');
    await expect(switchTo('gamma')).rejects.toMatchObject({
      name: 'TenantAccessError',
      reason: 'not-in-groups',
    });
    expect(mock.calls()).toHaveLength(0);
  });

  it('in the groups of the token held: no refresh before the switch', async () => {
    membership('beta', 'pilot');
    role('beta', 'pilot');
    await switchTo('beta');
    expect(log.filter((l) => l.startsWith('refresh'))).toEqual(['refresh(rt)']);
    expect(log[0]).toBe('setActiveTenant(u1,beta,pilot)');
  });

  it('invited a moment ago (the token held lacks the group): refreshes first, then switches at once', async () => {
    membership('gamma', 'pilot');
    role('gamma', 'pilot');
    directory.refreshGroups = ['acme', 'beta', 'gamma'];
    await expect(switchTo('gamma')).resolves.toMatchObject({ tenantId: 'gamma', role: 'pilot' });
    expect(log).toEqual(['refresh(rt)', 'setActiveTenant(u1,gamma,pilot)', 'refresh(rt)']);
    expect(directory.attributes.get('u1')).toEqual({ tenantId: 'gamma', role: 'pilot' });
  });

  it('a fresh token of another user never counts: RefreshTokenError, nothing changed', async () => {
    membership('gamma', 'pilot');
    role('gamma', 'pilot');
    directory.refreshSubject = 'u2';
    directory.refreshGroups = ['gamma'];
    await expect(switchTo('gamma')).rejects.toBeInstanceOf(RefreshTokenError);
    expect(mock.calls()).toHaveLength(0);
    expect(directory.attributes.size).toBe(0);
  });

  it('a refused refresh token while checking a fresh invitation: RefreshTokenError, nothing changed', async () => {
    directory.failOnce('refresh', new RefreshTokenError('refused'));
    await expect(switchTo('gamma')).rejects.toBeInstanceOf(RefreshTokenError);
    expect(mock.calls()).toHaveLength(0);
    expect(directory.attributes.size).toBe(0);
  });

  it('no membership item (removed meanwhile): NotFoundError member, attributes untouched', async () => {
    const error = await switchTo('beta').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'member' });
    expect(log).toEqual([]);
  });

  it('a membership whose role is gone: NotFoundError, attributes untouched', async () => {
    membership('beta', 'ghost');
    const error = await switchTo('beta').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain('ghost');
    expect(log).toEqual([]);
  });

  it('tokens of another user are refused with RefreshTokenError', async () => {
    membership('beta', 'pilot');
    role('beta', 'pilot');
    directory.refreshSubject = 'u2';
    await expect(switchTo('beta')).rejects.toBeInstanceOf(RefreshTokenError);
  });

  it('a refused refresh token surfaces as RefreshTokenError', async () => {
    membership('beta', 'pilot');
    role('beta', 'pilot');
    directory.failOnce('refresh', new RefreshTokenError('refused'));
    await expect(switchTo('beta')).rejects.toBeInstanceOf(RefreshTokenError);
  });

  it('a failing attribute update surfaces and no refresh is attempted', async () => {
    membership('beta', 'pilot');
    role('beta', 'pilot');
    const error = throttled();
    directory.failOnce('setActiveTenant', error);
    await expect(switchTo('beta')).rejects.toBe(error);
    expect(log).toEqual(['setActiveTenant(u1,beta,pilot)']);
  });

  it('validates the tenant id and the refresh token together, before anything else', async () => {
    const error = await switchTo('bad#id', ['bad#id'], '').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues.map((i) => i.field)).toEqual([
      'tenantId',
      'refreshToken',
    ]);
    expect(mock.calls()).toHaveLength(0);
    expect(log).toEqual([]);
  });

  it.each([undefined, 42, '', 'x'.repeat(65)])('refuses tenant id %j', async (tenantId) => {
    await expect(switchTo(tenantId as string)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it.each([
    ['a 300 KB refresh token', 'r'.repeat(300 * 1024)],
    ['one character over the limit', 'r'.repeat(MAX_REFRESH_TOKEN_LENGTH + 1)],
    ['characters no refresh token has', 'eyJ.abc def'],
    ['not a string', 42],
  ])('refuses %s: InvalidInputError, with no call', async (_, refreshToken) => {
    const error = await switchTo('beta', ['beta'], refreshToken as string).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toEqual([
      { field: 'refreshToken', message: 'must be a refresh token (at most 8192 characters)' },
    ]);
    expect(mock.calls()).toHaveLength(0);
    expect(log).toEqual([]);
  });

  it('accepts a refresh token of exactly the limit', async () => {
    membership('beta', 'pilot');
    role('beta', 'pilot');
    const refreshToken = 'r'.repeat(MAX_REFRESH_TOKEN_LENGTH);
    await expect(switchTo('beta', ['beta'], refreshToken)).resolves.toMatchObject({
      tenantId: 'beta',
    });
  });
});

/** A membership item of u1 as the control plane writes it (what GSI1 should hand back). */
const membershipOf = (tenantId: string, extra: Record<string, unknown> = {}) => ({
  PK: `CONTROL#${tenantId}`,
  SK: 'USER#u1',
  GSI1PK: 'USER#u1',
  GSI1SK: `CONTROL#${tenantId}`,
  type: 'membership',
  tenantId,
  userId: 'u1',
  ...extra,
});

describe('listTenants', () => {
  it('queries GSI1 for the user, across pages, and marks the active tenant', async () => {
    mock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          membershipOf('acme', { tenantName: 'Acme', role: 'admin' }),
          membershipOf('beta', { role: 'pilot' }),
        ],
        LastEvaluatedKey: {
          PK: 'CONTROL#beta',
          SK: 'USER#u1',
          GSI1PK: 'USER#u1',
          GSI1SK: 'CONTROL#beta',
        },
      })
      .resolvesOnce({ Items: [membershipOf('gamma', { tenantName: 'Gamma', role: 'member' })] });
    const tenants = await service().listTenants('u1', 'beta');
    expect(tenants).toEqual([
      { tenantId: 'acme', name: 'Acme', role: 'admin', active: false },
      // No stored name: the id stands in.
      { tenantId: 'beta', name: 'beta', role: 'pilot', active: true },
      { tenantId: 'gamma', name: 'Gamma', role: 'member', active: false },
    ]);
    const inputs = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toEqual({
      TableName: 'T',
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :u AND begins_with(GSI1SK, :t)',
      ExpressionAttributeValues: { ':u': 'USER#u1', ':t': 'CONTROL#' },
      ExclusiveStartKey: undefined,
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({
      PK: 'CONTROL#beta',
      SK: 'USER#u1',
      GSI1PK: 'USER#u1',
      GSI1SK: 'CONTROL#beta',
    });
  });

  it('a tenant-less caller has no active tenant; no items is an empty list', async () => {
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: [membershipOf('acme', { tenantName: 'Acme', role: 'admin' })] })
      .resolvesOnce({});
    await expect(service().listTenants('u1')).resolves.toEqual([
      { tenantId: 'acme', name: 'Acme', role: 'admin', active: false },
    ]);
    await expect(service().listTenants('u1')).resolves.toEqual([]);
  });

  // An index entry is whatever item carries these GSI1 keys; only the user's own membership item in
  // a tenant's control partition says they belong to that tenant.
  it('keeps only real membership items: forged or stray GSI1 entries are dropped', async () => {
    mock.on(QueryCommand).resolves({
      Items: [
        membershipOf('acme', { tenantName: 'Acme', role: 'admin' }),
        // Written into a tenant's data partition with its credentials, claiming u1's index keys.
        membershipOf('evil', { PK: 'TENANT#evil', role: 'admin', tenantName: 'Phish' }),
        // Another user's membership item carrying u1's index keys.
        membershipOf('beta', { SK: 'USER#u2', userId: 'u2', role: 'admin' }),
        // The right keys, but naming another user.
        membershipOf('gamma', { userId: 'u2', role: 'admin' }),
        // A tenant id that does not match its partition.
        membershipOf('delta', { PK: 'CONTROL#other', role: 'admin' }),
        // Not a tenant id at all.
        membershipOf('a#b', { role: 'admin' }),
        // The tenant item, the profile: not memberships.
        { ...membershipOf('eps'), SK: 'TENANT' },
        { GSI1PK: 'USER#u1', GSI1SK: 'CONTROL#x', PK: 'USER#u1', SK: 'PROFILE', userId: 'u1' },
      ],
    });
    await expect(service().listTenants('u1', 'evil')).resolves.toEqual([
      { tenantId: 'acme', name: 'Acme', role: 'admin', active: false },
    ]);
  });
});
