/**
 * Every attack of the security review (issue 11), replayed on the local stack built from template.yaml,
 * as the attacker would: a signed-in user with a browser, their own tokens, the AWS SDK and every public
 * AWS API (the user pool, the identity pool and its id). Each must be refused with nothing changed.
 *
 * Where an attack needs tenant credentials (a backend function's, as the authorizer hands them out), the
 * test takes them from the AuthorizerFunction itself: no user can, which is the first thing shown.
 * DynamoDB Local is read directly only to assert what was (not) written, and to plant what an attacker
 * could no longer write (a forged profile marker, a forged index entry), to show the control plane does
 * not trust it either.
 */

import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import {
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  InitiateAuthCommand,
  SignUpCommand,
  UpdateUserAttributesCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { fc } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, type DemoClient } from '../../sam/local/demo.js';
import type { LocalStack } from '../../sam/local/stack.js';
import { type E2eStack, startE2eStack } from '../fixtures/e2e-stack.js';

const denied = { name: 'AccessDeniedException' };
const notAuthorized = { name: 'NotAuthorizedException' };

describe("attacks with only a user's own tokens, on the local stack", () => {
  let e2e: E2eStack;
  let stack: LocalStack;
  let client: DemoClient;
  let direct: DynamoDBDocumentClient;
  let subs: Record<string, string> = {};
  let ids: Record<string, string> = {};
  let refresh: Record<string, string> = {};
  let alpha = '';
  let bravo = '';

  const read = (PK: string, SK: string) => e2e.read(PK, SK);
  const api = (who: string, method: string, path: string, body?: unknown, base?: string) =>
    e2e.api(who, method, path, body, base);
  const signIn = (who: string) => e2e.signIn(who);
  const backendCredentials = (who: string) => e2e.tenantClient(who);
  const partition = async (PK: string) =>
    (
      await direct.send(
        new QueryCommand({
          TableName: stack.tableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': PK },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  // By sub: cognito-local keeps group membership under the username (the sub), not the email alias.
  const groupsOf = async (email: string) =>
    (
      await client.cognito.send(
        new AdminListGroupsForUserCommand({ UserPoolId: stack.userPoolId, Username: subs[email] }),
      )
    ).Groups?.map((g) => g.GroupName) ?? [];
  const attributesOf = async (email: string) =>
    Object.fromEntries(
      (
        (
          await client.cognito.send(
            new AdminGetUserCommand({ UserPoolId: stack.userPoolId, Username: email }),
          )
        ).UserAttributes ?? []
      ).map((a) => [a.Name, a.Value]),
    );
  /** An identity-pool client as any browser has it: no AWS credentials, the public pool id. */
  const publicIdentity = () =>
    new CognitoIdentityClient({
      endpoint: stack.endpoints.identityPool,
      region: stack.region,
      // The SDK signs the IAM-only operations: a browser has no keys, so these are made up.
      credentials: { accessKeyId: 'AKIDATTACKERNOTAKEY', secretAccessKey: 'made-up' },
    });
  beforeAll(async () => {
    e2e = await startE2eStack();
    ({ stack, client, direct, subs, ids, refresh } = e2e);
    for (const who of [
      'ada@alpha.example',
      'pia@alpha.example',
      'hal@alpha.example',
      'bob@bravo.example',
      'eve@elsewhere.example',
    ]) {
      await e2e.signUp(who);
    }
    const a = await api('ada@alpha.example', 'POST', '/tenants', {
      name: 'Alpha',
      refreshToken: refresh['ada@alpha.example'],
    });
    alpha = (a.body.tenant as { tenantId: string }).tenantId;
    ids['ada@alpha.example'] = (a.body.tokens as { idToken: string }).idToken;
    const b = await api('bob@bravo.example', 'POST', '/tenants', {
      name: 'Bravo',
      refreshToken: refresh['bob@bravo.example'],
    });
    bravo = (b.body.tenant as { tenantId: string }).tenantId;
    ids['bob@bravo.example'] = (b.body.tokens as { idToken: string }).idToken;
    // Alpha: a read-only pilot, and an HR role holding members:* only.
    for (const role of [
      { roleId: 'pilot', name: 'Pilot', allow: ['aircraft:read', 'aircraft:list'] },
      {
        roleId: 'hr',
        name: 'HR',
        allow: ['members:*', 'roles:*', 'aircraft:read', 'aircraft:list'],
      },
    ])
      expect((await api('ada@alpha.example', 'POST', '/roles', role)).status).toBe(201);
    for (const [who, role] of [
      ['pia@alpha.example', 'pilot'],
      ['hal@alpha.example', 'hr'],
    ] as const) {
      expect(
        (await api('ada@alpha.example', 'POST', '/members', { email: who, role })).status,
      ).toBe(201);
      await signIn(who); // the invitation made alpha their active tenant
    }
  }, 180_000);
  afterAll(async () => {
    await e2e?.stop();
  });

  describe('5. the local user pool refuses what the app client may not write, as Cognito does', () => {
    const unauthorizedAttribute = {
      name: 'NotAuthorizedException',
      message: 'A client attempted to write unauthorized attribute',
    };
    it('a sign-up carrying custom:tenant_id, and an update of custom:role, change nothing', async () => {
      await expect(
        client.cognito.send(
          new SignUpCommand({
            ClientId: stack.clientId,
            Username: 'mallory@elsewhere.example',
            Password: 'Str0ng!Passw0rd',
            UserAttributes: [
              { Name: 'email', Value: 'mallory@elsewhere.example' },
              { Name: 'custom:tenant_id', Value: bravo },
            ],
          }),
        ),
      ).rejects.toMatchObject(unauthorizedAttribute);
      const before = await attributesOf('pia@alpha.example');
      const { AuthenticationResult } = await client.cognito.send(
        new InitiateAuthCommand({
          ClientId: stack.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: 'pia@alpha.example', PASSWORD: DEMO_PASSWORD },
        }),
      );
      const accessToken = AuthenticationResult?.AccessToken ?? '';
      await expect(
        client.cognito.send(
          new UpdateUserAttributesCommand({
            AccessToken: accessToken,
            UserAttributes: [{ Name: 'custom:role', Value: 'admin' }],
          }),
        ),
      ).rejects.toMatchObject(unauthorizedAttribute);
      expect(await attributesOf('pia@alpha.example')).toEqual(before);
    });
  });

  describe('1. a user cannot get tenant credentials from the identity pool', () => {
    it('their ID token is refused by GetId, GetCredentialsForIdentity and GetOpenIdToken, and nothing is issued', async () => {
      const identity = publicIdentity();
      const logins = { [stack.issuer.replace('https://', '')]: ids['pia@alpha.example'] ?? '' };
      const before = stack.identityPoolStats();
      try {
        await expect(
          identity.send(new GetIdCommand({ IdentityPoolId: stack.identityPoolId, Logins: logins })),
        ).rejects.toMatchObject({
          ...notAuthorized,
          message: 'Token is not from a supported provider of this identity pool.',
        });
        await expect(
          identity.send(new GetIdCommand({ IdentityPoolId: stack.identityPoolId })),
        ).rejects.toMatchObject(notAuthorized);
        await expect(
          identity.send(
            new GetCredentialsForIdentityCommand({
              IdentityId: `${stack.region}:00000000-0000-4000-8000-000000000000`,
              Logins: logins,
            }),
          ),
        ).rejects.toMatchObject(notAuthorized);
        await expect(
          identity.send(
            new GetOpenIdTokenCommand({
              IdentityId: `${stack.region}:00000000-0000-4000-8000-000000000000`,
              Logins: logins,
            }),
          ),
        ).rejects.toMatchObject(notAuthorized);
      } finally {
        identity.destroy();
      }
      // Four calls, four refusals: nothing was issued.
      const after = stack.identityPoolStats();
      expect(
        (after.errors.NotAuthorizedException ?? 0) - (before.errors.NotAuthorizedException ?? 0),
      ).toBe(4);
    });

    it('GetOpenIdTokenForDeveloperIdentity needs the authorizer role: unsigned and made-up keys are refused', async () => {
      const request = {
        IdentityPoolId: stack.identityPoolId,
        Logins: { 'login.tenantgate': `x:${subs['pia@alpha.example']}` },
        PrincipalTags: { tenant_id: bravo, user_id: subs['pia@alpha.example'] ?? '' },
      };
      const forged = publicIdentity();
      const unsigned = new CognitoIdentityClient({
        endpoint: stack.endpoints.identityPool,
        region: stack.region,
        credentials: { accessKeyId: '', secretAccessKey: '' },
      });
      // No signature at all: strip the Authorization header the SDK would add.
      unsigned.middlewareStack.add(
        (next) => async (args) => {
          const req = args.request as { headers: Record<string, string> };
          delete req.headers.authorization;
          delete req.headers['x-amz-date'];
          return next(args);
        },
        { step: 'finalizeRequest', name: 'stripSignature', priority: 'low' },
      );
      try {
        await expect(
          forged.send(new GetOpenIdTokenForDeveloperIdentityCommand(request)),
        ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
        await expect(
          unsigned.send(new GetOpenIdTokenForDeveloperIdentityCommand(request)),
        ).rejects.toMatchObject({ name: 'MissingAuthenticationTokenException' });
      } finally {
        forged.destroy();
        unsigned.destroy();
      }
    });
  });

  describe('1. even the tenant credentials a backend function holds cannot decide membership or roles', () => {
    it("a read-only pilot's credentials cannot make them admin, widen their role, or touch any profile", async () => {
      const pilot = await backendCredentials('pia@alpha.example');
      const memberKey = { PK: `CONTROL#${alpha}`, SK: `USER#${subs['pia@alpha.example']}` };
      const before = {
        member: await read(memberKey.PK, memberKey.SK),
        role: await read(`CONTROL#${alpha}`, 'ROLE#pilot'),
        profile: await read(`USER#${subs['pia@alpha.example']}`, 'PROFILE'),
      };
      try {
        await expect(
          pilot.send(
            new UpdateCommand({
              TableName: stack.tableName,
              Key: memberKey,
              UpdateExpression: 'SET #r = :admin',
              ExpressionAttributeNames: { '#r': 'role' },
              ExpressionAttributeValues: { ':admin': 'admin' },
            }),
          ),
        ).rejects.toMatchObject(denied);
        await expect(
          pilot.send(
            new UpdateCommand({
              TableName: stack.tableName,
              Key: { PK: `CONTROL#${alpha}`, SK: 'ROLE#pilot' },
              UpdateExpression: 'SET #a = :all',
              ExpressionAttributeNames: { '#a': 'allow' },
              ExpressionAttributeValues: { ':all': ['*'] },
            }),
          ),
        ).rejects.toMatchObject(denied);
        await expect(
          pilot.send(
            new UpdateCommand({
              TableName: stack.tableName,
              Key: { PK: `USER#${subs['pia@alpha.example']}`, SK: 'PROFILE' },
              UpdateExpression: 'SET pendingTenant = :victim',
              ExpressionAttributeValues: { ':victim': bravo },
            }),
          ),
        ).rejects.toMatchObject(denied);
        // Reading the control partition is allowed (roles, members); another tenant's is not.
        expect(
          (
            await pilot.send(
              new GetCommand({
                TableName: stack.tableName,
                Key: { PK: `CONTROL#${alpha}`, SK: 'ROLE#pilot' },
              }),
            )
          ).Item?.roleId,
        ).toBe('pilot');
        await expect(
          pilot.send(
            new GetCommand({
              TableName: stack.tableName,
              Key: { PK: `CONTROL#${bravo}`, SK: 'TENANT' },
            }),
          ),
        ).rejects.toMatchObject(denied);
        // No index at all: GSI1 would let a tenant plant entries in someone else's index partition.
        await expect(
          pilot.send(
            new QueryCommand({
              TableName: stack.tableName,
              IndexName: 'GSI1',
              KeyConditionExpression: 'GSI1PK = :u',
              ExpressionAttributeValues: { ':u': `USER#${subs['pia@alpha.example']}` },
            }),
          ),
        ).rejects.toMatchObject(denied);
      } finally {
        pilot.destroy();
      }
      expect(await read(memberKey.PK, memberKey.SK)).toEqual(before.member);
      expect(await read(`CONTROL#${alpha}`, 'ROLE#pilot')).toEqual(before.role);
      expect(await read(`USER#${subs['pia@alpha.example']}`, 'PROFILE')).toEqual(before.profile);
    });

    it("a pilot's update through the API is still a 403 naming aircraft:update, with nothing written", async () => {
      const plane = await api('ada@alpha.example', 'POST', '/aircraft', {
        registration: 'N12345',
        model: 'Piper PA-28',
      });
      const id = String(plane.body.aircraftId);
      const r = await api('pia@alpha.example', 'PUT', `/aircraft/${id}`, {
        model: 'Hijacked',
        version: 1,
      });
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ action: 'aircraft:update', reason: 'no-match' });
      expect((await read(`TENANT#${alpha}`, `AIRCRAFT#${id}`))?.model).toBe('Piper PA-28');
    });
  });

  describe('1. no tenant takeover through a forged profile marker', () => {
    it("POST /tenants with pendingTenant naming someone else's tenant starts a new tenant of the caller's own", async () => {
      // However it got there (no credentials can write it any more), the marker is not trusted.
      await direct.send(
        new UpdateCommand({
          TableName: stack.tableName,
          Key: { PK: `USER#${subs['eve@elsewhere.example']}`, SK: 'PROFILE' },
          UpdateExpression: 'SET pendingTenant = :victim',
          ExpressionAttributeValues: { ':victim': bravo },
        }),
      );
      const bravoBefore = await partition(`CONTROL#${bravo}`);
      const r = await api('eve@elsewhere.example', 'POST', '/tenants', {
        name: 'Eve Co',
        refreshToken: refresh['eve@elsewhere.example'],
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ resumed: false });
      expect((r.body.tenant as { tenantId: string }).tenantId).not.toBe(bravo);
      expect(await partition(`CONTROL#${bravo}`)).toEqual(bravoBefore);
      expect(await groupsOf('eve@elsewhere.example')).not.toContain(bravo);
      expect((await attributesOf('eve@elsewhere.example'))['custom:tenant_id']).not.toBe(bravo);
      expect(await read(`USER#${subs['eve@elsewhere.example']}`, 'PROFILE')).not.toHaveProperty(
        'pendingTenant',
      );
    });
  });

  describe('1. no forged entries in someone else\'s "my tenants"', () => {
    it('an index entry naming another user is not a membership', async () => {
      // Tenant credentials may write their data partition, GSI keys included: plant one.
      const bobsCreds = await backendCredentials('bob@bravo.example');
      try {
        await bobsCreds.send(
          new PutCommand({
            TableName: stack.tableName,
            Item: {
              PK: `TENANT#${bravo}`,
              SK: 'FORGED',
              GSI1PK: `USER#${subs['pia@alpha.example']}`,
              GSI1SK: `CONTROL#${bravo}`,
              tenantId: bravo,
              userId: subs['pia@alpha.example'],
              role: 'admin',
              tenantName: 'Bravo (forged)',
            },
          }),
        );
      } finally {
        bobsCreds.destroy();
      }
      const mine = await api('pia@alpha.example', 'GET', '/me/tenants');
      expect((mine.body.tenants as { tenantId: string }[]).map((t) => t.tenantId)).toEqual([alpha]);
    });
  });

  describe('1. a removed member is refused at once, and gets no new credentials', () => {
    it('the old token is a 403 and the identity pool mints nothing for it', async () => {
      const who = 'eve@elsewhere.example';
      // Eve joins Alpha as a pilot, signs in, then is removed.
      expect(
        (await api('ada@alpha.example', 'POST', '/members', { email: who, role: 'pilot' })).status,
      ).toBe(201);
      expect(
        (await api(who, 'POST', '/me/tenant', { tenantId: alpha, refreshToken: refresh[who] }))
          .status,
      ).toBe(200);
      await signIn(who);
      expect((await api(who, 'GET', '/aircraft')).status).toBe(200);
      expect((await api('ada@alpha.example', 'DELETE', `/members/${subs[who]}`)).status).toBe(204);
      stack.resetIdentityPoolStats();
      expect((await api(who, 'GET', '/aircraft')).status).toBe(403);
      expect((await api(who, 'GET', '/aircraft', undefined, stack.endpoints.httpApi)).status).toBe(
        403,
      );
      expect(stack.identityPoolStats().GetCredentialsForIdentity).toBe(0);
    });
  });

  describe('2. a delegated administrator cannot exceed their own rights', () => {
    it('members:* cannot assign a role beyond its own, nor change its own role; nothing is written', async () => {
      // Ada makes a role with everything; HR (members:*, roles:*, aircraft:read) may not hand it out.
      expect(
        (
          await api('ada@alpha.example', 'POST', '/roles', {
            roleId: 'ops',
            name: 'Ops',
            allow: ['*'],
          })
        ).status,
      ).toBe(201);
      const piaBefore = await read(`CONTROL#${alpha}`, `USER#${subs['pia@alpha.example']}`);
      const opsBefore = await read(`CONTROL#${alpha}`, 'ROLE#ops');
      const assign = await api(
        'hal@alpha.example',
        'PUT',
        `/members/${subs['pia@alpha.example']}`,
        {
          role: 'ops',
        },
      );
      expect(assign.status).toBe(403);
      expect(assign.body).toMatchObject({
        action: 'members:update',
        reason: 'exceeds-own-role',
        role: 'ops',
        pattern: '*',
      });
      const self = await api('hal@alpha.example', 'PUT', `/members/${subs['hal@alpha.example']}`, {
        role: 'ops',
      });
      expect(self.status).toBe(403);
      expect(self.body).toMatchObject({ reason: 'own-role' });
      const invite = await api('hal@alpha.example', 'POST', '/members', {
        email: 'bob@bravo.example',
        role: 'admin',
      });
      expect(invite.body).toMatchObject({ reason: 'admin-only' });
      const removeAdmin = await api(
        'hal@alpha.example',
        'DELETE',
        `/members/${subs['ada@alpha.example']}`,
      );
      expect(removeAdmin.body).toMatchObject({ reason: 'admin-only' });
      expect(await read(`CONTROL#${alpha}`, `USER#${subs['pia@alpha.example']}`)).toEqual(
        piaBefore,
      );
      expect(await read(`CONTROL#${alpha}`, 'ROLE#ops')).toEqual(opsBefore);
      expect(await read(`CONTROL#${alpha}`, `USER#${subs['bob@bravo.example']}`)).toBeUndefined();
      expect(await groupsOf('bob@bravo.example')).not.toContain(alpha);
    });

    it('roles:update cannot widen a role it holds, nor create one beyond its own', async () => {
      const hrBefore = await read(`CONTROL#${alpha}`, 'ROLE#hr');
      const widen = await api('hal@alpha.example', 'PUT', '/roles/hr', {
        name: 'HR',
        allow: ['*'],
        version: hrBefore?.version,
      });
      expect(widen.status).toBe(403);
      expect(widen.body).toMatchObject({ reason: 'exceeds-own-role', pattern: '*' });
      const create = await api('hal@alpha.example', 'POST', '/roles', {
        roleId: 'fleet',
        name: 'Fleet',
        allow: ['aircraft:*'],
      });
      expect(create.status).toBe(403);
      expect(create.body).toMatchObject({
        reason: 'exceeds-own-role',
        pattern: 'aircraft:*',
        gap: 'not-granted',
      });
      expect(await read(`CONTROL#${alpha}`, 'ROLE#hr')).toEqual(hrBefore);
      expect(await read(`CONTROL#${alpha}`, 'ROLE#fleet')).toBeUndefined();
      // Within its rights it may: a narrower role.
      const narrow = await api('hal@alpha.example', 'POST', '/roles', {
        roleId: 'viewer',
        name: 'Viewer',
        allow: ['aircraft:read'],
      });
      expect(narrow.status).toBe(201);
    });
  });

  describe('3. DELETE /members/{id} with anything but a member sub reaches nothing', () => {
    it('an email in the path is a 404, and the user keeps their group and attributes', async () => {
      const who = 'pia@alpha.example';
      const groups = await groupsOf(who);
      const attributes = await attributesOf(who);
      const r = await api('ada@alpha.example', 'DELETE', `/members/${encodeURIComponent(who)}`);
      expect(r.status).toBe(404);
      expect(await groupsOf(who)).toEqual(groups);
      expect(await attributesOf(who)).toEqual(attributes);
    });

    it('the sole admin cannot remove themselves: a 409, and the tenant is not locked out', async () => {
      const who = 'ada@alpha.example';
      const r = await api(who, 'DELETE', `/members/${subs[who]}`);
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ reason: 'last-admin' });
      expect(await groupsOf(who)).toContain(alpha);
      expect((await read(`CONTROL#${alpha}`, `USER#${subs[who]}`))?.role).toBe('admin');
    });
  });

  describe('4. bad input is a 4xx, never a 500', () => {
    it('a member id over 1,024 bytes, an aircraft version of 2^53 − 1, a 300 KB refresh token', async () => {
      const long = 'a'.repeat(2000);
      expect(
        (await api('ada@alpha.example', 'PUT', `/members/${long}`, { role: 'pilot' })).status,
      ).toBe(404);
      expect((await api('ada@alpha.example', 'DELETE', `/members/${long}`)).status).toBe(404);
      const plane = await api('ada@alpha.example', 'POST', '/aircraft', {
        registration: 'N54321',
        model: 'Diamond DA40',
      });
      const update = await api('ada@alpha.example', 'PUT', `/aircraft/${plane.body.aircraftId}`, {
        model: 'x',
        version: Number.MAX_SAFE_INTEGER,
      });
      expect(update.status).toBe(400);
      const tenantsBefore = await direct.send(
        new QueryCommand({
          TableName: stack.tableName,
          IndexName: 'GSI1',
          KeyConditionExpression: 'GSI1PK = :u',
          ExpressionAttributeValues: { ':u': `USER#${subs['bob@bravo.example']}` },
        }),
      );
      const big = await api('bob@bravo.example', 'POST', '/tenants', {
        name: 'Big',
        refreshToken: 'x'.repeat(300_000),
      });
      expect(big.status).toBe(400);
      const tenantsAfter = await direct.send(
        new QueryCommand({
          TableName: stack.tableName,
          IndexName: 'GSI1',
          KeyConditionExpression: 'GSI1PK = :u',
          ExpressionAttributeValues: { ':u': `USER#${subs['bob@bravo.example']}` },
        }),
      );
      expect(tenantsAfter.Items).toEqual(tenantsBefore.Items);
      expect(await read(`USER#${subs['bob@bravo.example']}`, 'PROFILE')).not.toHaveProperty(
        'pendingTenant',
      );
    });
  });

  describe('a member just invited can switch at once', () => {
    it('POST /me/tenant with a token older than the invitation', async () => {
      const who = 'bob@bravo.example';
      const oldToken = ids[who];
      expect(
        (await api('ada@alpha.example', 'POST', '/members', { email: who, role: 'pilot' })).status,
      ).toBe(201);
      ids[who] = oldToken ?? '';
      const r = await api(who, 'POST', '/me/tenant', {
        tenantId: alpha,
        refreshToken: refresh[who],
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ tenantId: alpha, role: 'pilot' });
    });
  });

  describe('fuzz: no route of either API answers a 500', () => {
    // JSON values an attacker would try: wrong types, huge and odd strings and numbers, nesting.
    const nasty = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('', ' ', '*', '#', 'USER#x', '../', '%00', '\u0000', 'a'.repeat(5000)),
      fc.integer(),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e308, 2 ** 53 + 2),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 10 }), { maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
    );
    const fields = [
      'name',
      'refreshToken',
      'tenantId',
      'email',
      'role',
      'roleId',
      'allow',
      'deny',
      'version',
      'registration',
      'model',
      'status',
    ];
    const body = fc.oneof(
      fc.dictionary(fc.constantFrom(...fields), nasty, { maxKeys: 6 }),
      nasty,
      fc.constant(undefined),
    );
    const segment = fc.oneof(
      fc.string({ minLength: 1, maxLength: 30 }).filter((x) => !x.includes('/')),
      fc.constantFrom('a'.repeat(1500), 'admin', 'member', '%2F', 'x@y.z'),
    );

    it('random bodies and path ids on every route, as an admin and as a pilot', async () => {
      const failures: string[] = [];
      const routes = stack.apis.flatMap((a) => a.routes.map((r) => ({ ...r, url: a.url })));
      expect(routes.length).toBeGreaterThan(20);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.constantFrom('ada@alpha.example', 'pia@alpha.example', 'eve@elsewhere.example'),
          body,
          segment,
          async (route, who, payload, id) => {
            const path = route.path.replace(/\{[^}]+\}/g, encodeURIComponent(id));
            const r = await api(who, route.method, path, payload, route.url);
            if (r.status >= 500)
              failures.push(
                `${route.method} ${path.slice(0, 80)} ${JSON.stringify(payload)?.slice(0, 200)} → ${r.status}`,
              );
            return r.status < 500;
          },
        ),
        { numRuns: 400, seed: 11 },
      );
      expect(failures).toEqual([]);
    }, 240_000);
  });
});
