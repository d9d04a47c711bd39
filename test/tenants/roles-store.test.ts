import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { fc, test } from '@fast-check/vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isTenantId } from '../../authorizer/index.js';
import { compileRole, evaluate, PolicyValidationError } from '../../policy/index.js';
import {
  builtInRoleItems,
  builtInRolePuts,
  builtInRoles,
  createRolesStore,
  ReservedRoleError,
  RoleConflictError,
  RoleNotFoundError,
  roleItem,
  TenantsConfigError,
} from '../../tenants/index.js';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);
const failed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const chief = {
  tenantId: 'school',
  roleId: 'maintenance-chief',
  name: 'Maintenance chief',
  allow: ['aircraft:create', 'aircraft:update', 'aircraft:create'],
};
const store = () => createRolesStore({ client: ddb, tableName: 'T' });
const sent = () => mock.calls().length;

describe('roleItem', () => {
  it('is the validated role under its keys, patterns de-duplicated, deny always a list', () => {
    expect(roleItem({ ...chief, version: 3 })).toEqual({
      PK: 'CONTROL#school',
      SK: 'ROLE#maintenance-chief',
      type: 'role',
      tenantId: 'school',
      roleId: 'maintenance-chief',
      name: 'Maintenance chief',
      allow: ['aircraft:create', 'aircraft:update'],
      deny: [],
      version: 3,
    });
  });

  test.prop([fc.oneof(fc.string(), fc.stringMatching(/^[A-Za-z0-9_#-]{0,66}$/))], {
    numRuns: 300,
  })('accepts exactly the tenant ids the authorizer accepts', (tenantId) => {
    const ok = (() => {
      try {
        roleItem({ ...chief, tenantId, version: 1 });
        return true;
      } catch (error) {
        expect(error).toBeInstanceOf(PolicyValidationError);
        return false;
      }
    })();
    expect(ok).toBe(isTenantId(tenantId));
  });
});

describe('built-in roles', () => {
  it('admin allows everything; member reads, lists and manages only itself', () => {
    const [admin, member] = builtInRoles('acme').map(compileRole);
    for (const action of ['aircraft:update', 'billing:invoice:delete', 'roles:create'])
      expect(evaluate(admin, action).effect).toBe('allow');
    for (const action of ['aircraft:read', 'aircraft:list', 'billing:invoice:read', 'me:update'])
      expect(evaluate(member, action).effect).toBe('allow');
    for (const action of ['aircraft:update', 'roles:create', 'billing:invoice:delete', 'read'])
      expect(evaluate(member, action).effect).toBe('deny');
  });

  it('come as items and as conditional Puts for the tenant-creation transaction', () => {
    const items = builtInRoleItems('acme');
    expect(items.map((i) => i.SK)).toEqual(['ROLE#admin', 'ROLE#member']);
    expect(builtInRolePuts('T', 'acme')).toEqual(
      items.map((Item) => ({
        Put: { TableName: 'T', Item, ConditionExpression: 'attribute_not_exists(PK)' },
      })),
    );
    expect(() => builtInRoleItems('bad#tenant')).toThrow(PolicyValidationError);
  });
});

describe('roles store', () => {
  beforeEach(() => mock.reset());

  it('creates conditionally at version 1; an existing role is a conflict', async () => {
    mock.on(PutCommand).resolvesOnce({}).rejectsOnce(failed());
    expect((await store().create(chief)).version).toBe(1);
    const input = mock.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(PK)');
    expect(input?.Item).toEqual(roleItem({ ...chief, version: 1 }));
    await expect(store().create(chief)).rejects.toBeInstanceOf(RoleConflictError);
  });

  it('validates before every write: nothing is sent for an invalid role', async () => {
    await expect(
      store().create({ ...chief, allow: ['Aircraft:Update', 'aircraft:*:*:*'] }),
    ).rejects.toThrow(/allow\[0\][\s\S]*allow\[1\]/);
    await expect(store().update({ ...chief, name: '', version: 1 })).rejects.toBeInstanceOf(
      PolicyValidationError,
    );
    expect(sent()).toBe(0);
  });

  it('updates only at the expected version, incrementing it', async () => {
    mock.on(UpdateCommand).resolves({});
    expect((await store().update({ ...chief, version: 4 })).version).toBe(5);
    const input = mock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_exists(PK) AND version = :expected');
    // SET, not a whole-item Put: the member count kept by membership writes survives an edit.
    expect(input?.UpdateExpression).toBe(
      'SET #name = :name, #allow = :allow, #deny = :deny, version = :next',
    );
    expect(input?.ExpressionAttributeValues).toMatchObject({ ':expected': 4, ':next': 5 });
  });

  it('a failed version condition is a conflict if the role exists, not-found otherwise', async () => {
    mock.on(UpdateCommand).rejects(failed());
    mock.on(DeleteCommand).rejects(failed());
    mock
      .on(GetCommand)
      .resolvesOnce({ Item: roleItem({ ...chief, version: 5 }) })
      .resolvesOnce({})
      .resolvesOnce({ Item: roleItem({ ...chief, version: 5 }) })
      .resolvesOnce({});
    await expect(store().update({ ...chief, version: 4 })).rejects.toBeInstanceOf(
      RoleConflictError,
    );
    await expect(store().update({ ...chief, version: 4 })).rejects.toBeInstanceOf(
      RoleNotFoundError,
    );
    await expect(store().delete('school', chief.roleId, 4)).rejects.toBeInstanceOf(
      RoleConflictError,
    );
    await expect(store().delete('school', chief.roleId, 4)).rejects.toBeInstanceOf(
      RoleNotFoundError,
    );
  });

  it('lets other errors surface as they are', async () => {
    const error = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    mock.on(PutCommand).rejects(error);
    mock.on(UpdateCommand).rejects(error);
    await expect(store().update({ ...chief, version: 1 })).rejects.toBe(error);
    await expect(store().create(chief)).rejects.toBe(error);
  });

  it('refuses to create or delete built-in roles, and to change admin; member may be tuned', async () => {
    mock.on(PutCommand).resolves({});
    const [admin, member] = builtInRoles('school');
    if (!admin || !member) throw new Error('built-in roles missing');
    await expect(store().create(admin)).rejects.toBeInstanceOf(ReservedRoleError);
    await expect(store().create(member)).rejects.toBeInstanceOf(ReservedRoleError);
    await expect(store().update(admin)).rejects.toBeInstanceOf(ReservedRoleError);
    await expect(store().delete('school', 'admin', 1)).rejects.toBeInstanceOf(ReservedRoleError);
    await expect(store().delete('school', 'member', 1)).rejects.toBeInstanceOf(ReservedRoleError);
    expect(sent()).toBe(0);
    expect((await store().update({ ...member, allow: ['*:read'] })).version).toBe(2);
  });

  it('lists every page of ROLE# items in the tenant', async () => {
    const item = (roleId: string) => roleItem({ ...chief, roleId, version: 1 });
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: [item('a'), item('b')], LastEvaluatedKey: { PK: 'x', SK: 'y' } })
      .resolvesOnce({ Items: [item('c')] });
    expect((await store().list('school')).map((r) => r.roleId)).toEqual(['a', 'b', 'c']);
    const calls = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :role)',
      ExpressionAttributeValues: { ':pk': 'CONTROL#school', ':role': 'ROLE#' },
    });
    expect(calls[1]?.ExclusiveStartKey).toEqual({ PK: 'x', SK: 'y' });
  });

  it('validates its options, listing every problem', () => {
    const bad = () => createRolesStore({ client: undefined as never, tableName: 7 as never });
    expect(bad).toThrow(TenantsConfigError);
    expect(bad).toThrow(/client[\s\S]*tableName/);
  });
});
