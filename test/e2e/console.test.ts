/**
 * The browser story: the demo console in headless Chromium (Debian's `chromium`, driven by
 * playwright-core; nothing downloaded) against the whole local stack, on its own origin. Sign-in is
 * Amplify v6's default (USER_SRP_AUTH); every API answer the page shows went through the browser's
 * CORS checks. Screenshots of each step land in .artifacts/console/ (git-ignored).
 */
import { createPrivateKey, createSign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, type DemoSeed, demoClient, seedDemo } from '../../sam/local/demo.js';
import { type LocalStack, startLocalStack } from '../../sam/local/stack.js';
import { ROOT } from '../../sam/template.js';

const CHROMIUM = '/usr/bin/chromium';
/** The little of the DOM the page-side functions below touch (the test compiles without DOM types). */
type PageGlobals = {
  document: {
    activeElement: { id: string } | null;
    getElementById(id: string): { textContent: string | null } | null;
  };
};
const ARTIFACTS = join(ROOT, '.artifacts', 'console');
/**
 * Polls until the page shows what is expected. A step is several API calls through the local
 * functions; on a loaded 2-core machine that can take seconds, far past expect.poll's 1 s default.
 */
const eventually = <T>(read: () => Promise<T>) =>
  expect.poll(read, { timeout: 20_000, interval: 100 });
