/**
 * Against the real DynamoDB Local: role CRUD with optimistic versions, tenant creation with the
 * built-in roles, and the guarded transaction agreeing with `evaluate` (effect, reason and deciding
 * pattern) on random (role, action) pairs — a denied transaction writes nothing.
 */
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantContext } from '../../authorizer/index.js';
import { compileRole, evaluate } from '../../policy/index.js';
import {
  builtInRolePuts,
  createGuardedWriter,
  createRoleAuthorizer,
  createRolesStore,
  PermissionDeniedError,
  ReservedRoleError,
  RoleConflictError,
  RoleNotFoundError,
  roleItem,
  type TransactItem,
  WriteConditionError,
} from '../../tenants/index.js';
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from '../fixtures/dynamodb-local.js';

const TABLE = 'tenantgate-roles';

describe('roles against DynamoDB Local', () => {
  let ddb: DynamoDbLocal;
  let doc: DynamoDBDocumentClient;
  const read = async (PK: string, SK: string) =>
    (await doc.send(new GetCommand({ TableName: TABLE, Key: { PK, SK } }))).Item;
  const putData = (tenantId: string, SK: string): TransactItem => ({
    Put: { TableName: TABLE, Item: { PK: `TENANT#${tenantId}`, SK, v: 1 } },
  });
  /** The guarded write's outcome as a decision-like value, for comparison with `evaluate`. */
  const outcome = (p: Promise<void>) =>
    p.then(
      () => ({ effect: 'allow' }),
      (e: unknown) => {
        if (!(e instanceof PermissionDeniedError)) throw e;
        return { effect: 'deny', reason: e.reason, ...(e.matched ? { matched: e.matched } : {}) };
      },
    );

  beforeAll(async () => {
    ddb = await startDynamoDbLocal();
    await createTable(ddb.client, TABLE);
    doc = DynamoDBDocumentClient.from(ddb.client);
  });
  afterAll(async () => {
    await ddb?.stop();
  });

  it('creates a tenant with its built-in roles in one transaction, once', async () => {
    const store = createRolesStore({ client: doc, tableName: TABLE });
    const tenant: TransactItem = {
      Put: {
        TableName: TABLE,
        Item: { PK: 'CONTROL#crud', SK: 'TENANT', name: 'Crud Air' },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    };
    const createTenant = () =>
      doc.send(
        new TransactWriteCommand({ TransactItems: [tenant, ...builtInRolePuts(TABLE, 'crud')] }),
      );
    await createTenant();
    await expect(createTenant()).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    expect((await store.list('crud')).map((r) => [r.roleId, r.version])).toEqual([
      ['admin', 1],
      ['member', 1],
    ]);
    const admin = await store.get('crud', 'admin');
    if (!admin) throw new Error('admin missing');
    await expect(store.update(admin)).rejects.toBeInstanceOf(ReservedRoleError);
    await expect(store.delete('crud', 'member', 1)).rejects.toBeInstanceOf(ReservedRoleError);
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
    expect((await store.list('crud')).map((r) => r.roleId)).toEqual(['admin', 'member', 'pilot']);
    const updated = await store.update({ ...created, allow: ['aircraft:read', 'aircraft:fly'] });
    expect(updated.version).toBe(2);
    expect(await store.get('crud', 'pilot')).toEqual({
      ...updated,
      deny: [],
    });
    await expect(store.update({ ...created, name: 'stale' })).rejects.toBeInstanceOf(
      RoleConflictError,
    );
    expect((await store.get('crud', 'pilot'))?.name).toBe('Pilot');
    await expect(store.update({ ...created, roleId: 'ghost' })).rejects.toBeInstanceOf(
      RoleNotFoundError,
    );
    await expect(store.delete('crud', 'pilot', 1)).rejects.toBeInstanceOf(RoleConflictError);
    await store.delete('crud', 'pilot', 2);
    expect(await store.get('crud', 'pilot')).toBeUndefined();
    await expect(store.delete('crud', 'pilot', 2)).rejects.toBeInstanceOf(RoleNotFoundError);
    await expect(
      store.create({ tenantId: 'crud', roleId: 'Bad!', name: 'x', allow: [] }),
    ).rejects.toThrow(/roleId/);
    // Other tenants' roles stay out of the listing.
    expect((await store.list('nobody')).length).toBe(0);
  });

  it('of concurrent updates at one version, exactly one wins', async () => {
    const store = createRolesStore({ client: doc, tableName: TABLE });
    const base = await store.create({ tenantId: 'race', roleId: 'ops', name: 'Ops', allow: [] });
    const results = await Promise.allSettled(
      ['a:read', 'b:read', 'c:read', 'd:read'].map((p) => store.update({ ...base, allow: [p] })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RoleConflictError);
    expect((await store.get('race', 'ops'))?.version).toBe(2);
  });

  it('a pilot cannot update aircraft and writes nothing; a maintenance chief can', async () => {
    const store = createRolesStore({ client: doc, tableName: TABLE });
    const guardedWrite = createGuardedWriter({ client: doc, tableName: TABLE });
    await store.create({
      tenantId: 'school',
      roleId: 'pilot',
      name: 'Pilot',
      allow: ['aircraft:*'],
      deny: ['aircraft:update', 'aircraft:create'],
    });
    await store.create({
      tenantId: 'school',
      roleId: 'maintenance-chief',
      name: 'Maintenance chief',
      allow: ['aircraft:create', 'aircraft:update'],
    });
    const write = (roleId: string, action = 'aircraft:update') =>
      guardedWrite({ tenantId: 'school', roleId, action, writes: [putData('school', 'A#N123')] });
    expect(await outcome(write('pilot'))).toEqual({
      effect: 'deny',
      reason: 'explicit-deny',
      matched: 'aircraft:update',
    });
    expect(await read('TENANT#school', 'A#N123')).toBeUndefined();
    expect(await outcome(write('maintenance-chief', 'aircraft:delete'))).toEqual({
      effect: 'deny',
      reason: 'no-match',
    });
    expect(await outcome(write('nobody'))).toEqual({ effect: 'deny', reason: 'unknown-role' });
    expect(await read('TENANT#school', 'A#N123')).toBeUndefined();
    await write('maintenance-chief');
    expect(await read('TENANT#school', 'A#N123')).toBeDefined();
  });

  it('the cached authorizer may see a role edit late; the guarded write never does', async () => {
    const store = createRolesStore({ client: doc, tableName: TABLE });
    const guardedWrite = createGuardedWriter({ client: doc, tableName: TABLE });
    const role = await store.create({
      tenantId: 'stale',
      roleId: 'chief',
      name: 'Chief',
      allow: ['aircraft:update'],
    });
    const ctx = { tenantId: 'stale', role: 'chief' } as TenantContext;
    const authz = createRoleAuthorizer({ tableName: TABLE, now: () => 0, clientFor: () => doc });
    expect((await authz.authorize(ctx, 'aircraft:update')).effect).toBe('allow');
    await store.update({ ...role, deny: ['aircraft:*'] });
    // Within the TTL the authorizer still answers from its compiled copy (documented staleness)…
    expect((await authz.authorize(ctx, 'aircraft:update')).effect).toBe('allow');
    // …but the write's own check reads the role inside the transaction.
    const write = guardedWrite({
      tenantId: 'stale',
      roleId: 'chief',
      action: 'aircraft:update',
      writes: [putData('stale', 'A#1')],
    });
    expect(await outcome(write)).toEqual({
      effect: 'deny',
      reason: 'explicit-deny',
      matched: 'aircraft:*',
    });
    expect(await read('TENANT#stale', 'A#1')).toBeUndefined();
  });

  it('a pinned role version holds only at that version; a merged write keeps its own condition and the pin', async () => {
    const store = createRolesStore({ client: doc, tableName: TABLE });
    const guardedWrite = createGuardedWriter({ client: doc, tableName: TABLE });
    const role = await store.create({
      tenantId: 'pin',
      roleId: 'chief',
      name: 'Chief',
      allow: ['aircraft:update'],
    });
    const write = (roleVersion: number, SK: string) =>
      guardedWrite({
        tenantId: 'pin',
        roleId: 'chief',
        action: 'aircraft:update',
        writes: [putData('pin', SK)],
        roleVersion,
      });
    await write(1, 'A#1');
    expect(await read('TENANT#pin', 'A#1')).toBeDefined();
    // Edited meanwhile, still permitting: the decision made on version 1 must not stand.
    await store.update({ ...role, name: 'Chief (renamed)' });
    await expect(write(1, 'A#2')).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'role-changed',
    });
    expect(await read('TENANT#pin', 'A#2')).toBeUndefined();
    await write(2, 'A#2');
    expect(await read('TENANT#pin', 'A#2')).toBeDefined();

    // A write on the pinned role item itself: the check merges into it, and both conditions hold.
    const bump = (expected: number): TransactItem => ({
      Update: {
        TableName: TABLE,
        Key: { PK: 'CONTROL#pin', SK: 'ROLE#chief' },
        UpdateExpression: 'SET note = :note',
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':note': 'seen', ':expected': expected },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    const merged = (roleVersion: number, expected: number) =>
      guardedWrite({
        tenantId: 'pin',
        roleId: 'chief',
        action: 'aircraft:update',
        writes: [bump(expected)],
        roleVersion,
      });
    await expect(merged(1, 2)).rejects.toMatchObject({ reason: 'role-changed' });
    await expect(merged(2, 1)).rejects.toBeInstanceOf(WriteConditionError);
    expect((await read('CONTROL#pin', 'ROLE#chief'))?.note).toBeUndefined();
    await merged(2, 2);
    expect((await read('CONTROL#pin', 'ROLE#chief'))?.note).toBe('seen');
  });

  it('refuses a role item whose lists are of another type (a String allow is a substring test)', async () => {
    const guardedWrite = createGuardedWriter({ client: doc, tableName: TABLE });
    const plant = (roleId: string, attrs: Record<string, unknown>) =>
      doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { PK: 'CONTROL#types', SK: `ROLE#${roleId}`, roleId, ...attrs },
        }),
      );
    await plant('string-allow', { allow: 'aircraft:update-all', deny: [] });
    await plant('map-deny', { allow: ['*'], deny: { x: 'aircraft:update' } });
    await plant('set-allow', { allow: new Set(['aircraft:update']), deny: [] });
    await plant('no-deny', { allow: ['aircraft:update'] });
    const write = (roleId: string, SK: string) =>
      outcome(
        guardedWrite({
          tenantId: 'types',
          roleId,
          action: 'aircraft:update',
          writes: [putData('types', SK)],
        }),
      );
    for (const roleId of ['string-allow', 'map-deny', 'set-allow']) {
      expect(await write(roleId, `D#${roleId}`)).toEqual({
        effect: 'deny',
        reason: 'invalid-role',
      });
      expect(await read('TENANT#types', `D#${roleId}`)).toBeUndefined();
    }
    // A missing deny means no denies.
    expect(await write('no-deny', 'D#no-deny')).toEqual({ effect: 'allow' });
  });

  it('differential: evaluate and the guarded transaction agree on 200+ random (role, action) pairs', async () => {
    const guardedWrite = createGuardedWriter({ client: doc, tableName: TABLE });
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
    // One table, one partition per pair; roles written in batches of 25 so setup stays quick.
    const roles = cases.flatMap((c, i) =>
      c.exists
        ? [
            compileRole({
              tenantId: `diff${i}`,
              roleId: 'r',
              name: 'R',
              allow: c.allow,
              deny: c.deny,
              version: 1,
            }),
          ]
        : [],
    );
    for (let i = 0; i < roles.length; i += 25) {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: roles
            .slice(i, i + 25)
            .map((r) => ({ Put: { TableName: TABLE, Item: roleItem(r) } })),
        }),
      );
    }
    const byTenant = new Map(roles.map((r) => [r.tenantId, r]));
    const tally = { allowed: 0, 'explicit-deny': 0, 'no-match': 0, 'unknown-role': 0 };
    for (const [i, c] of cases.entries()) {
      const tenantId = `diff${i}`;
      const expected = evaluate(byTenant.get(tenantId), c.action);
      const got = await outcome(
        guardedWrite({ tenantId, roleId: 'r', action: c.action, writes: [putData(tenantId, 'D')] }),
      );
      const written = (await read(`TENANT#${tenantId}`, 'D')) !== undefined;
      const want =
        expected.effect === 'allow' ? { effect: 'allow' } : { ...expected, effect: 'deny' };
      expect({ i, ...c, got, written }).toEqual({
        i,
        ...c,
        got: want,
        written: expected.effect === 'allow',
      });
      tally[expected.reason]++;
    }
    // Every outcome must be well represented for the agreement to mean something.
    expect(tally.allowed).toBeGreaterThan(20);
    expect(tally['explicit-deny']).toBeGreaterThan(10);
    expect(tally['no-match']).toBeGreaterThan(10);
    expect(tally['unknown-role']).toBeGreaterThan(10);
  });
});
