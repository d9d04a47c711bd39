/**
 * The demo that `npm start` seeds, through the running stack's own front doors only: users sign up in
 * the user pool (the PostConfirmation trigger writes their profiles), then every tenant, role, member
 * and aircraft is created over the REST API with the users' tokens — the same calls a client makes, so
 * a seeded stack is also a smoke test of the whole story.
 */
import {
  AdminConfirmSignUpCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { LocalStackFile } from '../template.js';
import { LocalStackError } from './errors.js';

/** Seeding the demo failed: which call, what it answered. */
export class DemoError extends LocalStackError {
  constructor(message: string) {
    super(`demo seed: ${message}`);
    this.name = 'DemoError';
  }
}

/** One password for every demo user: local only, printed on purpose. */
export const DEMO_PASSWORD = 'Tenantgate-demo-1';

export interface DemoUser {
  readonly email: string;
  readonly password: string;
  /** Tenant ids the user belongs to, the active one first. */
  readonly tenants: readonly string[];
}

export interface DemoSeed {
  readonly users: readonly DemoUser[];
  /** What `npm start` prints: users, tenants and copy-paste commands. */
  readonly text: string;
  readonly tenants: { readonly alpha: string; readonly bravo: string };
}

/** What `npm start` adds to the stack description for seeding. */
export interface DemoStackExtras {
  /** The sign-up confirmation code the pool "sent" to `email`, when there is one. */
  readonly confirmationCode?: (email: string) => string | undefined;
}

export interface Tokens {
  readonly idToken: string;
  readonly refreshToken: string;
}

/** A small client of the local stack: sign-up, sign-in and JSON calls to its REST API. */
export function demoClient(stack: LocalStackFile & DemoStackExtras) {
  const cognito = new CognitoIdentityProviderClient({
    endpoint: stack.endpoints.userPool,
    region: stack.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    cognito,
    async signUp(email: string, password = DEMO_PASSWORD): Promise<string> {
      const { UserSub } = await cognito.send(
        new SignUpCommand({
          ClientId: stack.clientId,
          Username: email,
          Password: password,
          UserAttributes: [{ Name: 'email', Value: email }],
        }),
      );
      // Confirmed with the code the pool sent, as a user would (email_verified becomes true); an
      // admin confirmation when no code is at hand. Either fires the PostConfirmation trigger.
      const code = stack.confirmationCode?.(email);
      if (code)
        await cognito.send(
          new ConfirmSignUpCommand({
            ClientId: stack.clientId,
            Username: email,
            ConfirmationCode: code,
          }),
        );
      else
        await cognito.send(
          new AdminConfirmSignUpCommand({ UserPoolId: stack.userPoolId, Username: email }),
        );
      if (!UserSub) throw new DemoError(`sign-up of ${email} returned no sub`);
      return UserSub;
    },
    async signIn(email: string, password = DEMO_PASSWORD): Promise<Tokens> {
      const { AuthenticationResult: r } = await cognito.send(
        new InitiateAuthCommand({
          ClientId: stack.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: email, PASSWORD: password },
        }),
      );
      if (!r?.IdToken || !r.RefreshToken)
        throw new DemoError(`sign-in of ${email} returned no tokens`);
      return { idToken: r.IdToken, refreshToken: r.RefreshToken };
    },
    /** `METHOD path` on the REST API; returns status and parsed body. */
    async call(
      idToken: string | undefined,
      method: string,
      path: string,
      body?: unknown,
      base = stack.endpoints.restApi,
    ): Promise<{ status: number; body: Record<string, unknown> }> {
      // fetch (like a browser) sends no body with GET or HEAD: it is dropped rather than thrown on.
      const sent = method === 'GET' || method === 'HEAD' ? undefined : body;
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(idToken ? { authorization: `Bearer ${idToken}` } : {}),
          ...(sent === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(sent === undefined ? {} : { body: JSON.stringify(sent) }),
      });
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        parsed = { raw: text };
      }
      return { status: res.status, body: parsed };
    },
    close() {
      cognito.destroy();
    },
  };
}

export type DemoClient = ReturnType<typeof demoClient>;

/** Call, and fail loudly (with the answer) unless the status is the expected one. */
async function expectStatus(
  client: DemoClient,
  status: number,
  ...args: Parameters<DemoClient['call']>
): Promise<Record<string, unknown>> {
  const r = await client.call(...args);
  if (r.status !== status) {
    throw new DemoError(
      `${args[1]} ${args[2]} answered ${r.status}, expected ${status}: ${JSON.stringify(r.body)}`,
    );
  }
  return r.body;
}

const PILOT = {
  roleId: 'pilot',
  name: 'Pilot',
  allow: ['aircraft:read', 'aircraft:list', 'bookings:*'],
};
const CHIEF = {
  roleId: 'maintenance-chief',
  name: 'Maintenance chief',
  allow: ['aircraft:*', 'bookings:read', 'bookings:list'],
  deny: ['aircraft:delete'],
};

