/**
 * The control-plane flows against real local services: cognito-local 5.3.0 (groups, attributes,
 * REFRESH_TOKEN_AUTH) and DynamoDB Local (transactions, conditions, GSI1). Tokens coming back are
 * checked by the production verifier. Tenant-scoped clients here are plain DynamoDB Local clients; the
 * isolation of those credentials is the end-to-end suite's business (local stack).
 */
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
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
  RightsExceededError,
  type RoleAuthorizer,
  type RolesAdmin,
  TenantAccessError,
  type TenantService,
  type UserDirectory,
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
  let directory: UserDirectory;
  let roleAuthorizer: RoleAuthorizer;
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
    directory = createCognitoDirectory({
      client: cognito.client,
      userPoolId: cognito.userPoolId,
      clientId: cognito.clientId,
    });
    // ttlMs 0: every check reads the table, so role edits are seen at once in these tests.
    roleAuthorizer = createRoleAuthorizer({
      tableName: TABLE,
      ttlMs: 0,
      clientFor: () => doc,
    });
    tenants = createTenantService({ client: doc, tableName: TABLE, directory });
    // Members and roles live in the control partitions: written with the function's own role.
    members = createMembersService({
      client: doc,
      tableName: TABLE,
      directory,
      roles: roleAuthorizer,
    });
    roles = createRolesAdmin({ client: doc, tableName: TABLE, roles: roleAuthorizer });
    aircraft = createAircraftService({
      tableName: TABLE,
      roles: roleAuthorizer,
      clientFor: () => doc,
    });
    await Promise.all(
      [
        'ada@a.example',
        'bob@b.example',
        'cy@a.example',
        'dee@a.example',
        'eve@a.example',
        'fay@a.example',
      ].map(signUp),
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
    expect(await read(`CONTROL#${schoolA}`, 'TENANT')).toMatchObject({
      status: 'active',
      name: 'Alpha Flight School',
    });
    expect(await read(`CONTROL#${schoolA}`, `USER#${ada.sub}`)).toMatchObject({
      role: 'admin',
      GSI1PK: `USER#${ada.sub}`,
      GSI1SK: `CONTROL#${schoolA}`,
    });
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#admin')).toMatchObject({ assigned: 1 });
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#member')).toMatchObject({ assigned: 0 });
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
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#pilot')).toMatchObject({ assigned: 1 });
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
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#admin')).toMatchObject({ assigned: 2 });
    const deeInA = { ...admin, userId: dee, role: 'admin' };
    await members.changeRole(deeInA, dee, { role: 'member' });
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#admin')).toMatchObject({ assigned: 1 });
    // Now a member, she may not remove a member: a member whose role reaches beyond hers is refused
    // before any write, and one within hers (herself) by the check merged into the count write.
    const deeAsMember = { ...deeInA, role: 'member' };
    const beyond = await members.remove(deeAsMember, cy).catch((e: unknown) => e);
    expect(beyond).toBeInstanceOf(RightsExceededError);
    expect(beyond).toMatchObject({
      action: 'members:remove',
      reason: 'exceeds-own-role',
      roleId: 'pilot',
      pattern: 'bookings:*',
    });
    const refused = await members.remove(deeAsMember, dee).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect(refused).toMatchObject({ action: 'members:remove', reason: 'no-match' });
    expect(await read(`CONTROL#${schoolA}`, `USER#${cy}`)).toBeDefined();
    expect(await read(`CONTROL#${schoolA}`, `USER#${dee}`)).toMatchObject({ role: 'member' });
    expect(await read(`CONTROL#${schoolA}`, `REMOVED#${dee}`)).toBeUndefined();

    // Delegated member management cannot make admins, nor change one (admin only), even of roles
    // the delegate otherwise holds entirely (`member`).
    await roles.create(admin, {
      roleId: 'deputy',
      name: 'Deputy',
      allow: ['members:*', '*:read', '*:list', '*:*:read', '*:*:list', 'me:*'],
    });
    const deputy = { ...admin, userId: users['bob@b.example']?.sub ?? '', role: 'deputy' };
    await expect(
      members.invite(deputy, { email: 'eve@a.example', role: 'admin' }),
    ).rejects.toMatchObject({
      name: 'PermissionDeniedError',
      action: 'members:invite',
      reason: 'admin-only',
    });
    await expect(members.changeRole(deputy, dee, { role: 'admin' })).rejects.toMatchObject({
      action: 'members:update',
      reason: 'admin-only',
    });
    await expect(members.changeRole(deputy, ada, { role: 'member' })).rejects.toMatchObject({
      action: 'members:update',
      reason: 'admin-only',
    });
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#admin')).toMatchObject({ assigned: 1 });

    await expect(members.changeRole(admin, ada, { role: 'member' })).rejects.toMatchObject({
      reason: 'last-admin',
    });
    await expect(members.remove(admin, ada)).rejects.toMatchObject({ reason: 'last-admin' });
    expect(await read(`CONTROL#${schoolA}`, `USER#${ada}`)).toMatchObject({ role: 'admin' });

    const pilotRole = (await roles.list(admin)).find((r) => r.roleId === 'pilot');
    await expect(roles.remove(admin, 'pilot', pilotRole?.version)).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'role-in-use',
    });
    // Cy becomes a member; her active tenant is this one, so her next tokens carry the new role.
    await members.changeRole(admin, cy, { role: 'member' });
    expect((await contextOf('cy@a.example')).role).toBe('member');
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#pilot')).toMatchObject({ assigned: 0 });
    await roles.remove(admin, 'pilot', pilotRole?.version);
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#pilot')).toBeUndefined();
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
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#member')).toMatchObject({ assigned: 1 }); // dee
  });

  /** A user's groups and active tenant as Cognito has them now (a fresh token's claims). */
  const cognitoView = async (email: string) => {
    const tokens = await cognito.refresh(users[email]?.refreshToken ?? '');
    const c = await claims(tokens.idToken);
    return {
      groups: (c['cognito:groups'] as string[] | undefined) ?? [],
      tenantId: c['custom:tenant_id'],
    };
  };

  it('a delegated members:* holder cannot hand out `*`: refused, nothing written, nothing in Cognito', async () => {
    const admin = await contextOf('ada@a.example');
    const dee = users['dee@a.example']?.sub ?? '';
    const eve = users['eve@a.example']?.sub ?? '';
    await roles.create(admin, { roleId: 'root', name: 'Root', allow: ['*'] });
    // `deputy`: members:* and what a member holds.
    const deputy = { ...admin, userId: users['bob@b.example']?.sub ?? '', role: 'deputy' };

    const invited = await members
      .invite(deputy, { email: 'eve@a.example', role: 'root' })
      .catch((e: unknown) => e);
    expect(invited).toBeInstanceOf(RightsExceededError);
    expect(invited).toMatchObject({
      action: 'members:invite',
      reason: 'exceeds-own-role',
      roleId: 'root',
      pattern: '*',
      gap: 'not-granted',
    });
    const changed = await members
      .changeRole(deputy, dee, { role: 'root' })
      .catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(RightsExceededError);
    expect(changed).toMatchObject({ action: 'members:update', roleId: 'root', pattern: '*' });

    expect(await read(`CONTROL#${schoolA}`, `USER#${eve}`)).toBeUndefined();
    expect(await read(`CONTROL#${schoolA}`, `USER#${dee}`)).toMatchObject({ role: 'member' });
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#root')).toMatchObject({
      assigned: 0,
      version: 1,
    });
    expect(await cognitoView('eve@a.example')).toEqual({ groups: [], tenantId: undefined });

    // Within the deputy's own rights, delegation works.
    await members.invite(deputy, { email: 'eve@a.example', role: 'member' });
    expect(await read(`CONTROL#${schoolA}`, `USER#${eve}`)).toMatchObject({ role: 'member' });
    expect((await cognitoView('eve@a.example')).groups).toEqual([schoolA]);
  });

  it('a roles:update holder cannot widen a role they hold to ["*"], nor create a role beyond their own', async () => {
    const admin = await contextOf('ada@a.example');
    await roles.create(admin, {
      roleId: 'role-editor',
      name: 'Role editor',
      allow: ['roles:*', 'aircraft:read'],
    });
    const editor = { ...admin, userId: users['bob@b.example']?.sub ?? '', role: 'role-editor' };

    const widened = await roles
      .update(editor, 'role-editor', { name: 'Role editor', allow: ['*'], version: 1 })
      .catch((e: unknown) => e);
    expect(widened).toBeInstanceOf(RightsExceededError);
    expect(widened).toMatchObject({
      action: 'roles:update',
      reason: 'exceeds-own-role',
      roleId: 'role-editor',
      pattern: '*',
    });
    const stored = await read(`CONTROL#${schoolA}`, 'ROLE#role-editor');
    expect(stored).toMatchObject({ version: 1 });
    expect(stored?.allow).not.toContain('*');

    const created = await roles
      .create(editor, { roleId: 'biller', name: 'Biller', allow: ['billing:*'] })
      .catch((e: unknown) => e);
    expect(created).toBeInstanceOf(RightsExceededError);
    expect(created).toMatchObject({
      action: 'roles:create',
      roleId: 'biller',
      pattern: 'billing:*',
      gap: 'not-granted',
    });
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#biller')).toBeUndefined();

    // Within their own role they may.
    await roles.create(editor, { roleId: 'spotter', name: 'Spotter', allow: ['aircraft:read'] });
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#spotter')).toMatchObject({ version: 1 });
  });

  it('a role edited between the coverage read and the write: role-changed, nothing written', async () => {
    const admin = await contextOf('ada@a.example');
    const fay = users['fay@a.example']?.sub ?? '';
    // A client that lets an edit land just before the next transaction: the race, made certain.
    let beforeWrite: (() => Promise<unknown>) | undefined;
    const racing = {
      async send(command: Parameters<DynamoDBDocumentClient['send']>[0]) {
        if (command instanceof TransactWriteCommand && beforeWrite) {
          const edit = beforeWrite;
          beforeWrite = undefined;
          await edit();
        }
        return doc.send(command);
      },
    } as unknown as DynamoDBDocumentClient;
    const racingMembers = createMembersService({
      client: racing,
      tableName: TABLE,
      directory,
      roles: roleAuthorizer,
    });
    const racingRoles = createRolesAdmin({
      client: racing,
      tableName: TABLE,
      roles: roleAuthorizer,
    });
    const deputy = { ...admin, userId: users['bob@b.example']?.sub ?? '', role: 'deputy' };

    // The role granted widens past the deputy after the decision: without the pin, the deputy
    // would have handed out billing:*.
    beforeWrite = () =>
      roles.update(admin, 'spotter', {
        name: 'Spotter',
        allow: ['aircraft:read', 'billing:*'],
        version: 1,
      });
    await expect(
      racingMembers.invite(deputy, { email: 'fay@a.example', role: 'spotter' }),
    ).rejects.toMatchObject({ name: 'ConflictError', reason: 'role-changed' });
    expect(beforeWrite).toBeUndefined();
    expect(await read(`CONTROL#${schoolA}`, `USER#${fay}`)).toBeUndefined();
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#spotter')).toMatchObject({
      version: 2,
      assigned: 0,
    });
    expect((await cognitoView('fay@a.example')).groups).toEqual([]);
    // The retry decides on the role as it is now.
    await expect(
      members.invite(deputy, { email: 'fay@a.example', role: 'spotter' }),
    ).rejects.toBeInstanceOf(RightsExceededError);

    // The caller's own role narrows after the decision: the role they were about to create is no
    // longer within it.
    const editor = { ...admin, userId: users['bob@b.example']?.sub ?? '', role: 'role-editor' };
    beforeWrite = () =>
      roles.update(admin, 'role-editor', { name: 'Role editor', allow: ['roles:*'], version: 1 });
    await expect(
      racingRoles.create(editor, { roleId: 'watcher', name: 'Watcher', allow: ['aircraft:read'] }),
    ).rejects.toMatchObject({ name: 'ConflictError', reason: 'role-changed' });
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#watcher')).toBeUndefined();
    await expect(
      roles.create(editor, { roleId: 'watcher', name: 'Watcher', allow: ['aircraft:read'] }),
    ).rejects.toBeInstanceOf(RightsExceededError);
  });

  it('the sole admin cannot remove themselves: last-admin, nothing written, still in the group', async () => {
    const admin = await contextOf('ada@a.example');
    await expect(members.remove(admin, admin.userId)).rejects.toMatchObject({
      name: 'ConflictError',
      reason: 'last-admin',
    });
    expect(await read(`CONTROL#${schoolA}`, `USER#${admin.userId}`)).toMatchObject({
      role: 'admin',
    });
    expect(await read(`CONTROL#${schoolA}`, 'ROLE#admin')).toMatchObject({ assigned: 1 });
    expect(await read(`CONTROL#${schoolA}`, `REMOVED#${admin.userId}`)).toBeUndefined();
    expect((await cognitoView('ada@a.example')).groups).toContain(schoolA);
  });

  it('a removal whose Cognito step failed leaves a marker; the retry completes it; then 404', async () => {
    const admin = await contextOf('ada@a.example');
    const eve = users['eve@a.example']?.sub ?? '';
    let failures = 1;
    const flaky = createMembersService({
      client: doc,
      tableName: TABLE,
      roles: roleAuthorizer,
      directory: {
        ...directory,
        async removeFromGroup(userId, tenantId) {
          if (failures-- > 0)
            throw Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' });
          return directory.removeFromGroup(userId, tenantId);
        },
      },
    });
    await expect(flaky.remove(admin, eve)).rejects.toThrow('throttled');
    // The table says she is out (the membership check refuses her); Cognito still has her.
    expect(await read(`CONTROL#${schoolA}`, `USER#${eve}`)).toBeUndefined();
    expect(await read(`CONTROL#${schoolA}`, `REMOVED#${eve}`)).toMatchObject({
      type: 'removal',
      userId: eve,
    });
    expect(await cognitoView('eve@a.example')).toEqual({ groups: [schoolA], tenantId: schoolA });

    await flaky.remove(admin, eve);
    expect(await read(`CONTROL#${schoolA}`, `REMOVED#${eve}`)).toBeUndefined();
    expect(await cognitoView('eve@a.example')).toEqual({ groups: [], tenantId: undefined });
    await expect(flaky.remove(admin, eve)).rejects.toBeInstanceOf(NotFoundError);
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
