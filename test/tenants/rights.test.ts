/**
 * "No one grants more than they hold", on its own: reading a role as stored (consistent, compiled,
 * fail closed) and the decision `assertHolds` makes for members:* and roles:* writes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TenantContext } from '../../authorizer/index.js';
import { compileRole } from '../../policy/index.js';
import {
  assertHolds,
  PermissionDeniedError,
  RightsExceededError,
  readStoredRole,
  type StoredRole,
} from '../../tenants/index.js';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);
beforeEach(() => mock.reset());

const ctx = (role: string): TenantContext => ({
  tenantId: 'acme',
  userId: 'caller',
  role,
  groups: ['acme'],
  identityId: 'id',
  credentials: {
    accessKeyId: 'A',
    secretAccessKey: 'S',
    sessionToken: 'T',
    expiration: new Date(0),
  },
});
const stored = (allow: string[], deny: string[] = [], roleId = 'r', version = 4): StoredRole => {
  const compiled = compileRole({ tenantId: 'acme', roleId, name: roleId, allow, deny, version });
  return { compiled, version };
};

describe('readStoredRole', () => {
  it('reads the role item consistently and compiles it, with its version', async () => {
    mock.on(GetCommand).resolves({
      Item: { tenantId: 'acme', roleId: 'pilot', name: 'Pilot', allow: ['a:*'], version: 7 },
    });
    const role = await readStoredRole(ddb, 'T', 'acme', 'pilot', 'members:invite');
    expect(role?.version).toBe(7);
    expect(role?.compiled).toMatchObject({ roleId: 'pilot', allow: ['a:*'], deny: [], version: 7 });
    expect(mock.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'T',
      Key: { PK: 'CONTROL#acme', SK: 'ROLE#pilot' },
      ConsistentRead: true,
    });
  });

  it('no item: undefined; a role id that cannot exist is not even read', async () => {
    mock.on(GetCommand).resolves({});
    expect(await readStoredRole(ddb, 'T', 'acme', 'ghost', 'x:y')).toBeUndefined();
    for (const roleId of ['', 'Admin', 'a#b', 'r'.repeat(65)])
      expect(await readStoredRole(ddb, 'T', 'acme', roleId, 'x:y')).toBeUndefined();
    expect(mock.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('a stored role that fails validation decides nothing: PermissionDeniedError invalid-role', async () => {
    mock.on(GetCommand).resolves({
      Item: { tenantId: 'acme', roleId: 'pilot', name: 'Pilot', allow: 'a:*', version: 1 },
    });
    const error = await readStoredRole(ddb, 'T', 'acme', 'pilot', 'roles:update').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ action: 'roles:update', reason: 'invalid-role' });
    expect((error as Error).cause).toBeDefined();
  });

  it('a failed read surfaces as it is', async () => {
    const failure = new Error('throttled');
    mock.on(GetCommand).rejects(failure);
    await expect(readStoredRole(ddb, 'T', 'acme', 'pilot', 'x:y')).rejects.toBe(failure);
  });
});

describe('assertHolds', () => {
  const manager = stored(['members:*', 'aircraft:*'], ['aircraft:delete'], 'manager');
  const target = (allow: string[], deny: string[] = [], roleId = 't') => ({
    roleId,
    compiled: stored(allow, deny, roleId).compiled,
  });
  const refusal = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('an admin may hand out anything, admin included', () => {
    expect(() =>
      assertHolds(ctx('admin'), 'members:invite', undefined, target(['*'])),
    ).not.toThrow();
    expect(() =>
      assertHolds(ctx('admin'), 'members:invite', undefined, {
        roleId: 'admin',
        compiled: undefined,
      }),
    ).not.toThrow();
  });

  it('nobody else may touch admin, even holding everything it grants', () => {
    const everything = stored(['*'], [], 'root');
    const error = refusal(() =>
      assertHolds(ctx('root'), 'members:update', everything, {
        roleId: 'admin',
        compiled: stored(['*'], [], 'admin').compiled,
      }),
    );
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).not.toBeInstanceOf(RightsExceededError);
    expect(error).toMatchObject({ action: 'members:update', reason: 'admin-only' });
  });

  it('a target that grants nothing (no such role) is within anyone', () => {
    expect(() =>
      assertHolds(ctx('manager'), 'roles:delete', undefined, {
        roleId: 'gone',
        compiled: undefined,
      }),
    ).not.toThrow();
  });

  it('within the holder: passes; the target own denies count', () => {
    expect(() =>
      assertHolds(ctx('manager'), 'members:invite', manager, target(['aircraft:read'])),
    ).not.toThrow();
    expect(() =>
      assertHolds(
        ctx('manager'),
        'members:invite',
        manager,
        target(['aircraft:*'], ['aircraft:delete']),
      ),
    ).not.toThrow();
  });

  it('beyond the holder: RightsExceededError naming the gap (not granted)', () => {
    const error = refusal(() =>
      assertHolds(ctx('manager'), 'members:invite', manager, target(['billing:read'], [], 'clerk')),
    );
    expect(error).toBeInstanceOf(RightsExceededError);
    expect(error).toMatchObject({
      action: 'members:invite',
      reason: 'exceeds-own-role',
      roleId: 'clerk',
      pattern: 'billing:read',
      example: 'billing:read',
      gap: 'not-granted',
    });
    expect((error as RightsExceededError).matched).toBeUndefined();
  });

  it("into the holder's denies: RightsExceededError naming the deny pattern", () => {
    const error = refusal(() =>
      assertHolds(ctx('manager'), 'members:invite', manager, target(['aircraft:*'], [], 'mech')),
    );
    expect(error).toMatchObject({
      name: 'RightsExceededError',
      pattern: 'aircraft:*',
      example: 'aircraft:delete',
      gap: 'denied',
      matched: 'aircraft:delete',
    });
  });

  it('a caller without a stored role holds nothing', () => {
    expect(
      refusal(() => assertHolds(ctx('ghost'), 'members:invite', undefined, target(['a:read']))),
    ).toBeInstanceOf(RightsExceededError);
    expect(() => assertHolds(ctx('ghost'), 'members:invite', undefined, target([]))).not.toThrow();
  });
});
