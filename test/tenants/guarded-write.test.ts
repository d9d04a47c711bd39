import {
  type CancellationReason,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { PolicyValidationError } from '../../policy/index.js';
import {
  ConflictError,
  createGuardedWriter,
  createTenantGuardedWriter,
  deniedBecause,
  MAX_GUARDED_WRITES,
  PermissionDeniedError,
  permissionCheck,
  roleItemPermits,
  TenantsConfigError,
  type TransactItem,
  WriteConditionError,
} from '../../tenants/index.js';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);
const put: TransactItem = { Put: { TableName: 'T', Item: { PK: 'TENANT#acme', SK: 'A#1' } } };
const request = { tenantId: 'acme', roleId: 'pilot', action: 'aircraft:update', writes: [put] };
const cancelled = (...reasons: CancellationReason[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: reasons,
  });
const list = (...xs: string[]) => ({ L: xs.map((S) => ({ S })) });

describe('permissionCheck', () => {
  it('checks existence, list types, one granting allow and no granting deny', () => {
    const check = permissionCheck('T', 'acme', 'pilot', 'aircraft:update').ConditionCheck;
    expect(check?.Key).toEqual({ PK: 'CONTROL#acme', SK: 'ROLE#pilot' });
    expect(check?.ExpressionAttributeValues).toEqual({
      ':list': 'L',
      ':g0': 'aircraft:update',
      ':g1': '*:update',
      ':g2': 'aircraft:*',
      ':g3': '*:*',
      ':g4': '*',
    });
    expect(check?.ConditionExpression).toBe(
      'attribute_exists(PK) AND attribute_type(#allow, :list) AND ' +
        '(attribute_not_exists(#deny) OR attribute_type(#deny, :list)) AND ' +
        '(contains(#allow, :g0) OR contains(#allow, :g1) OR contains(#allow, :g2) OR ' +
        'contains(#allow, :g3) OR contains(#allow, :g4)) AND NOT contains(#deny, :g0) AND ' +
        'NOT contains(#deny, :g1) AND NOT contains(#deny, :g2) AND NOT contains(#deny, :g3) AND ' +
        'NOT contains(#deny, :g4)',
    );
    expect(check?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('stays within expression limits for the longest action (9 patterns)', () => {
    const action = `${'a'.repeat(42)}:${'b'.repeat(42)}:${'c'.repeat(42)}`;
    const check = permissionCheck('T', 'acme', 'pilot', action).ConditionCheck;
    expect(Object.keys(check?.ExpressionAttributeValues ?? {})).toHaveLength(10);
    // DynamoDB: expressions up to 4 KB, substitution values up to 2 MB in all.
    expect(check?.ConditionExpression?.length).toBeLessThan(4096);
  });

  it('rejects a malformed action', () => {
    expect(() => permissionCheck('T', 'acme', 'pilot', 'aircraft:*')).toThrow(
      PolicyValidationError,
    );
  });
});

describe('deniedBecause', () => {
  it.each([
    [undefined, 'unknown-role', undefined],
    [{ allow: list('*'), deny: list('aircraft:*') }, 'explicit-deny', 'aircraft:*'],
    [{ allow: list('*'), deny: list('*', 'aircraft:update') }, 'explicit-deny', 'aircraft:update'],
    [{ allow: list('billing:read') }, 'no-match', undefined],
    [{ allow: list('billing:read'), deny: list() }, 'no-match', undefined],
    [{ allow: { S: 'aircraft:update-all' }, deny: list() }, 'invalid-role', undefined],
    [{ allow: list('*'), deny: { M: {} } }, 'invalid-role', undefined],
    [{ allow: { L: [{ N: '1' }] } }, 'invalid-role', undefined],
    [{ deny: list() }, 'invalid-role', undefined],
  ])('%j → %s', (item, reason, matched) => {
    expect(deniedBecause('aircraft:update', item)).toEqual({
      reason,
      ...(matched ? { matched } : {}),
    });
  });
});

// The check's condition, evaluated here on the item as DynamoDB saw it (used to tell a refused
// permission from a write's own failed condition): it must agree with the ConditionCheck.
describe('roleItemPermits', () => {
  it.each([
    [undefined, false],
    [{ allow: list('aircraft:update') }, true],
    [{ allow: list('aircraft:*'), deny: list() }, true],
    [{ allow: list('*'), deny: list('*:update') }, false],
    [{ allow: list('*'), deny: list('aircraft:read') }, true],
    [{ allow: list('billing:*') }, false],
    [{ allow: list() }, false],
    [{ allow: { S: 'aircraft:update' } }, false],
    [{ allow: list('*'), deny: { S: 'x' } }, false],
    [{ allow: { L: [{ S: '*' }, { N: '1' }] } }, false],
    [{ deny: list() }, false],
  ])('%j → %s', (item, permits) => {
    expect(roleItemPermits('aircraft:update', item)).toBe(permits);
  });
});

describe('guarded write', () => {
  beforeEach(() => mock.reset());
  const write = () => createGuardedWriter({ client: ddb, tableName: 'T' });

  it('sends the permission check first, then the writes, in one transaction', async () => {
    mock.on(TransactWriteCommand).resolves({});
    const del: TransactItem = { Delete: { TableName: 'T', Key: { PK: 'TENANT#acme', SK: 'A#2' } } };
    await write()({ ...request, writes: [put, del] });
    const calls = mock.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.TransactItems).toEqual([
      permissionCheck('T', 'acme', 'pilot', 'aircraft:update'),
      put,
      del,
    ]);
  });

  it('maps a failed role check to PermissionDeniedError with the reason the check saw', async () => {
    mock
      .on(TransactWriteCommand)
      .rejectsOnce(
        cancelled(
          { Code: 'ConditionalCheckFailed', Item: { allow: list('*'), deny: list('*:update') } },
          { Code: 'None' },
        ),
      )
      .rejectsOnce(cancelled({ Code: 'ConditionalCheckFailed' }, { Code: 'None' }));
    const first = await write()(request).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(PermissionDeniedError);
    expect(first).toMatchObject({
      action: 'aircraft:update',
      reason: 'explicit-deny',
      matched: '*:update',
    });
    expect((first as Error).cause).toBeInstanceOf(TransactionCanceledException);
    await expect(write()(request)).rejects.toMatchObject({ reason: 'unknown-role' });
  });

  it('lets a conflicting transaction surface as it is', async () => {
    const error = cancelled({ Code: 'TransactionConflict' }, { Code: 'None' });
    mock.on(TransactWriteCommand).rejects(error);
    await expect(write()(request)).rejects.toBe(error);
  });

  it("names the caller's writes whose own condition failed (WriteConditionError)", async () => {
    const error = cancelled({ Code: 'None' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' });
    mock.on(TransactWriteCommand).rejects(error);
    const del: TransactItem = { Delete: { TableName: 'T', Key: { PK: 'TENANT#acme', SK: 'A#2' } } };
    const failure = await write()({ ...request, writes: [put, del] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WriteConditionError);
    expect((failure as WriteConditionError).failed).toEqual([{ index: 1 }]);
    expect((failure as WriteConditionError).has(1)).toBe(true);
    expect((failure as Error).cause).toBe(error);
  });

  describe('a write on the role item the check reads (DynamoDB refuses one item twice)', () => {
    const count: TransactItem = {
      Update: {
        TableName: 'T',
        Key: { PK: 'CONTROL#acme', SK: 'ROLE#pilot' },
        UpdateExpression: 'SET assigned = assigned + :one',
        ConditionExpression: 'assigned > :one',
        ExpressionAttributeValues: { ':one': 1 },
      },
    };

    it('carries the check in its own condition, placeholders renamed, with no separate check', async () => {
      mock.on(TransactWriteCommand).resolves({});
      await write()({ ...request, writes: [put, count] });
      const items = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
      expect(items).toHaveLength(2);
      expect(items[0]).toEqual(put);
      const update = items[1]?.Update;
      const check = permissionCheck('T', 'acme', 'pilot', 'aircraft:update').ConditionCheck;
      expect(update?.ConditionExpression).toBe(
        `(assigned > :one) AND (${check?.ConditionExpression?.replace(/([:#])(\w+)/g, '$1tg_$2')})`,
      );
      expect(update?.ExpressionAttributeValues).toMatchObject({
        ':one': 1,
        ':tg_g0': 'aircraft:update',
        ':tg_list': 'L',
      });
      expect(update?.ExpressionAttributeNames).toEqual({
        '#tg_allow': 'allow',
        '#tg_deny': 'deny',
      });
      expect(update?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    });

    // Merging into a write on any other item would drop the separate check: the permission would
    // then be checked on the wrong item (or, for a Put with its own Item, not at all).
    it.each([
      ['another partition', { ...count.Update, Key: { PK: 'CONTROL#beta', SK: 'ROLE#pilot' } }],
      ['another role', { ...count.Update, Key: { PK: 'CONTROL#acme', SK: 'ROLE#chief' } }],
      ['another table', { ...count.Update, TableName: 'Other' }],
      ['no key', { ...count.Update, Key: undefined }],
    ])(
      'a write on the same kind of item in %s is not merged: the check goes first',
      async (_n, body) => {
        mock.on(TransactWriteCommand).resolves({});
        const other = { Update: body } as TransactItem;
        await write()({ ...request, writes: [put, other] });
        const items = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
        expect(items).toEqual([
          permissionCheck('T', 'acme', 'pilot', 'aircraft:update'),
          put,
          other,
        ]);
      },
    );

    it('a Put of the role item itself (key in Item) carries the check too', async () => {
      mock.on(TransactWriteCommand).resolves({});
      const rolePut: TransactItem = {
        Put: { TableName: 'T', Item: { PK: 'CONTROL#acme', SK: 'ROLE#pilot', allow: ['*'] } },
      };
      await write()({ ...request, writes: [rolePut] });
      const items = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
      expect(items).toHaveLength(1);
      expect(items[0]?.Put?.ConditionExpression).toMatch(/^\(attribute_exists\(PK\) AND /);
      expect(items[0]?.Put?.Item).toEqual(rolePut.Put?.Item);
    });

    it('tells a refused permission from its own failed condition by the item as it was', async () => {
      mock
        .on(TransactWriteCommand)
        .rejectsOnce(
          cancelled(
            { Code: 'None' },
            {
              Code: 'ConditionalCheckFailed',
              Item: { allow: list('aircraft:read'), deny: list() },
            },
          ),
        )
        .rejectsOnce(
          cancelled(
            { Code: 'None' },
            {
              Code: 'ConditionalCheckFailed',
              Item: { allow: list('aircraft:*'), deny: list(), assigned: { N: '1' } },
            },
          ),
        );
      await expect(write()({ ...request, writes: [put, count] })).rejects.toMatchObject({
        name: 'PermissionDeniedError',
        reason: 'no-match',
      });
      const own = await write()({ ...request, writes: [put, count] }).catch((e: unknown) => e);
      expect(own).toBeInstanceOf(WriteConditionError);
      expect((own as WriteConditionError).failed[0]?.index).toBe(1);
    });
  });

  describe('a pinned role version (decisions made on the whole role: coverage)', () => {
    const pinned = { ...request, roleVersion: 7 };
    const count: TransactItem = {
      Update: {
        TableName: 'T',
        Key: { PK: 'CONTROL#acme', SK: 'ROLE#pilot' },
        UpdateExpression: 'SET assigned = assigned + :one',
        ConditionExpression: 'assigned > :one',
        ExpressionAttributeValues: { ':one': 1 },
      },
    };

    it('the check also requires #version = :version', async () => {
      mock.on(TransactWriteCommand).resolves({});
      await write()(pinned);
      const [check] = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
      expect(check).toEqual(permissionCheck('T', 'acme', 'pilot', 'aircraft:update', 7));
      expect(check?.ConditionCheck?.ConditionExpression).toMatch(/ AND #version = :version$/);
      expect(check?.ConditionCheck?.ExpressionAttributeNames).toMatchObject({
        '#version': 'version',
      });
      expect(check?.ConditionCheck?.ExpressionAttributeValues).toMatchObject({ ':version': 7 });
      // Unpinned, the check says nothing of the version.
      expect(
        permissionCheck('T', 'acme', 'pilot', 'aircraft:update').ConditionCheck
          ?.ConditionExpression,
      ).not.toContain('version');
    });

    it('merged into a write on the role item, the write keeps its own condition and the pin', async () => {
      mock.on(TransactWriteCommand).resolves({});
      await write()({ ...pinned, writes: [put, count] });
      const items = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
      expect(items).toHaveLength(2);
      const update = items[1]?.Update;
      expect(update?.ConditionExpression).toMatch(/^\(assigned > :one\) AND \(attribute_exists/);
      expect(update?.ConditionExpression).toMatch(/ AND #tg_version = :tg_version\)$/);
      expect(update?.ExpressionAttributeNames).toMatchObject({ '#tg_version': 'version' });
      expect(update?.ExpressionAttributeValues).toMatchObject({ ':one': 1, ':tg_version': 7 });
    });

    it('the role still permits but is at another version: ConflictError role-changed', async () => {
      mock.on(TransactWriteCommand).rejects(
        cancelled(
          {
            Code: 'ConditionalCheckFailed',
            Item: { allow: list('aircraft:*'), deny: list(), version: { N: '8' } },
          },
          { Code: 'None' },
        ),
      );
      const error = await write()(pinned).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ reason: 'role-changed' });
      expect((error as Error).cause).toBeInstanceOf(TransactionCanceledException);
    });

    it('the role no longer permits: PermissionDeniedError, whatever its version', async () => {
      mock.on(TransactWriteCommand).rejects(
        cancelled(
          {
            Code: 'ConditionalCheckFailed',
            Item: { allow: list('aircraft:read'), deny: list(), version: { N: '8' } },
          },
          { Code: 'None' },
        ),
      );
      await expect(write()(pinned)).rejects.toMatchObject({
        name: 'PermissionDeniedError',
        reason: 'no-match',
      });
    });

    it('on the merged write: at the pin its own condition failed; off the pin, role-changed', async () => {
      mock
        .on(TransactWriteCommand)
        .rejectsOnce(
          cancelled(
            { Code: 'None' },
            {
              Code: 'ConditionalCheckFailed',
              Item: { allow: list('aircraft:*'), deny: list(), version: { N: '7' } },
            },
          ),
        )
        .rejectsOnce(
          cancelled(
            { Code: 'None' },
            {
              Code: 'ConditionalCheckFailed',
              Item: { allow: list('aircraft:*'), deny: list(), version: { N: '9' } },
            },
          ),
        );
      const own = await write()({ ...pinned, writes: [put, count] }).catch((e: unknown) => e);
      expect(own).toBeInstanceOf(WriteConditionError);
      expect((own as WriteConditionError).has(1)).toBe(true);
      await expect(write()({ ...pinned, writes: [put, count] })).rejects.toMatchObject({
        name: 'ConflictError',
        reason: 'role-changed',
      });
    });
  });

  it('lets other errors surface as they are', async () => {
    const error = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    mock.on(TransactWriteCommand).rejects(error);
    await expect(write()(request)).rejects.toBe(error);
  });

  it('refuses empty and oversized batches and malformed actions before sending', async () => {
    await expect(write()({ ...request, writes: [] })).rejects.toThrow(RangeError);
    // 99 writes and the check fill DynamoDB's 100 items exactly.
    mock.on(TransactWriteCommand).resolves({});
    const full = Array.from({ length: MAX_GUARDED_WRITES }, (_, i) => ({
      Put: { TableName: 'T', Item: { PK: 'TENANT#acme', SK: `A#${i}` } },
    }));
    await write()({ ...request, writes: full });
    expect(mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems).toHaveLength(
      100,
    );
    mock.resetHistory();
    const many = Array.from({ length: MAX_GUARDED_WRITES + 1 }, () => put);
    await expect(write()({ ...request, writes: many })).rejects.toThrow(/1 to 99 writes/);
    await expect(write()({ ...request, action: 'Bad Action' })).rejects.toBeInstanceOf(
      PolicyValidationError,
    );
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('validates its options, listing every problem', () => {
    const bad = () => createGuardedWriter({ client: {} as DynamoDBDocumentClient, tableName: '' });
    expect(bad).toThrow(TenantsConfigError);
    expect(bad).toThrow(/client[\s\S]*tableName/);
  });
});

describe('createTenantGuardedWriter', () => {
  it('validates once at the factory and takes tenant, role and client from the caller', async () => {
    let error: unknown;
    try {
      createTenantGuardedWriter({ tableName: '', clientFor: undefined as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantsConfigError);
    // No client option here (it comes from clientFor), so none is asked for.
    expect((error as TenantsConfigError).issues).toEqual([
      'tableName must be a non-empty string',
      'clientFor must be a function',
    ]);
    mock.reset();
    mock.on(TransactWriteCommand).resolves({});
    const asked: string[] = [];
    const write = createTenantGuardedWriter({
      tableName: 'T',
      clientFor: (c) => {
        asked.push(c.credentials.accessKeyId);
        return ddb;
      },
    });
    const caller = {
      tenantId: 'acme',
      userId: 'u1',
      role: 'pilot',
      groups: ['acme'],
      identityId: 'us-east-1:id',
      credentials: {
        accessKeyId: 'caller-key',
        secretAccessKey: 's',
        sessionToken: 't',
        expiration: new Date(0),
      },
    };
    await write(caller, 'aircraft:update', [put]);
    expect(asked).toEqual(['caller-key']);
    expect(mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]).toEqual(
      permissionCheck('T', 'acme', 'pilot', 'aircraft:update'),
    );
    // A pin passes through to the check.
    await write(caller, 'aircraft:update', [put], { roleVersion: 4 });
    expect(mock.commandCalls(TransactWriteCommand)[1]?.args[0].input.TransactItems?.[0]).toEqual(
      permissionCheck('T', 'acme', 'pilot', 'aircraft:update', 4),
    );
  });
});

// Each test below kills a mutant that survived `npm run mutate tenants` on main.
describe('what a mutation run on main found untested', () => {
  beforeEach(() => mock.reset());
  const write = () => createGuardedWriter({ client: ddb, tableName: 'T' });

  it('a cancellation without reasons, or reasons on another error, surfaces as it is', async () => {
    const bare = new TransactionCanceledException({ message: 'cancelled', $metadata: {} });
    mock.on(TransactWriteCommand).rejects(bare);
    await expect(write()(request)).rejects.toBe(bare);
    const other = Object.assign(new Error('odd'), {
      name: 'InternalServerError',
      CancellationReasons: [{ Code: 'ConditionalCheckFailed', Item: { allow: list() } }],
    });
    mock.on(TransactWriteCommand).rejects(other);
    await expect(write()(request)).rejects.toBe(other);
  });

  it('options that are not an object at all: TenantsConfigError, not a TypeError', () => {
    expect(() => createTenantGuardedWriter(undefined as never)).toThrow(TenantsConfigError);
  });

  it('a pinned merged write whose role item lost its version attribute: role-changed, not a TypeError', async () => {
    const count: TransactItem = {
      Update: {
        TableName: 'T',
        Key: { PK: 'CONTROL#acme', SK: 'ROLE#pilot' },
        UpdateExpression: 'SET assigned = assigned + :one',
        ExpressionAttributeValues: { ':one': 1 },
      },
    };
    mock
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: { allow: list('aircraft:*'), deny: list() } },
        ),
      );
    await expect(
      write()({ ...request, roleVersion: 7, writes: [put, count] }),
    ).rejects.toMatchObject({ name: 'ConflictError', reason: 'role-changed' });
  });
});

// Two survivors of the tenants/ mutation run on main that only the DynamoDB Local suites killed: which
// cancellation reason belongs to the check depends on where the check went.
describe('which failure is the permission, by where the check went', () => {
  beforeEach(() => mock.reset());
  const write = () => createGuardedWriter({ client: ddb, tableName: 'T' });
  const ownRole: TransactItem = {
    Update: {
      TableName: 'T',
      Key: { PK: 'CONTROL#acme', SK: 'ROLE#pilot' },
      UpdateExpression: 'SET #n = :n',
      ConditionExpression: 'version = :v',
      ExpressionAttributeNames: { '#n': 'name' },
      ExpressionAttributeValues: { ':n': 'Pilot', ':v': 3 },
    },
  };
  const permitting = { allow: list('aircraft:*'), deny: list(), version: { N: '7' } };

  it('merged into the first write: its own failed condition is a WriteConditionError at index 0', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled({ Code: 'ConditionalCheckFailed', Item: permitting }));
    const error = await write()({ ...request, roleVersion: 7, writes: [ownRole] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WriteConditionError);
    expect((error as WriteConditionError).has(0)).toBe(true);
  });

  it('merged into a later write: a failure of the first write is that write’s, not the permission', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          { Code: 'ConditionalCheckFailed', Item: { PK: { S: 'TENANT#acme' } } },
          { Code: 'None' },
        ),
      );
    const error = await write()({ ...request, writes: [put, ownRole] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriteConditionError);
    expect((error as WriteConditionError).has(0)).toBe(true);
    expect((error as WriteConditionError).has(1)).toBe(false);
  });
});
