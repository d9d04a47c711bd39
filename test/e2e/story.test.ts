/**
 * The seeds' whole story, end to end over HTTP against the local stack built from template.yaml:
 * cognito-local with the PostConfirmation trigger, the identity-pool stand-in, DynamoDB Local behind the
 * isolation proxy (which judges every function's own role and every tenant session by its policy), and
 * the local API gateways with the authorizer in front of every function. The test talks only to the
 * stack's endpoints (user pool, REST and HTTP APIs, the DynamoDB proxy) and, for the tenant credentials
 * a backend function receives, to the AuthorizerFunction itself; DynamoDB Local is read directly only to
 * assert what was (not) written.
 *
 * ResultTtlSeconds and MembershipCacheSeconds are 0 here so every request reaches the authorizer and the
 * membership read: the test needs no sleeps. The 60 s cache bound itself is tested on an injected clock
 * (test/tenants/control-plane.integration.test.ts, test/tenants/membership-check.test.ts).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoke } from '../../sam/invoke.js';
import { DEMO_PASSWORD, type DemoClient } from '../../sam/local/demo.js';
import type { LocalStack } from '../../sam/local/stack.js';
import { ROOT } from '../../sam/template.js';
import { type E2eStack, startE2eStack } from '../fixtures/e2e-stack.js';

describe('the whole story over HTTP, on the local stack', () => {
  let e2e: E2eStack;
  let stack: LocalStack;
  let client: DemoClient;
  let subs: Record<string, string> = {};
  let ids: Record<string, string> = {};
  let refresh: Record<string, string> = {};
  let alpha = '';
  let bravo = '';

  const read = (PK: string, SK: string) => e2e.read(PK, SK);
  const api = (who: string, method: string, path: string, body?: unknown, base?: string) =>
    e2e.api(who, method, path, body, base);
  const signIn = (who: string) => e2e.signIn(who);

  beforeAll(async () => {
    // Shared OpenID tokens on here (the other suites run the default, off): their table calls go
    // through the isolation proxy, judged against the authorizer's template policy.
    e2e = await startE2eStack({ parameters: { ShareOpenIdTokens: 'on' } });
    ({ stack, client, subs, ids, refresh } = e2e);
  }, 120_000);
  afterAll(async () => {
    await e2e?.stop();
  });

  it('sign-up and confirmation: the trigger writes the profile', async () => {
    for (const who of ['ann@alpha.example', 'ben@bravo.example', 'pat@alpha.example']) {
      subs[who] = await client.signUp(who);
      await signIn(who);
    }
    expect(await read(`USER#${subs['ann@alpha.example']}`, 'PROFILE')).toMatchObject({
      email: 'ann@alpha.example',
      type: 'profile',
    });
    expect(stack.lambdaStats().PostConfirmationFunction).toBe(3);
  });

  it('a tenant-less user reaches only the tenant-less routes', async () => {
    expect((await api('ann@alpha.example', 'GET', '/me/tenants')).body).toEqual({ tenants: [] });
    expect((await api('ann@alpha.example', 'GET', '/aircraft')).status).toBe(403);
    expect((await client.call(undefined, 'GET', '/aircraft')).status).toBe(401);
  });

  it('creates a tenant and gets tokens that carry it', async () => {
    const r = await api('ann@alpha.example', 'POST', '/tenants', {
      name: 'Alpha Flight School',
      refreshToken: refresh['ann@alpha.example'],
    });
    expect(r.status).toBe(201);
    alpha = (r.body.tenant as { tenantId: string }).tenantId;
    ids['ann@alpha.example'] = (r.body.tokens as { idToken: string }).idToken;
    const me = await api('ann@alpha.example', 'GET', '/me');
    expect(me.body).toMatchObject({ tenantId: alpha, role: 'admin', groups: [alpha] });

    const b = await api('ben@bravo.example', 'POST', '/tenants', {
      name: 'Bravo Aviation',
      refreshToken: refresh['ben@bravo.example'],
    });
    bravo = (b.body.tenant as { tenantId: string }).tenantId;
    ids['ben@bravo.example'] = (b.body.tokens as { idToken: string }).idToken;
  });

  it("reads and writes its own tenant's data with tenant-scoped credentials", async () => {
    stack.resetIdentityPoolStats();
    const before = stack.isolationDecisions();
    const created = await api('ann@alpha.example', 'POST', '/aircraft', {
      registration: 'N172SP',
      model: 'Cessna 172S',
    });
    expect(created.status).toBe(201);
    ids.alphaPlane = String(created.body.aircraftId);
    await api('ben@bravo.example', 'POST', '/aircraft', {
      registration: 'G-BRVO',
      model: 'Robin DR400',
    });
    // Through the HTTP API too: same authorizer, same functions.
    const listed = await api(
      'ann@alpha.example',
      'GET',
      '/aircraft',
      undefined,
      stack.endpoints.httpApi,
    );
    expect((listed.body.aircraft as { registration: string }[]).map((a) => a.registration)).toEqual(
      ['N172SP'],
    );
    const after = stack.isolationDecisions();
    const allowed = (d: typeof after) => Object.values(d.allowed).reduce((x, y) => x + y, 0);
    expect(allowed(after)).toBeGreaterThan(allowed(before)); // the functions' calls went through IAM
    expect(after.denied).toEqual(before.denied);
  });

  it("code tricked into another tenant's key is refused by the isolation layer, and writes nothing", async () => {
    // Exactly the credentials a backend function receives for Ann: the authorizer's answer to a
    // request event, as the gateway asks for it (they are minted server-side only).
    const c = await e2e.authorizerContext('ann@alpha.example');
    expect(c).toMatchObject({ tenantId: alpha, accessKeyId: expect.stringMatching(/^ASIA/) });
    const scoped = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: stack.endpoints.dynamodb,
        region: stack.region,
        credentials: {
          accessKeyId: c.accessKeyId ?? '',
          secretAccessKey: c.secretAccessKey ?? '',
          sessionToken: c.sessionToken ?? '',
        },
      }),
    );
    try {
      const own = await scoped.send(
        new GetCommand({
          TableName: stack.tableName,
          Key: { PK: `TENANT#${alpha}`, SK: `AIRCRAFT#${ids.alphaPlane}` },
        }),
      );
      expect(own.Item?.registration).toBe('N172SP');
      // Its own control partition is readable (roles and memberships), as the template says.
      const membership = await scoped.send(
        new GetCommand({
          TableName: stack.tableName,
          Key: { PK: `CONTROL#${alpha}`, SK: `USER#${subs['ann@alpha.example']}` },
        }),
      );
      expect(membership.Item?.role).toBe('admin');
      const denied = { name: 'AccessDeniedException' };
      await expect(
        scoped.send(
          new QueryCommand({
            TableName: stack.tableName,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': `TENANT#${bravo}` },
          }),
        ),
      ).rejects.toMatchObject(denied);
      await expect(
        scoped.send(
          new PutCommand({
            TableName: stack.tableName,
            Item: { PK: `TENANT#${bravo}`, SK: 'AIRCRAFT#evil', registration: 'EVIL' },
          }),
        ),
      ).rejects.toMatchObject(denied);
      await expect(
        scoped.send(new ScanCommand({ TableName: stack.tableName })),
      ).rejects.toMatchObject(denied);
      expect(await read(`TENANT#${bravo}`, 'AIRCRAFT#evil')).toBeUndefined();
    } finally {
      scoped.destroy();
    }
  });

  it("joins a second tenant, switches, and then sees B's data and not A's", async () => {
    const invited = await api('ben@bravo.example', 'POST', '/members', {
      email: 'ann@alpha.example',
      role: 'member',
    });
    expect(invited.status).toBe(201);
    // Her token predates the invitation; the switch asks Cognito for a fresh one (her refresh token),
    // which carries the new group, so she can switch at once.
    const switched = await api('ann@alpha.example', 'POST', '/me/tenant', {
      tenantId: bravo,
      refreshToken: refresh['ann@alpha.example'],
    });
    expect(switched).toMatchObject({ status: 200, body: { tenantId: bravo, role: 'member' } });
    ids['ann@alpha.example'] = (switched.body.tokens as { idToken: string }).idToken;
    const seen = await api('ann@alpha.example', 'GET', '/aircraft');
    expect((seen.body.aircraft as { registration: string }[]).map((a) => a.registration)).toEqual([
      'G-BRVO',
    ]);
    const mine = await api('ann@alpha.example', 'GET', '/me/tenants');
    expect(
      (mine.body.tenants as { tenantId: string; active: boolean }[]).find((t) => t.active)
        ?.tenantId,
    ).toBe(bravo);
    // Back to Alpha for the rest of the story.
    const back = await api('ann@alpha.example', 'POST', '/me/tenant', {
      tenantId: alpha,
      refreshToken: refresh['ann@alpha.example'],
    });
    ids['ann@alpha.example'] = (back.body.tokens as { idToken: string }).idToken;
  });

  it("the admin defines maintenance-chief; a pilot's update is 403 and writes nothing; the chief's succeeds", async () => {
    for (const role of [
      { roleId: 'pilot', name: 'Pilot', allow: ['aircraft:read', 'aircraft:list'] },
      {
        roleId: 'maintenance-chief',
        name: 'Maintenance chief',
        allow: ['aircraft:*'],
        deny: ['aircraft:delete'],
      },
    ]) {
      expect((await api('ann@alpha.example', 'POST', '/roles', role)).status).toBe(201);
    }
    expect(
      (
        await api('ann@alpha.example', 'POST', '/members', {
          email: 'pat@alpha.example',
          role: 'pilot',
        })
      ).status,
    ).toBe(201);
    await signIn('pat@alpha.example'); // invited while tenant-less: Alpha is now her active tenant
    const denied = await api('pat@alpha.example', 'PUT', `/aircraft/${ids.alphaPlane}`, {
      status: 'grounded',
      version: 1,
    });
    expect(denied).toMatchObject({
      status: 403,
      body: { action: 'aircraft:update', reason: 'no-match' },
    });
    expect(await read(`TENANT#${alpha}`, `AIRCRAFT#${ids.alphaPlane}`)).toMatchObject({
      status: 'airworthy',
      version: 1,
    });

    expect(
      (
        await api('ann@alpha.example', 'PUT', `/members/${subs['pat@alpha.example']}`, {
          role: 'maintenance-chief',
        })
      ).status,
    ).toBe(200);
    await signIn('pat@alpha.example');
    const done = await api('pat@alpha.example', 'PUT', `/aircraft/${ids.alphaPlane}`, {
      status: 'maintenance',
      version: 1,
    });
    expect(done).toMatchObject({ status: 200, body: { status: 'maintenance', version: 2 } });
  });

  it('a removed member loses access and gets no credentials (membership cache 0 here; bound = result TTL + cache)', async () => {
    const stale = ids['pat@alpha.example'];
    expect((await client.call(stale, 'GET', '/aircraft')).status).toBe(200);
    expect(
      (await api('ann@alpha.example', 'DELETE', `/members/${subs['pat@alpha.example']}`)).status,
    ).toBe(204);
    // Her token still claims Alpha for up to an hour; the authorizer's membership check refuses it
    // now, before any credentials are minted for her.
    stack.resetIdentityPoolStats();
    expect((await client.call(stale, 'GET', '/aircraft')).status).toBe(403);
    expect(stack.identityPoolStats()).toMatchObject({
      GetOpenIdTokenForDeveloperIdentity: 0,
      GetCredentialsForIdentity: 0,
    });
    await signIn('pat@alpha.example');
    // Her new tokens are tenant-less: only the tenant-less routes answer, and she belongs nowhere.
    expect((await api('pat@alpha.example', 'GET', '/me/tenants')).body).toEqual({ tenants: [] });
    expect((await api('pat@alpha.example', 'GET', '/aircraft')).status).toBe(403);
  });

  it("the authorizer's cache keeps Cognito Identity calls to one per user and tenant while credentials last", async () => {
    subs['zoe@zulu.example'] = await client.signUp('zoe@zulu.example');
    await signIn('zoe@zulu.example');
    const created = await api('zoe@zulu.example', 'POST', '/tenants', {
      name: 'Zulu Gliding Club',
      refreshToken: refresh['zoe@zulu.example'],
    });
    ids['zoe@zulu.example'] = (created.body.tokens as { idToken: string }).idToken;
    stack.resetIdentityPoolStats();
    const deniedBefore = stack.isolationDecisions().denied;
    const before = stack.gatewayStats().RestApi?.authorizerInvocations ?? 0;
    for (let i = 0; i < 5; i++) {
      expect((await api('zoe@zulu.example', 'GET', '/aircraft')).status).toBe(200);
      expect(
        (await api('zoe@zulu.example', 'GET', '/me', undefined, stack.endpoints.httpApi)).status,
      ).toBe(200);
    }
    // Ten requests, ten authorizer runs (result TTL 0), one OpenID token and one credentials exchange.
    expect((stack.gatewayStats().RestApi?.authorizerInvocations ?? 0) - before).toBe(5);
    expect(stack.identityPoolStats()).toMatchObject({
      GetOpenIdTokenForDeveloperIdentity: 1,
      GetCredentialsForIdentity: 1,
      GetId: 0,
      errors: {},
    });
    // Shared OpenID tokens (on in this stack): the token is in an AUTHZ# item with no user id in its
    // key, put by the authorizer's own role without a refusal from the isolation proxy.
    const { Items = [] } = await e2e.direct.send(
      new ScanCommand({
        TableName: stack.tableName,
        FilterExpression: 'begins_with(PK, :p)',
        ExpressionAttributeValues: { ':p': { S: 'AUTHZ#' } },
      }),
    );
    expect(Items.length).toBeGreaterThan(0);
    expect(JSON.stringify(Items.map((i) => i.PK))).not.toContain(subs['zoe@zulu.example'] ?? '?');
    expect(stack.isolationDecisions().denied).toEqual(deniedBefore);
  });

  it('npm run invoke --as runs one function against the running stack with a fresh token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantgate-stackfile-'));
    const stackFile = join(dir, 'stack.json');
    writeFileSync(
      stackFile,
      JSON.stringify({
        ...stack.describe([{ email: 'zoe@zulu.example', password: DEMO_PASSWORD, tenants: [] }]),
        pid: process.pid, // the running stack is this process
      }),
    );
    try {
      const result = await invoke({
        logicalId: 'AuthorizerFunction',
        eventFile: join(ROOT, 'sam', 'events', 'authorizer-rest-token.json'),
        envVarsFile: join(ROOT, 'sam', 'env.json'), // its placeholders yield to the stack's ids
        as: 'zoe@zulu.example',
        stackFile,
      });
      expect(result.exitCode).toBe(0);
      const response = JSON.parse(result.stdout) as {
        policyDocument: { Statement: { Effect: string }[] };
        context: { userId: string };
      };
      expect(response.policyDocument.Statement[0]?.Effect).toBe('Allow');
      expect(response.context.userId).toBe(subs['zoe@zulu.example']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
