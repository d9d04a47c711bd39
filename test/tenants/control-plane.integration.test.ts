/**
 * The control-plane flows against real local services: cognito-local 5.3.0 (groups, attributes,
 * REFRESH_TOKEN_AUTH) and DynamoDB Local (transactions, conditions, GSI1). Tokens coming back are
 * checked by the production verifier. Tenant-scoped clients here are plain DynamoDB Local clients; the
 * isolation of those credentials is the end-to-end suite's business (local stack).
 */
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenVerifier,
  type TenantContext,
  type TokenVerifier,
} from '../../authorizer/index.js';
import {
  type AircraftService,
  ConflictError,
  createAircraftService,
  createCognitoDirectory,
  createMembershipCheck,
  createMembersService,
  createProfileStore,
  createRoleAuthorizer,
  createRolesAdmin,
  createTenantService,
  type MembersService,
  NotFoundError,
  PermissionDeniedError,
  type RolesAdmin,
  TenantAccessError,
  type TenantService,
} from '../../tenants/index.js';
import { type CognitoLocal, startCognitoLocal } from '../fixtures/cognito-local.js';
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from '../fixtures/dynamodb-local.js';

const TABLE = 'tenantgate-control-plane';
const PASSWORD = 'Passw0rd!long';

describe('control plane against cognito-local and DynamoDB Local', () => {
  let cognito: CognitoLocal;
  let ddb: DynamoDbLocal;
  let doc: DynamoDBDocumentClient;
  let verifier: TokenVerifier;
  let tenants: TenantService;
  let members: MembersService;
  let roles: RolesAdmin;
  let aircraft: AircraftService;
  const users: Record<string, { sub: string; refreshToken: string }> = {};

  const read = async (PK: string, SK: string) =>
    (await doc.send(new GetCommand({ TableName: TABLE, Key: { PK, SK }, ConsistentRead: true })))
      .Item;
  const claims = async (idToken: string) => (await verifier.verify(idToken)).payload;
  /** What the authorizer would put in the context for this user's current tokens. */
  const contextOf = async (email: string): Promise<TenantContext> => {
    const user = users[email];
    if (!user) throw new Error(`no user ${email}`);
    const tokens = await cognito.refresh(user.refreshToken);
    const c = await claims(tokens.idToken);
    return {
      tenantId: String(c['custom:tenant_id']),
      userId: String(c.sub),
      role: String(c['custom:role']),
      groups: (c['cognito:groups'] as string[] | undefined) ?? [],
      identityId: `us-east-1:${c.sub}`,
      credentials: {
        accessKeyId: 'local',
        secretAccessKey: 'local',
        sessionToken: 'x',
        expiration: new Date(Date.now() + 3_600_000),
      },
    };
  };
  const signUp = async (email: string) => {
    const sub = await cognito.signUpConfirmed(email, PASSWORD);
    // What the PostConfirmation trigger does (the local stack wires the real trigger).
    await createProfileStore({ client: doc, tableName: TABLE }).recordSignUp({
      userId: sub,
      email,
    });
    const { refreshToken } = await cognito.signIn(email, PASSWORD);
    users[email] = { sub, refreshToken };
    return sub;
  };

  beforeAll(async () => {
    [cognito, ddb] = await Promise.all([startCognitoLocal(), startDynamoDbLocal()]);
    await createTable(ddb.client, TABLE);
    doc = DynamoDBDocumentClient.from(ddb.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    verifier = createTokenVerifier({
      userPools: [{ userPoolId: cognito.userPoolId, clientIds: [cognito.clientId] }],
      fetcher: cognito.fetcher,
    });
    const directory = createCognitoDirectory({
      client: cognito.client,
      userPoolId: cognito.userPoolId,
      clientId: cognito.clientId,
    });
    // ttlMs 0: every check reads the table, so role edits are seen at once in these tests.
    const roleAuthorizer = createRoleAuthorizer({
      tableName: TABLE,
      ttlMs: 0,
      clientFor: () => doc,
    });
    tenants = createTenantService({ client: doc, tableName: TABLE, directory });
    members = createMembersService({
      tableName: TABLE,
      directory,
      roles: roleAuthorizer,
      clientFor: () => doc,
    });
    roles = createRolesAdmin({ tableName: TABLE, roles: roleAuthorizer, clientFor: () => doc });
    aircraft = createAircraftService({
      tableName: TABLE,
      roles: roleAuthorizer,
      clientFor: () => doc,
    });
    await Promise.all(
      ['ada@a.example', 'bob@b.example', 'cy@a.example', 'dee@a.example'].map(signUp),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all([cognito?.stop(), ddb?.stop()]);
  });

  let schoolA = '';
  let schoolB = '';

  it('sign-up wrote each profile once; a retried trigger keeps the first write', async () => {
    const sub = users['ada@a.example']?.sub ?? '';
    const profile = await read(`USER#${sub}`, 'PROFILE');
    expect(profile).toMatchObject({ email: 'ada@a.example', userId: sub, type: 'profile' });
    const again = await createProfileStore({ client: doc, tableName: TABLE }).recordSignUp({
      userId: sub,
      email: 'changed@a.example',
    });
    expect(again).toBe(false);
    expect((await read(`USER#${sub}`, 'PROFILE'))?.email).toBe('ada@a.example');
  });

  it('creates a tenant: table items, group, attributes, and refreshed tokens that carry it', async () => {
    const ada = users['ada@a.example'];
    if (!ada) throw new Error('setup');
    const result = await tenants.createTenant({
      userId: ada.sub,
      name: '  Alpha Flight School ',
      refreshToken: ada.refreshToken,
    });
    schoolA = result.tenant.tenantId;
    expect(result).toMatchObject({ tenant: { name: 'Alpha Flight School' }, resumed: false });
    expect(schoolA).toMatch(/^[A-Za-z0-9_-]{12}$/);
    const c = await claims(result.tokens?.idToken ?? '');
    expect(c).toMatchObject({ sub: ada.sub, 'custom:tenant_id': schoolA, 'custom:role': 'admin' });
    expect(c['cognito:groups']).toEqual([schoolA]);
    expect(await read(`TENANT#${schoolA}`, 'TENANT')).toMatchObject({
      status: 'active',
      name: 'Alpha Flight School',
    });
    expect(await read(`TENANT#${schoolA}`, `USER#${ada.sub}`)).toMatchObject({
      role: 'admin',
      GSI1PK: `USER#${ada.sub}`,
      GSI1SK: `TENANT#${schoolA}`,
    });
    expect(await read(`TENANT#${schoolA}`, 'ROLE#admin')).toMatchObject({ assigned: 1 });
    expect(await read(`TENANT#${schoolA}`, 'ROLE#member')).toMatchObject({ assigned: 0 });
    expect((await read(`USER#${ada.sub}`, 'PROFILE'))?.pendingTenant).toBeUndefined();

    const bob = users['bob@b.example'];
    if (!bob) throw new Error('setup');
    schoolB = (
      await tenants.createTenant({
        userId: bob.sub,
        name: 'Bravo Aviation',
        refreshToken: bob.refreshToken,
      })
    ).tenant.tenantId;
  });

  it('a creation stopped half-way is completed by the retry, with the same tenant id', async () => {
    const dee = users['dee@a.example'];
    if (!dee) throw new Error('setup');
    const failing = createTenantService({
      client: doc,
      tableName: TABLE,
      directory: {
        ...createCognitoDirectory({
          client: cognito.client,
          userPoolId: cognito.userPoolId,
          clientId: cognito.clientId,
        }),
        async addToGroup() {
          throw Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' });
        },
      },
    });
    await expect(failing.createTenant({ userId: dee.sub, name: 'Delta' })).rejects.toThrow(
      'throttled',
    );
    const pending = (await read(`USER#${dee.sub}`, 'PROFILE'))?.pendingTenant as string;
    expect(pending).toMatch(/^[A-Za-z0-9_-]{12}$/);
    // Reachable meanwhile: the tenant is listed, though not yet in the user's groups.
    expect((await tenants.listTenants(dee.sub)).map((t) => t.tenantId)).toEqual([pending]);

    const retry = await tenants.createTenant({
      userId: dee.sub,
      name: 'ignored on resume',
      refreshToken: dee.refreshToken,
    });
    expect(retry).toMatchObject({ tenant: { tenantId: pending, name: 'Delta' }, resumed: true });
    expect((await claims(retry.tokens?.idToken ?? ''))['custom:tenant_id']).toBe(pending);
    expect((await tenants.listTenants(dee.sub)).length).toBe(1);
  });

  it('lists my tenants from GSI1 with names, my role, and which one is active', async () => {
    const ada = users['ada@a.example']?.sub ?? '';
    expect(await tenants.listTenants(ada, schoolA)).toEqual([
      { tenantId: schoolA, name: 'Alpha Flight School', role: 'admin', active: true },
    ]);
  });

  it('refuses switching to a tenant not in my groups, before any call', async () => {
    const ctx = await contextOf('ada@a.example');
    await expect(
      tenants.switchTenant({
        userId: ctx.userId,
        groups: ctx.groups,
        tenantId: schoolB,
        refreshToken: users['ada@a.example']?.refreshToken ?? '',
      }),
    ).rejects.toBeInstanceOf(TenantAccessError);
  });

  it('the admin defines roles; validation is per field; a stale version is a conflict', async () => {
    const admin = await contextOf('ada@a.example');
    await roles.create(admin, {
      roleId: 'pilot',
      name: 'Pilot',
      allow: ['aircraft:read', 'aircraft:list', 'bookings:*'],
    });
    const chief = await roles.create(admin, {
      roleId: 'maintenance-chief',
      name: 'Maintenance chief',
      allow: ['aircraft:*'],
      deny: ['aircraft:delete'],
    });
    expect(chief.version).toBe(1);
    const bad = await roles
      .create(admin, { roleId: 'Bad Id', name: '', allow: ['ok:read', 'NOT VALID'] })
      .catch((e: unknown) => e);
    expect((bad as { issues: { field: string }[] }).issues.map((i) => i.field)).toEqual(
      expect.arrayContaining(['roleId', 'name', 'allow']),
    );
    await expect(
      roles.create(admin, { roleId: 'pilot', name: 'Again', allow: ['x:read'] }),
    ).rejects.toMatchObject({
      reason: 'already-exists',
    });
    const updated = await roles.update(admin, 'pilot', {
      name: 'Pilot',
      allow: ['aircraft:read', 'aircraft:list', 'bookings:*', 'logbook:*'],
      version: 1,
    });
    expect(updated.version).toBe(2);
    await expect(
      roles.update(admin, 'pilot', { name: 'Pilot', allow: ['aircraft:read'], version: 1 }),
    ).rejects.toMatchObject({ name: 'ConflictError', reason: 'stale-version' });
    const listed = await roles.list(admin);
    expect(listed.map((r) => r.roleId).sort()).toEqual([
      'admin',
      'maintenance-chief',
      'member',
      'pilot',
    ]);
  });

  it('invites members (idempotent), joins a second tenant, and switches to it', async () => {
    const admin = await contextOf('ada@a.example');
    const cy = users['cy@a.example'];
    const bob = users['bob@b.example'];
    if (!cy || !bob) throw new Error('setup');
    await members.invite(admin, { email: 'cy@a.example', role: 'pilot' });
    await members.invite(admin, { email: 'cy@a.example', role: 'pilot' }); // a retry completes, no error
    await expect(
      members.invite(admin, { email: 'cy@a.example', role: 'member' }),
    ).rejects.toMatchObject({
      reason: 'already-member',
    });
    await expect(
      members.invite(admin, { email: 'nobody@x.example', role: 'pilot' }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      members.invite(admin, { email: 'bob@b.example', role: 'ghost' }),
    ).rejects.toMatchObject({
      name: 'RoleNotFoundError',
    });
    expect(await read(`TENANT#${schoolA}`, 'ROLE#pilot')).toMatchObject({ assigned: 1 });
    // cy had no tenant: the invitation made school A active for them.
    const cyCtx = await contextOf('cy@a.example');
    expect(cyCtx).toMatchObject({ tenantId: schoolA, role: 'pilot', groups: [schoolA] });

    // Bob (admin of B) joins A as maintenance chief, then switches to it.
    await members.invite(admin, { email: 'bob@b.example', role: 'maintenance-chief' });
    const bobInB = await contextOf('bob@b.example');
    expect(bobInB.tenantId).toBe(schoolB);
    expect([...bobInB.groups].sort()).toEqual([schoolA, schoolB].sort());
    const switched = await tenants.switchTenant({
      userId: bob.sub,
      groups: bobInB.groups,
      tenantId: schoolA,
      refreshToken: bob.refreshToken,
    });
    expect(switched).toMatchObject({ tenantId: schoolA, role: 'maintenance-chief' });
    expect(await claims(switched.tokens.idToken)).toMatchObject({
      'custom:tenant_id': schoolA,
      'custom:role': 'maintenance-chief',
    });
    expect(
      (await tenants.listTenants(bob.sub, schoolA)).filter((t) => t.active).map((t) => t.tenantId),
    ).toEqual([schoolA]);
  });

  it("a pilot's aircraft update is denied and writes nothing; the maintenance chief's succeeds", async () => {
    const chief = await contextOf('bob@b.example');
    const pilot = await contextOf('cy@a.example');
    const plane = await aircraft.create(chief, { registration: 'N172SP', model: 'Cessna 172S' });
    expect(await aircraft.list(pilot)).toEqual([plane]);

    const denied = await aircraft
      .update(pilot, plane.aircraftId, { status: 'grounded', version: 1 })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect(denied).toMatchObject({ action: 'aircraft:update', reason: 'no-match' });
    expect(await read(`TENANT#${schoolA}`, `AIRCRAFT#${plane.aircraftId}`)).toMatchObject({
      status: 'airworthy',
      version: 1,
    });

    const done = await aircraft.update(chief, plane.aircraftId, {
      status: 'maintenance',
      version: 1,
    });
    expect(done).toMatchObject({ status: 'maintenance', version: 2, updatedBy: chief.userId });
    await expect(
      aircraft.update(chief, plane.aircraftId, { status: 'grounded', version: 1 }),
    ).rejects.toMatchObject({ reason: 'stale-version' });
  });

  it('changes roles, keeps the last admin, refuses deleting a role in use', async () => {
    const admin = await contextOf('ada@a.example');
    const ada = users['ada@a.example']?.sub ?? '';
    const cy = users['cy@a.example']?.sub ?? '';
    // Writes on the caller's own role item carry the permission check in their condition (DynamoDB
    // refuses one item twice in a transaction): an admin invites an admin, who then steps down.
    const dee = users['dee@a.example']?.sub ?? '';
    await members.invite(admin, { email: 'dee@a.example', role: 'admin' });
    expect(await read(`TENANT#${schoolA}`, 'ROLE#admin')).toMatchObject({ assigned: 2 });
    const deeInA = { ...admin, userId: dee, role: 'admin' };
    await members.changeRole(deeInA, dee, { role: 'member' });
    expect(await read(`TENANT#${schoolA}`, 'ROLE#admin')).toMatchObject({ assigned: 1 });
    // Now a member, she may not remove a member: refused by the check merged into the count write.
    const refused = await members
      .remove({ ...deeInA, role: 'member' }, cy)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect(refused).toMatchObject({ action: 'members:remove', reason: 'no-match' });
    expect(await read(`TENANT#${schoolA}`, `USER#${cy}`)).toBeDefined();

    // Delegated member management cannot make admins (no escalation past the delegate's own role).
    await roles.create(admin, { roleId: 'deputy', name: 'Deputy', allow: ['members:*'] });
    const deputy = { ...admin, role: 'deputy' };
    await expect(
      members.invite(deputy, { email: 'bob@b.example', role: 'admin' }),
    ).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      action: 'members:assign-admin',
    });
    await expect(members.changeRole(deputy, cy, { role: 'admin' })).rejects.toMatchObject({
      action: 'members:assign-admin',
    });

    await expect(members.changeRole(admin, ada, { role: 'member' })).rejects.toMatchObject({
      reason: 'last-admin',
    });
    await expect(members.remove(admin, ada)).rejects.toMatchObject({ reason: 'last-admin' });
    expect(await read(`TENANT#${schoolA}`, `USER#${ada}`)).toMatchObject({ role: 'admin' });

    const pilotRole = (await roles.list(admin)).find((r) => r.roleId === 'pilot');
    await expect(roles.remove(admin, 'pilot', pilotRole?.version)).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'role-in-use',
    });
    // Cy becomes a member; her active tenant is this one, so her next tokens carry the new role.
    await members.changeRole(admin, cy, { role: 'member' });
    expect((await contextOf('cy@a.example')).role).toBe('member');
    expect(await read(`TENANT#${schoolA}`, 'ROLE#pilot')).toMatchObject({ assigned: 0 });
    await roles.remove(admin, 'pilot', pilotRole?.version);
    expect(await read(`TENANT#${schoolA}`, 'ROLE#pilot')).toBeUndefined();
    await expect(roles.remove(admin, 'pilot', 2)).rejects.toMatchObject({
      name: 'RoleNotFoundError',
    });
  });

  it('a removed member loses access within the membership cache bound, and their tokens go tenant-less', async () => {
    const admin = await contextOf('ada@a.example');
    const cyCtx = await contextOf('cy@a.example');
    let now = 1_000_000;
    const check = createMembershipCheck({ client: doc, tableName: TABLE, now: () => now });
    const ask = () => check({ tenantId: cyCtx.tenantId, userId: cyCtx.userId, role: cyCtx.role });
    expect(await ask()).toBe(true);

    await members.remove(admin, cyCtx.userId);
    expect(await ask()).toBe(true); // cached: the documented bound, not a bug
    now += 60_000;
    expect(await ask()).toBe(false);

    const after = await cognito.refresh(users['cy@a.example']?.refreshToken ?? '');
    const c = await claims(after.idToken);
    expect(c['custom:tenant_id']).toBeUndefined();
    expect(c['cognito:groups'] ?? []).toEqual([]);
    await expect(members.remove(admin, cyCtx.userId)).rejects.toBeInstanceOf(NotFoundError);
    expect(await read(`TENANT#${schoolA}`, 'ROLE#member')).toMatchObject({ assigned: 1 }); // dee
  });

  it('GSI1 holds exactly one membership item per (user, tenant)', async () => {
    const bob = users['bob@b.example']?.sub ?? '';
    const { Items } = await doc.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :u',
        ExpressionAttributeValues: { ':u': `USER#${bob}` },
      }),
    );
    expect(Items?.map((i) => i.tenantId).sort()).toEqual([schoolA, schoolB].sort());
    expect(ConflictError).toBeDefined();
  });
});
