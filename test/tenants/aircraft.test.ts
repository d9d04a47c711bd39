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
  type AircraftServiceOptions,
  createAircraftService,
  InvalidInputError,
  MAX_VERSION,
  NotFoundError,
  PermissionDeniedError,
  permissionCheck,
  TenantsConfigError,
} from '../../tenants/index.js';
import { cancelled, failed, fakeRoleAuthorizer, L, NONE } from '../fixtures/tenants.js';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);

const ctx = (role: string): TenantContext => ({
  tenantId: 'acme',
  userId: `u-${role}`,
  role,
  groups: ['acme'],
  identityId: 'us-east-1:identity',
  credentials: {
    accessKeyId: `ASIA-${role}`,
    secretAccessKey: 'secret',
    sessionToken: 'session',
    expiration: new Date('2030-01-01T00:00:00Z'),
  },
});
const pilot = ctx('pilot');
const chief = ctx('maintenance-chief');

const fakeRoles = (allowed: string[] = ['aircraft:list', 'aircraft:read']) =>
  fakeRoleAuthorizer(allowed);

let roles: ReturnType<typeof fakeRoles>;
let clients: TenantContext[];
beforeEach(() => {
  mock.reset();
  mock.on(TransactWriteCommand).resolves({});
  roles = fakeRoles();
  clients = [];
});

const service = (options: Partial<AircraftServiceOptions> = {}) =>
  createAircraftService({
    tableName: 'T',
    roles,
    newId: () => 'ac1',
    clientFor: (c) => {
      clients.push(c);
      return ddb;
    },
    ...options,
  });

const transactions = () =>
  mock.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems ?? []);
const stored = {
  PK: 'TENANT#acme',
  SK: 'AIRCRAFT#ac1',
  type: 'aircraft',
  aircraftId: 'ac1',
  registration: 'N172SP',
  model: 'Cessna 172S',
  status: 'airworthy',
  version: 1,
  updatedBy: 'u-maintenance-chief',
};
const view = ({ PK: _pk, SK: _sk, type: _t, ...rest }: typeof stored) => rest;
const issuesOf = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidInputError);
  return (error as InvalidInputError).issues.map((i) => i.field);
};