// The closed network refuses Google's hosts: nothing in the browser may try to reach them.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A token like `jwt`, signed by the local pool's key (cognito-local has one), expired an hour ago. */
function expiredCopyOf(jwt: string): string {
  const [head = '', body = ''] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<
    string,
    number
  >;
  const now = Math.floor(Date.now() / 1000);
  const payload = { ...claims, iat: now - 7200, auth_time: now - 7200, exp: now - 3600 };
  const input = `${head}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const { pem } = JSON.parse(
    readFileSync(
      join(ROOT, 'node_modules/cognito-local/lib/keys/cognitoLocal.private.json'),
      'utf8',
    ),
  ) as { pem: string };
  const signature = createSign('RSA-SHA256').update(input).sign(createPrivateKey(pem));
  return `${input}.${signature.toString('base64url')}`;
}

describe('the demo console in headless Chromium', () => {
  let stack: LocalStack;
  let seed: DemoSeed;
  let browser: Browser;
  let foreign: Server;
  let foreignOrigin = '';
  let consoleUrl = '';
  const contexts: BrowserContext[] = [];
  let alice: Page;
  let dave: Page;

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  /** A fresh browser profile (its own Amplify storage) on the console. */
  async function openConsole(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(consoleUrl);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    return page;
  }

  /** Sign in through the form; returns the auth flows Amplify asked the user pool for. */
  async function signIn(page: Page, email: string): Promise<string[]> {
    const flows: string[] = [];
    page.on('request', (request) => {
      if (request.headers()['x-amz-target']?.endsWith('.InitiateAuth'))
        flows.push(
          String((JSON.parse(request.postData() ?? '{}') as { AuthFlow?: string }).AuthFlow),
        );
    });
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'My tenants' }).waitFor();
    return flows;
  }

  const aircraftIn = async (page: Page) =>
    (
      await page
        .locator('section[aria-labelledby="aircraft-title"] tbody tr td:first-child')
        .allTextContents()
    ).sort();
  const alertOf = (page: Page) => page.getByRole('alert');

  beforeAll(async () => {
    // Like Java for DynamoDB Local: a requirement, said in one line (.ci/run installs it).
    if (!existsSync(CHROMIUM))
      throw new Error(
        `the browser tests need Chromium at ${CHROMIUM}: sudo apt-get install -y chromium`,
      );
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startLocalStack({
      parameters: { ResultTtlSeconds: 0, MembershipCacheSeconds: 0 },
    });
    consoleUrl = stack.endpoints.console ?? '';
    seed = await seedDemo(stack);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    // Another origin, as a page of some other site would be: not in AllowedOrigins.
    foreign = createServer((req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          `<!doctype html><html lang="en"><title>elsewhere</title><body style="font:20px system-ui;margin:2rem"><h1>A page on another origin: http://${req.headers.host}</h1><p>Its script calls GET /aircraft on both APIs, with a valid ID token and without:</p><pre id="out" style="font-size:20px"></pre></body></html>`,
        ),
    );
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    foreignOrigin = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
  }, 240_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await new Promise((resolve) => foreign?.close(resolve));
    await stack?.stop();
  }, 60_000);

  it('alice signs in with Amplify v6 (USER_SRP_AUTH) and sees Alpha’s aircraft, members and roles', async () => {
    const page = await openConsole();
    alice = page;
    await shot(page, '00-sign-in');
    const flows = await signIn(page, 'alice@alpha.example');
    expect(flows).toEqual(['USER_SRP_AUTH']);
    await eventually(() => aircraftIn(page)).toEqual(['N172SP', 'N24PA', 'N3DA']);
    expect(await page.locator('#who').textContent()).toContain(
      `tenant ${seed.tenants.alpha} · role admin`,
    );
    await page.getByRole('heading', { name: 'Members' }).waitFor();
    await page.getByRole('heading', { name: 'Roles' }).waitFor();
    expect(await page.getByRole('cell', { name: 'carol@alpha.example', exact: true }).count()).toBe(
      1,
    );
    expect(await alertOf(page).isHidden()).toBe(true);
    await shot(page, '01-alice-sees-alpha');
  });

  it('dave switches to Bravo and sees only Bravo’s aircraft', async () => {
    dave = await openConsole();
    await signIn(dave, 'dave@both.example');
    await eventually(() => aircraftIn(dave)).toEqual(['N172SP', 'N24PA', 'N3DA']);
    await shot(dave, '02-dave-in-alpha');
    await dave.getByRole('button', { name: 'Switch to Bravo Aviation' }).click();
    await eventually(() => dave.locator('#who').textContent()).toContain(
      `tenant ${seed.tenants.bravo} · role pilot`,
    );
    await eventually(() => aircraftIn(dave)).toEqual(['G-BRVO', 'G-TBMX']);
    expect(await dave.getByRole('status').textContent()).toBe('Switched to Bravo Aviation.');
    await shot(dave, '03-dave-switched-to-bravo');
  });

  for (const [api, label] of [
    ['rest', 'REST API'],
    ['http', 'HTTP API'],
  ] as const) {
    it(`a pilot’s update shows the API’s 403 naming aircraft:update (${label})`, async () => {
      await dave.getByLabel(label, { exact: false }).check();
      await eventually(() => aircraftIn(dave)).toEqual(['G-BRVO', 'G-TBMX']);
      expect(await alertOf(dave).isHidden()).toBe(true);
      await dave.getByLabel('New status for G-BRVO').selectOption('grounded');
      await dave.getByRole('button', { name: 'Update G-BRVO' }).click();
      const alert = alertOf(dave);
      await eventually(() => alert.textContent()).toContain('Not allowed (403): aircraft:update');
      expect(await alert.locator('[data-kind]').getAttribute('data-kind')).toBe('denied');
      expect(await alert.textContent()).toContain(
        'The API said: “permission denied for aircraft:update (no-match)”',
      );
      // Focus moves to the refusal, for keyboards and screen readers.
      expect(
        await dave.evaluate(
          () => (globalThis as unknown as PageGlobals).document.activeElement?.id,
        ),
      ).toBe('alert');
      await shot(dave, `04-pilot-update-refused-${api}`);
    });
  }

  it('alice, an admin, adds an aircraft, updates one and changes a member’s role', async () => {
    // Her page as the first step left it (a Reload would re-render under the typing).
    await alice.getByLabel('Registration').fill('N152TG');
    await alice.getByLabel('Model').fill('Cessna 152');
    await alice.getByRole('button', { name: 'Add aircraft' }).click();
    await eventually(() => aircraftIn(alice)).toEqual(['N152TG', 'N172SP', 'N24PA', 'N3DA']);
    expect(await alice.getByRole('status').textContent()).toBe('Aircraft added.');
    await alice.getByLabel('New status for N24PA').selectOption('maintenance');
    await alice.getByRole('button', { name: 'Update N24PA' }).click();
    await eventually(() => alice.getByRole('status').textContent()).toBe('N24PA updated.');
    const n24pa = alice.locator('section[aria-labelledby="aircraft-title"] tbody tr', {
      hasText: 'N24PA',
    });
    // The notice comes first, the re-read table after it.
    await eventually(() => n24pa.locator('td').allTextContents()).toEqual(
      expect.arrayContaining(['N24PA', 'maintenance', '2']),
    );
    // Dave is Bravo's pilot now (active there); in Alpha he becomes a pilot too.
    await alice.getByLabel('New role for dave@both.example').selectOption('pilot');
    const daveRow = alice.locator('section[aria-labelledby="members-title"] tbody tr', {
      hasText: 'dave@both.example',
    });
    await daveRow.getByRole('button', { name: 'Change' }).click();
    await eventually(() => alice.getByRole('status').textContent()).toBe('Role changed.');
    await eventually(async () => (await daveRow.locator('td').allTextContents())[1]).toBe('pilot');
    expect(await alertOf(alice).isHidden()).toBe(true);
    await shot(alice, '05-admin-adds-updates-changes-role');
  });

  it('a garbage or expired token shows “sign in again”: a readable 401, not a network error, on both APIs', async () => {
    for (const [api, label, forge] of [
      ['rest', 'REST API', (_token: string) => 'garbage.not.ajwt'],
      ['http', 'HTTP API', expiredCopyOf],
      ['rest', 'REST API', expiredCopyOf],
      ['http', 'HTTP API', (_token: string) => 'garbage'],
    ] as const) {
      const page = await openConsole();
      await signIn(page, 'carol@alpha.example');
      const base = api === 'rest' ? stack.endpoints.restApi : stack.endpoints.httpApi;
      // The browser sends the page's request with another token: its answer still meets CORS.
      await page.route(`${base}/**`, (route) => {
        const headers = route.request().headers();
        const token = (headers.authorization ?? '').replace(/^Bearer /, '');
        return route.continue({ headers: { ...headers, authorization: `Bearer ${forge(token)}` } });
      });
      await page.getByLabel(label, { exact: false }).check();
      await page.getByRole('button', { name: 'Reload' }).click();
      const alert = alertOf(page);
      await eventually(() => alert.textContent()).toContain('Sign in again');
      expect(await alert.textContent()).toContain('401: Unauthorized');
      expect(await alert.locator('[data-kind]').getAttribute('data-kind')).toBe('sign-in');
      await shot(
        page,
        `06-session-refused-${api}-${forge === expiredCopyOf ? 'expired' : 'garbage'}`,
      );
      await page.unroute(`${base}/**`);
      await alert.getByRole('button', { name: 'Sign in again' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.context().close();
    }
  }, 120_000);

  it('a page on a disallowed origin cannot read either API, not even a 401; the console’s origin can', async () => {
    const client = demoClient(stack);
    const { idToken } = await client.signIn('carol@alpha.example');
    client.close();
    const probe = async (page: Page) =>
      page.evaluate(
        async ({ apis, token }) => {
          const results: Record<string, string> = {};
          for (const [name, base] of Object.entries(apis)) {
            for (const [kind, init] of [
              ['with token', { headers: { authorization: `Bearer ${token}` } }],
              ['without token', {}],
            ] as const) {
              try {
                const res = await fetch(`${base}/aircraft`, init);
                results[`${name} ${kind}`] = `read ${res.status}`;
              } catch (error) {
                results[`${name} ${kind}`] = `refused: ${(error as Error).name}`;
              }
            }
          }
          const out = (globalThis as unknown as PageGlobals).document.getElementById('out');
          if (out) out.textContent = JSON.stringify(results, null, 2);
          return results;
        },
        { apis: { REST: stack.endpoints.restApi, HTTP: stack.endpoints.httpApi }, token: idToken },
      );
    const context = await browser.newContext();
    contexts.push(context);
    const elsewhere = await context.newPage();
    await elsewhere.goto(foreignOrigin);
    expect(await probe(elsewhere)).toEqual({
      'REST with token': 'refused: TypeError',
      'REST without token': 'refused: TypeError',
      'HTTP with token': 'refused: TypeError',
      'HTTP without token': 'refused: TypeError',
    });
    await shot(elsewhere, '07-disallowed-origin-cannot-read');
    const home = await context.newPage();
    await home.goto(consoleUrl);
    expect(await probe(home)).toEqual({
      'REST with token': 'read 200',
      'REST without token': 'read 401',
      'HTTP with token': 'read 200',
      'HTTP without token': 'read 401',
    });
  });

  it('what the browser saw: the APIs answered the disallowed origin without its origin in Access-Control-Allow-Origin', async () => {
    for (const base of [stack.endpoints.restApi, stack.endpoints.httpApi]) {
      const preflight = await fetch(`${base}/aircraft`, {
        method: 'OPTIONS',
        headers: {
          origin: foreignOrigin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      const unauthorized = await fetch(`${base}/aircraft`, { headers: { origin: foreignOrigin } });
      expect(unauthorized.status).toBe(401);
      for (const res of [preflight, unauthorized]) {
        // REST names the console's origin whatever the request's (static); HTTP API names none.
        expect([consoleUrl, null]).toContain(res.headers.get('access-control-allow-origin'));
        expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      }
    }
  });

  it('a removed member’s next call gets API Gateway’s own 403, readable on both APIs (the authorizer’s Deny)', async () => {
    const carol = await openConsole();
    await signIn(carol, 'carol@alpha.example');
    await eventually(() => aircraftIn(carol)).toEqual(['N152TG', 'N172SP', 'N24PA', 'N3DA']);
    await alice.getByRole('button', { name: 'Remove carol@alpha.example' }).click();
    await eventually(() => alice.getByRole('status').textContent()).toBe(
      'carol@alpha.example removed.',
    );
    await eventually(() =>
      alice.getByRole('cell', { name: 'carol@alpha.example', exact: true }).count(),
    ).toBe(0);
    // Carol's ID token still names Alpha; the authorizer's membership check denies, and the 403 is
    // made by API Gateway, not by a function: only the gateway responses' CORS headers let it be read.
    for (const [api, label, said] of [
      ['rest', 'REST API', 'User is not authorized to access this resource'],
      ['http', 'HTTP API', 'Forbidden'],
    ] as const) {
      await carol.getByLabel(label, { exact: false }).check();
      await carol.getByRole('button', { name: 'Reload' }).click();
      const alert = alertOf(carol);
      await eventually(() => alert.textContent()).toContain(`Not allowed (403): ${said}`);
      expect(await alert.locator('[data-kind]').getAttribute('data-kind')).toBe('denied');
      await shot(carol, `08-removed-member-gateway-403-${api}`);
    }
  });
});
