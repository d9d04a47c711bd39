import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TenantContext } from '../../authorizer/index.js';
import {
  createGuardedWriter,
  createRoleAuthorizer,
  PermissionDeniedError,
  permissionCheck,
} from '../../tenants/index.js';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(ddb);
const ctx = (role: string, tenantId = 'acme'): TenantContext => ({
  tenantId,
  userId: 'u1',
  role,
  groups: [tenantId],
  identityId: 'id',
  credentials: {
    accessKeyId: 'A',
    secretAccessKey: 'S',
    sessionToken: 'T',
    expiration: new Date(0),
  },
});
const pilot = {
  tenantId: 'acme',
  roleId: 'pilot',
  name: 'Pilot',
  allow: ['aircraft:read'],
  deny: [],
  version: 1,
};

describe('role authorizer', () => {
  let t = 0;
  beforeEach(() => {
    mock.reset();
    t = 0;
  });
  const make = () => createRoleAuthorizer({ tableName: 'T', now: () => t, clientFor: () => ddb });

  it('loads the role with the caller client, decides, and names the reason', async () => {
    mock.on(GetCommand).resolves({ Item: pilot });
    const authz = make();
    expect(await authz.authorize(ctx('pilot'), 'aircraft:read')).toEqual({
      effect: 'allow',
      reason: 'allowed',
      matched: 'aircraft:read',
    });
    const error = await authz.enforce(ctx('pilot'), 'aircraft:update').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect((error as PermissionDeniedError).reason).toBe('no-match');
    expect(mock.commandCalls(GetCommand)[0]?.args[0].input.Key).toEqual({
      PK: 'TENANT#acme',
      SK: 'ROLE#pilot',
    });
  });

  it('caches compiled roles per (tenant, role) for the TTL, with one load for concurrent checks', async () => {
    mock.on(GetCommand).resolves({ Item: pilot });
    const authz = make();
    await Promise.all(
      Array.from({ length: 10 }, () => authz.authorize(ctx('pilot'), 'aircraft:read')),
    );
    t = 29_999;
    await authz.authorize(ctx('pilot'), 'aircraft:read');
    expect(mock.commandCalls(GetCommand)).toHaveLength(1);
    await authz.authorize(ctx('pilot', 'other'), 'aircraft:read');
    expect(mock.commandCalls(GetCommand)).toHaveLength(2);
    t = 30_000;
    await authz.authorize(ctx('pilot'), 'aircraft:read');
    expect(mock.commandCalls(GetCommand)).toHaveLength(3);
  });

  it('a missing role or a token without a role is unknown-role', async () => {
    mock.on(GetCommand).resolves({});
    expect(await make().authorize(ctx('ghost'), 'aircraft:read')).toEqual({
      effect: 'deny',
      reason: 'unknown-role',
    });
    expect(await make().authorize(ctx(''), 'aircraft:read')).toEqual({
      effect: 'deny',
      reason: 'unknown-role',
    });
  });
});

describe('guarded write', () => {
  beforeEach(() => mock.reset());

  it('sends the permission check first, then the writes, in one transaction', async () => {
    mock.on(TransactWriteCommand).resolves({});
    const write = createGuardedWriter({ client: ddb, tableName: 'T' });
    await write({
      tenantId: 'acme',
      roleId: 'pilot',
      action: 'aircraft:update',
      writes: [{ Put: { TableName: 'T', Item: { PK: 'x', SK: 'y' } } }],
    });
    const items = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items).toHaveLength(2);
    expect(items[0]).toEqual(permissionCheck('T', 'acme', 'pilot', 'aircraft:update'));
    expect(items[0]?.ConditionCheck?.ExpressionAttributeValues).toEqual({
      ':g0': 'aircraft:update',
      ':g1': '*:update',
      ':g2': 'aircraft:*',
      ':g3': '*:*',
      ':g4': '*',
    });
  });

  it('maps a failed check to PermissionDeniedError; other cancellations surface as they are', async () => {
    const cancelled = (code: string) =>
      Object.assign(new Error('cancelled'), {
        name: 'TransactionCanceledException',
        CancellationReasons: [{ Code: code }, { Code: 'None' }],
      });
    const write = createGuardedWriter({ client: ddb, tableName: 'T' });
    const req = {
      tenantId: 'acme',
      roleId: 'pilot',
      action: 'aircraft:update',
      writes: [{ Put: { TableName: 'T', Item: {} } }],
    };
    mock
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('ConditionalCheckFailed'))
      .rejectsOnce(cancelled('TransactionConflict'));
    await expect(write(req)).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(write(req)).rejects.toThrow('cancelled');
    await expect(write({ ...req, writes: [] })).rejects.toThrow(RangeError);
    await expect(write({ ...req, action: 'Bad Action' })).rejects.toThrow(/segment/);
  });
});