describe('createAircraftService options', () => {
  it('lists every problem at once', () => {
    const error = (() => {
      try {
        createAircraftService({ tableName: '', roles: {} } as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TenantsConfigError);
    expect((error as TenantsConfigError).issues).toEqual([
      'tableName must be a non-empty string',
      'roles must be a RoleAuthorizer',
    ]);
  });
});

describe('reads (any member)', () => {
  it('list enforces aircraft:list and queries the tenant partition across pages', async () => {
    mock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [stored],
        LastEvaluatedKey: { PK: 'TENANT#acme', SK: 'AIRCRAFT#ac1' },
      })
      .resolvesOnce({ Items: [{ ...stored, aircraftId: 'ac2', registration: 'G-ABCD' }] });
    const list = await service().list(pilot);
    expect(list).toEqual([
      view(stored),
      { ...view(stored), aircraftId: 'ac2', registration: 'G-ABCD' },
    ]);
    expect(roles.asked).toEqual(['aircraft:list']);
    const inputs = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({
      TableName: 'T',
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :a)',
      ExpressionAttributeValues: { ':pk': 'TENANT#acme', ':a': 'AIRCRAFT#' },
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({ PK: 'TENANT#acme', SK: 'AIRCRAFT#ac1' });
    // The caller's tenant-scoped credentials: one client for every page.
    expect(clients.map((c) => c.credentials.accessKeyId)).toEqual(['ASIA-pilot']);
    expect(inputs).toHaveLength(2);
  });

  it('get enforces aircraft:read and reads consistently', async () => {
    mock.on(GetCommand).resolves({ Item: stored });
    await expect(service().get(pilot, 'ac1')).resolves.toEqual(view(stored));
    expect(roles.asked).toEqual(['aircraft:read']);
    expect(mock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'T',
      Key: { PK: 'TENANT#acme', SK: 'AIRCRAFT#ac1' },
      ConsistentRead: true,
    });
  });

  it('get: unknown or malformed id is NotFoundError aircraft (no read for a malformed one)', async () => {
    mock.on(GetCommand).resolves({});
    await expect(service().get(pilot, 'ac9')).rejects.toMatchObject({
      name: 'NotFoundError',
      kind: 'aircraft',
    });
    expect(mock.commandCalls(GetCommand)).toHaveLength(1);
    await expect(service().get(pilot, 'AIRCRAFT#x')).rejects.toBeInstanceOf(NotFoundError);
    expect(mock.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('refused reads make no DynamoDB call', async () => {
    roles.allowed.clear();
    await expect(service().list(pilot)).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(service().get(pilot, 'ac1')).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(mock.calls()).toHaveLength(0);
  });
});

describe('create (aircraft:create, guarded)', () => {
  it('a maintenance chief puts the aircraft with the check in one transaction', async () => {
    const created = await service().create(chief, {
      registration: 'N172SP',
      model: '  Cessna 172S ',
    });
    expect(created).toEqual(view(stored));
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'maintenance-chief', 'aircraft:create'),
        {
          Put: {
            TableName: 'T',
            Item: stored,
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
      ],
    ]);
    expect(clients.map((c) => c.credentials.accessKeyId)).toEqual(['ASIA-maintenance-chief']);
  });

  it('a pilot is refused with PermissionDeniedError and nothing is written', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(failed({ allow: L('aircraft:read', 'aircraft:list'), deny: L() }), NONE));
    const error = await service()
      .create(pilot, { registration: 'N172SP', model: 'Cessna' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ action: 'aircraft:create', reason: 'no-match' });
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(mock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('validates every field at once, with no write', async () => {
    expect(
      await issuesOf(
        service().create(chief, { registration: 'n172sp', model: ' ', status: 'flying' }),
      ),
    ).toEqual(['registration', 'model', 'status']);
    expect(await issuesOf(service().create(chief, {}))).toEqual(['registration', 'model']);
    expect(
      await issuesOf(service().create(chief, { registration: 'N1', model: 'x'.repeat(101) })),
    ).toEqual(['model']);
    expect(transactions()).toHaveLength(0);
  });

  it('keeps a given status', async () => {
    await expect(
      service().create(chief, { registration: 'G-ABCD', model: 'PA-28', status: 'grounded' }),
    ).resolves.toMatchObject({ status: 'grounded', version: 1 });
  });

  it('the default id is 12 URL-safe characters (72 random bits)', async () => {
    const created = await createAircraftService({
      tableName: 'T',
      roles,
      clientFor: () => ddb,
    }).create(chief, { registration: 'N172SP', model: 'C172' });
    expect(created.aircraftId).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });
});

describe('update (aircraft:update, guarded, optimistic)', () => {
  it('a maintenance chief updates the given fields at the version read, then reads back', async () => {
    mock.on(GetCommand).resolves({ Item: { ...stored, status: 'maintenance', version: 2 } });
    const updated = await service().update(chief, 'ac1', { status: 'maintenance', version: 1 });
    expect(updated).toMatchObject({ status: 'maintenance', version: 2 });
    expect(transactions()).toEqual([
      [
        permissionCheck('T', 'acme', 'maintenance-chief', 'aircraft:update'),
        {
          Update: {
            TableName: 'T',
            Key: { PK: 'TENANT#acme', SK: 'AIRCRAFT#ac1' },
            UpdateExpression: 'SET version = :next, updatedBy = :by, #status = :status',
            ConditionExpression: 'attribute_exists(PK) AND version = :expected',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':next': 2,
              ':expected': 1,
              ':by': 'u-maintenance-chief',
              ':status': 'maintenance',
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
    ]);
  });

  it('every field, model trimmed', async () => {
    mock.on(GetCommand).resolves({ Item: stored });
    await service().update(chief, 'ac1', {
      registration: 'G-ABCD',
      model: ' PA-28 ',
      status: 'grounded',
      version: 4,
    });
    const update = transactions()[0]?.[1]?.Update;
    expect(update?.UpdateExpression).toBe(
      'SET version = :next, updatedBy = :by, #registration = :registration, #model = :model, #status = :status',
    );
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':registration': 'G-ABCD',
      ':model': 'PA-28',
      ':status': 'grounded',
      ':next': 5,
    });
  });

  it('only the version: no attribute names are sent', async () => {
    mock.on(GetCommand).resolves({ Item: stored });
    await service().update(chief, 'ac1', { version: 1 });
    expect(transactions()[0]?.[1]?.Update?.ExpressionAttributeNames).toBeUndefined();
  });

  it("a pilot's update is denied and leaves no write and no read", async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(failed({ allow: L('aircraft:read'), deny: L('aircraft:update') }), NONE));
    const error = await service()
      .update(pilot, 'ac1', { status: 'grounded', version: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({
      action: 'aircraft:update',
      reason: 'explicit-deny',
      matched: 'aircraft:update',
    });
    expect(mock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('stale: ConflictError stale-version (the item as it was came back)', async () => {
    mock
      .on(TransactWriteCommand)
      .rejects(cancelled(NONE, failed({ version: { N: '3' }, aircraftId: { S: 'ac1' } })));
    await expect(service().update(chief, 'ac1', { version: 1 })).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'stale-version',
    });
  });

  it('gone: NotFoundError aircraft', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(NONE, failed()));
    await expect(service().update(chief, 'ac1', { version: 1 })).rejects.toMatchObject({
      name: 'NotFoundError',
      kind: 'aircraft',
    });
  });

  it('validates (version required, fields optional but checked), with no write', async () => {
    expect(await issuesOf(service().update(chief, 'ac1', {}))).toEqual(['version']);
    expect(
      await issuesOf(service().update(chief, 'ac1', { registration: '', status: 1, version: '1' })),
    ).toEqual(['registration', 'status', 'version']);
    expect(transactions()).toHaveLength(0);
  });

  // 2^53 − 1 + 1 is not exact: the stored version would silently stop counting.
  it.each([Number.MAX_SAFE_INTEGER, MAX_VERSION + 1, 0, -1, 1.5])(
    'version %d is a 400 naming version (1 to MAX_VERSION), with no call',
    async (version) => {
      const error = await service()
        .update(chief, 'ac1', { version })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).issues).toEqual([
        { field: 'version', message: `must be the integer version you read (1 to ${MAX_VERSION})` },
      ]);
      expect(mock.calls()).toHaveLength(0);
    },
  );

  it('the largest version accepted is MAX_VERSION, written as MAX_VERSION + 1', async () => {
    mock.on(GetCommand).resolves({ Item: { ...stored, version: MAX_VERSION + 1 } });
    await service().update(chief, 'ac1', { version: MAX_VERSION });
    expect(transactions()[0]?.[1]?.Update?.ExpressionAttributeValues).toMatchObject({
      ':expected': MAX_VERSION,
      ':next': MAX_VERSION + 1,
    });
  });

  it('a 2,000-character id is NotFoundError naming at most 64 of it, with no call', async () => {
    const error = await service()
      .update(chief, 'a'.repeat(2000), { version: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe(`no aircraft ${'a'.repeat(64)}`);
    expect(mock.calls()).toHaveLength(0);
  });

  it('a malformed id is NotFoundError, with no write', async () => {
    await expect(service().update(chief, 'bad id', { version: 1 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(transactions()).toHaveLength(0);
  });

  it('other errors surface as they are', async () => {
    const error = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    mock.on(TransactWriteCommand).rejects(error);
    await expect(service().update(chief, 'ac1', { version: 1 })).rejects.toBe(error);
  });
});