/** Create a tenant as `email` and return its id and the admin's fresh id token. */
async function createTenant(client: DemoClient, email: string, name: string) {
  const { idToken, refreshToken } = await client.signIn(email);
  const created = await expectStatus(client, 201, idToken, 'POST', '/tenants', {
    name,
    refreshToken,
  });
  const tenant = created.tenant as { tenantId: string };
  const tokens = created.tokens as { idToken: string } | null;
  if (!tokens) throw new DemoError(`creating ${name} returned no tokens`);
  return { tenantId: tenant.tenantId, idToken: tokens.idToken };
}

/**
 * Seed two flight schools: Alpha (admin alice, pilot carol, maintenance chief dave) and Bravo (admin
 * bob, pilot dave), the roles `pilot` and `maintenance-chief` in each, and some aircraft.
 */
export async function seedDemo(stack: LocalStackFile & DemoStackExtras): Promise<DemoSeed> {
  const client = demoClient(stack);
  try {
    const emails = [
      'alice@alpha.example',
      'bob@bravo.example',
      'carol@alpha.example',
      'dave@both.example',
    ];
    for (const email of emails) await client.signUp(email);

    const alpha = await createTenant(client, 'alice@alpha.example', 'Alpha Flight School');
    const bravo = await createTenant(client, 'bob@bravo.example', 'Bravo Aviation');
    for (const admin of [alpha, bravo]) {
      await expectStatus(client, 201, admin.idToken, 'POST', '/roles', PILOT);
      await expectStatus(client, 201, admin.idToken, 'POST', '/roles', CHIEF);
    }
    await expectStatus(client, 201, alpha.idToken, 'POST', '/members', {
      email: 'carol@alpha.example',
      role: 'pilot',
    });
    // Dave joins Alpha first (it becomes his active tenant), then Bravo.
    await expectStatus(client, 201, alpha.idToken, 'POST', '/members', {
      email: 'dave@both.example',
      role: 'maintenance-chief',
    });
    await expectStatus(client, 201, bravo.idToken, 'POST', '/members', {
      email: 'dave@both.example',
      role: 'pilot',
    });
    const fleet: [typeof alpha, string, string][] = [
      [alpha, 'N172SP', 'Cessna 172S'],
      [alpha, 'N24PA', 'Piper PA-28 Warrior'],
      [alpha, 'N3DA', 'Diamond DA40'],
      [bravo, 'G-BRVO', 'Robin DR400'],
      [bravo, 'G-TBMX', 'Tecnam P2008'],
    ];
    for (const [admin, registration, model] of fleet) {
      await expectStatus(client, 201, admin.idToken, 'POST', '/aircraft', { registration, model });
    }

    const users: DemoUser[] = [
      { email: 'alice@alpha.example', password: DEMO_PASSWORD, tenants: [alpha.tenantId] },
      { email: 'bob@bravo.example', password: DEMO_PASSWORD, tenants: [bravo.tenantId] },
      { email: 'carol@alpha.example', password: DEMO_PASSWORD, tenants: [alpha.tenantId] },
      {
        email: 'dave@both.example',
        password: DEMO_PASSWORD,
        tenants: [alpha.tenantId, bravo.tenantId],
      },
    ];
    return {
      users,
      tenants: { alpha: alpha.tenantId, bravo: bravo.tenantId },
      text: demoText(stack, users, alpha.tenantId, bravo.tenantId),
    };
  } finally {
    client.close();
  }
}

function demoText(stack: LocalStackFile, users: DemoUser[], alpha: string, bravo: string): string {
  const api = stack.endpoints.restApi;
  const token = (email: string) => `$(npm run -s token -- ${email})`;
  return [
    'Demo tenants:',
    `  ${alpha}  Alpha Flight School   alice (admin), carol (pilot), dave (maintenance-chief)`,
    `  ${bravo}  Bravo Aviation        bob (admin), dave (pilot)`,
    `Demo users (password ${DEMO_PASSWORD}):`,
    ...users.map((u) => `  ${u.email.padEnd(22)} ${u.tenants.join(', ')}`),
    '',
    'Try it:',
    '  # who am I, and my tenants',
    `  curl -s ${api}/me -H "Authorization: Bearer ${token('carol@alpha.example')}"`,
    `  curl -s ${api}/me/tenants -H "Authorization: Bearer ${token('dave@both.example')}"`,
    "  # the school's aircraft (any member)",
    `  curl -s ${api}/aircraft -H "Authorization: Bearer ${token('carol@alpha.example')}"`,
    '  # a forbidden write: a pilot may not update an aircraft (403 with the reason, nothing written)',
    `  ID=$(curl -s ${api}/aircraft -H "Authorization: Bearer ${token('carol@alpha.example')}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).aircraft[0].aircraftId')`,
    `  curl -s -X PUT ${api}/aircraft/$ID -H "Authorization: Bearer ${token('carol@alpha.example')}" -H 'content-type: application/json' -d '{"status":"grounded","version":1}'`,
    '  # the maintenance chief may',
    `  curl -s -X PUT ${api}/aircraft/$ID -H "Authorization: Bearer ${token('dave@both.example')}" -H 'content-type: application/json' -d '{"status":"maintenance","version":1}'`,
    '  # switch dave to Bravo (prints new tokens), then his calls see Bravo’s aircraft only',
    `  npm run -s token -- dave@both.example --switch ${bravo}`,
    `  curl -s ${api}/aircraft -H "Authorization: Bearer ${token('dave@both.example')}"`,
  ].join('\n');
}
