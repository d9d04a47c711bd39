/**
 * Against the real DynamoDB Local: role CRUD with optimistic versions, and the guarded transaction
 * agreeing with `evaluate` on random (role, action) pairs — a denied transaction writes nothing.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRole, evaluate } from '../../policy/index.js';
import {
  builtInRoles,
  createGuardedWriter,
  createRolesStore,
  PermissionDeniedError,
  RoleConflictError,
  RoleNotFoundError,
} from '../../tenants/index.js';
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from '../fixtures/dynamodb-local.js';

const TABLE = 'tenantgate-roles';

describe('roles against DynamoDB Local', () => {
  let ddb: DynamoDbLocal;
  let doc: DynamoDBDocumentClient;

  beforeAll(async () => {
    ddb = await startDynamoDbLocal();
    await createTable(ddb.client, TABLE);
    doc = DynamoDBDocumentClient.from(ddb.client);
  });
  afterAll(async () => {
    await ddb?.stop();
  });

  it('creates, reads, lists, updates at the expected version, refuses stale versions, deletes', async () => {
    const store = createRolesStore({ client: doc, tableName: TABLE });
    const created = await store.create({
      tenantId: 'crud',
      roleId: 'pilot',
      name: 'Pilot',
      allow: ['aircraft:read'],
    });
    expect(created.version).toBe(1);
    await expect(
      store.create({ tenantId: 'crud', roleId: 'pilot', name: 'Again', allow: [] }),
    ).rejects.toBeInstanceOf(RoleConflictError);
    for (const role of builtInRoles('crud')) await store.create(role);
    expect((await store.list('crud')).map((r) => r.roleId).sort()).toEqual([
      'admin',
      'member',
      'pilot',
    ]);
    const updated = await store.update({ ...created, allow: ['aircraft:read', 'aircraft:fly'] });
    expect(updated.version).toBe(2);
    expect((await store.get('crud', 'pilot'))?.allow).toEqual(['aircraft:read', 'aircraft:fly']);
    await expect(store.update({ ...created, name: 'stale' })).rejects.toBeInstanceOf(
      RoleConflictError,
    );
    await expect(store.update({ ...created, roleId: 'ghost' })).rejects.toBeInstanceOf(
      RoleNotFoundError,
    );
    await expect(store.delete('crud', 'pilot', 1)).rejects.toBeInstanceOf(RoleConflictError);
    await store.delete('crud', 'pilot', 2);
    expect(await store.get('crud', 'pilot')).toBeUndefined();
    await expect(
      store.create({ tenantId: 'crud', roleId: 'Bad!', name: 'x', allow: [] }),
    ).rejects.toThrow(/roleId/);
  });

  it('a pilot cannot update aircraft and writes nothing; a maintenance chief can', async () => {
    const store = createRolesStore({ client: doc, tableName: TABLE });
    const guardedWrite = createGuardedWriter({ client: doc, tableName: TABLE });
    await store.create({
      tenantId: 'school',
      roleId: 'pilot',
      name: 'Pilot',
      allow: ['aircraft:read', 'aircraft:list'],
    });
    await store.create({
      tenantId: 'school',
      roleId: 'maintenance-chief',
      name: 'Maintenance chief',
      allow: ['aircraft:*'],
    });
    const write = (roleId: string) =>
      guardedWrite({
        tenantId: 'school',
        roleId,
        action: 'aircraft:update',
        writes: [
          {
            Put: {
              TableName: TABLE,
              Item: { PK: 'TENANT#school', SK: 'AIRCRAFT#N123', by: roleId },
            },
          },
        ],
      });
    const denied = await write('pilot').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect((denied as PermissionDeniedError).action).toBe('aircraft:update');
    const key = { PK: 'TENANT#school', SK: 'AIRCRAFT#N123' };
    expect((await doc.send(new GetCommand({ TableName: TABLE, Key: key }))).Item).toBeUndefined();
    await write('maintenance-chief');
    expect((await doc.send(new GetCommand({ TableName: TABLE, Key: key }))).Item?.by).toBe(
      'maintenance-chief',
    );
    await expect(write('nobody')).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  it('differential: evaluate and the guarded transaction agree on 200+ random (role, action) pairs', async () => {
    const guardedWrite = createGuardedWriter({ client: doc, tableName: TABLE });
    const store = createRolesStore({ client: doc, tableName: TABLE });
    const seg = fc.constantFrom('aircraft', 'billing', 'read', 'update', 'x');
    const action = fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => s.join(':'));
    const pattern = fc.oneof(
      { weight: 1, arbitrary: fc.constant('*') },
      {
        weight: 6,
        arbitrary: fc
          .array(fc.oneof(seg, fc.constant('*')), { minLength: 1, maxLength: 3 })
          .map((s) => s.join(':')),
      },
    );
    const cases = fc.sample(
      fc.record({
        allow: fc.array(pattern, { maxLength: 6 }),
        deny: fc.array(pattern, { maxLength: 3 }),
        action,
        exists: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
      }),
      { numRuns: 220, seed: 20261122 },
    );
    let allowed = 0;
    for (const [i, c] of cases.entries()) {
      const tenantId = `diff${i}`;
      if (c.exists)
        await store.create({ tenantId, roleId: 'r', name: 'R', allow: c.allow, deny: c.deny });
      const expected = c.exists
        ? evaluate(
            compileRole({
              tenantId,
              roleId: 'r',
              name: 'R',
              allow: c.allow,
              deny: c.deny,
              version: 1,
            }),
            c.action,
          )
        : evaluate(undefined, c.action);
      const key = { PK: `TENANT#${tenantId}`, SK: 'DATA#1' };
      const outcome = await guardedWrite({
        tenantId,
        roleId: 'r',
        action: c.action,
        writes: [{ Put: { TableName: TABLE, Item: { ...key, v: 1 } } }],
      }).then(
        () => 'allow',
        (e: unknown) => {
          if (e instanceof PermissionDeniedError) return 'deny';
          throw e;
        },
      );
      const written =
        (await doc.send(new GetCommand({ TableName: TABLE, Key: key }))).Item !== undefined;
      expect({ i, ...c, outcome, written }).toEqual({
        i,
        ...c,
        outcome: expected.effect,
        written: expected.effect === 'allow',
      });
      if (outcome === 'allow') allowed++;
    }
    // Both outcomes must be well represented for the agreement to mean something.
    expect(allowed).toBeGreaterThan(20);
    expect(cases.length - allowed).toBeGreaterThan(20);
  });
});
