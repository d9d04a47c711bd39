/**
 * The demo console: a single-page app on its own origin, signing in with Amplify v6 and its defaults
 * (USER_SRP_AUTH), calling the REST or the HTTP API with the ID token. Every refusal is shown with
 * what the API said. Bundled by the console server (esbuild); nothing is loaded from elsewhere.
 */
import { fetchAuthSession, signIn, signOut } from '@aws-amplify/auth';
import { cognitoUserPoolsTokenProvider } from '@aws-amplify/auth/cognito';
import { Amplify, type AuthConfig } from '@aws-amplify/core';
import { type ApiKind, type ConsoleConfig, callApi, type Outcome, type Refusal } from './api.js';

interface Tenant {
  tenantId: string;
  name: string;
  role: string;
  active: boolean;
}
interface Aircraft {
  aircraftId: string;
  registration: string;
  model: string;
  status: string;
  version: number;
}
interface Member {
  userId: string;
  email?: string;
  role: string;
}
interface Role {
  roleId: string;
  name: string;
  allow: string[];
  deny?: string[];
}

const STATUSES = ['airworthy', 'maintenance', 'grounded'];
let config: ConsoleConfig;
let api: ApiKind = 'rest';

// --- DOM helpers -------------------------------------------------------------------------------

type Child = Node | string | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | ((e: Event) => void)> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value);
  }
  for (const child of children.flat())
    if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}
const byId = (id: string) => document.getElementById(id) as HTMLElement;
const field = (form: HTMLFormElement, name: string) =>
  (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();

/** A refusal in the alert region, focused so keyboards and screen readers land on it. */
function showRefusal(refusal: Refusal): void {
  byId('notice').textContent = '';
  const alert = byId('alert');
  const text = h('span', { 'data-kind': refusal.kind }, refusal.text);
  if (refusal.kind === 'sign-in')
    alert.replaceChildren(
      text,
      h('button', { type: 'button', onclick: () => void restart() }, 'Sign in again'),
    );
  else alert.replaceChildren(text);
  alert.hidden = false;
  alert.focus();
}
function notice(text: string): void {
  byId('alert').hidden = true;
  byId('notice').textContent = text;
}
function clearMessages(): void {
  byId('alert').hidden = true;
  byId('notice').textContent = '';
}

// --- session -------------------------------------------------------------------------------------

async function idToken(forceRefresh = false): Promise<string | undefined> {
  const session = await fetchAuthSession({ forceRefresh });
  return session.tokens?.idToken?.toString();
}

/** One API call with the current ID token; a refusal is shown and returned as undefined. */
async function call<T>(method: string, path: string, body?: unknown): Promise<T | undefined> {
  const token = await idToken();
  if (!token) {
    showRefusal({ kind: 'sign-in', text: 'Sign in again: no session.' });
    return undefined;
  }
  const outcome: Outcome<T> = await callApi<T>(config.apis[api], token, method, path, body);
  if (outcome.ok) return outcome.body;
  showRefusal(outcome);
  return undefined;
}

async function reload(): Promise<void> {
  clearMessages();
  await renderApp();
}

async function restart(): Promise<void> {
  await signOut().catch(() => undefined);
  byId('alert').hidden = true;
  byId('notice').textContent = '';
  byId('who').textContent = 'Not signed in';
  renderSignIn();
}

// --- views ---------------------------------------------------------------------------------------

function renderSignIn(): void {
  const form = h(
    'form',
    {
      class: 'inline',
      'aria-labelledby': 'signin-title',
      onsubmit: (e) => {
        e.preventDefault();
        void submitSignIn(e.target as HTMLFormElement);
      },
    },
    h(
      'label',
      {},
      'Email',
      h('input', { name: 'email', type: 'email', autocomplete: 'username', required: '' }),
    ),
    h(
      'label',
      {},
      'Password',
      h('input', {
        name: 'password',
        type: 'password',
        autocomplete: 'current-password',
        required: '',
      }),
    ),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  byId('main').replaceChildren(
    h('h2', { id: 'signin-title' }, 'Sign in'),
    h('p', { class: 'muted' }, 'Demo users are printed by npm start (e.g. alice@alpha.example).'),
    form,
  );
  (form.querySelector('input') as HTMLInputElement).focus();
}

async function submitSignIn(form: HTMLFormElement): Promise<void> {
  try {
    await signOut().catch(() => undefined);
    const result = await signIn({
      username: field(form, 'email'),
      password: field(form, 'password'),
    });
    if (!result.isSignedIn) throw new Error(`sign-in needs ${result.nextStep.signInStep}`);
    notice(`Signed in as ${field(form, 'email')}.`);
    await renderApp();
  } catch (error) {
    showRefusal({ kind: 'invalid', text: `Sign-in failed: ${(error as Error).message}` });
  }
}

async function renderApp(): Promise<void> {
  const session = await fetchAuthSession();
  const claims = session.tokens?.idToken?.payload ?? {};
  const tenantId = claims['custom:tenant_id'];
  const role = String(claims['custom:role'] ?? '');
  byId('who').textContent =
    `${String(claims.email ?? '')}${tenantId ? ` · tenant ${String(tenantId)} · role ${role}` : ' · no tenant yet'}`;
  const picker = h(
    'fieldset',
    {},
    h('legend', {}, 'API'),
    ...(['rest', 'http'] as const).map((kind) =>
      h(
        'label',
        {},
        h('input', {
          type: 'radio',
          name: 'api',
          value: kind,
          ...(api === kind ? { checked: '' } : {}),
          onchange: () => {
            api = kind;
            clearMessages();
            void renderApp();
          },
        }),
        `${kind === 'rest' ? 'REST API' : 'HTTP API'} (${config.apis[kind]})`,
      ),
    ),
  );
  const toolbar = h(
    'p',
    { class: 'toolbar' },
    h('button', { type: 'button', class: 'secondary', onclick: () => void reload() }, 'Reload'),
    h('button', { type: 'button', class: 'secondary', onclick: () => void restart() }, 'Sign out'),
  );
  const sections: Node[] = [picker, toolbar];
  const tenants = await call<{ tenants: Tenant[] }>('GET', '/me/tenants');
  if (tenants) sections.push(tenantsView(tenants.tenants));
  if (tenantId) {
    const aircraft = await call<{ aircraft: Aircraft[] }>('GET', '/aircraft');
    if (aircraft) sections.push(aircraftView(aircraft.aircraft));
  }
  if (tenantId && role === 'admin') {
    const members = await call<{ members: Member[] }>('GET', '/members');
    const roles = await call<{ roles: Role[] }>('GET', '/roles');
    if (members)
      sections.push(membersView(members.members, roles?.roles ?? [], String(claims.sub)));
    if (roles) sections.push(rolesView(roles.roles));
  }
  byId('main').replaceChildren(...sections);
}

function table(caption: string, head: string[], rows: Child[][]): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c) => h('td', {}, c))))),
  );
}

function tenantsView(tenants: Tenant[]): Node {
  return h(
    'section',
    { 'aria-labelledby': 'tenants-title' },
    h('h2', { id: 'tenants-title' }, 'My tenants'),
    table(
      'Tenants you belong to',
      ['Tenant', 'My role', ''],
      tenants.map((t) => [
        h('span', t.active ? { class: 'active' } : {}, `${t.name} (${t.tenantId})`),
        t.role,
        t.active
          ? 'active'
          : h('button', { type: 'button', onclick: () => void switchTo(t) }, `Switch to ${t.name}`),
      ]),
    ),
  );
}

async function switchTo(tenant: Tenant): Promise<void> {
  const stored = await cognitoUserPoolsTokenProvider.authTokenStore.loadTokens();
  const switched = await call('POST', '/me/tenant', {
    tenantId: tenant.tenantId,
    refreshToken: stored?.refreshToken,
  });
  if (!switched) return;
  // The user's active-tenant attribute changed: a refresh gives an ID token that carries it.
  await idToken(true);
  notice(`Switched to ${tenant.name}.`);
  await renderApp();
}

/** An inline form that POSTs its named fields to `path` and reports `done` (or the API's refusal). */
function postForm(
  label: string,
  path: string,
  names: readonly string[],
  done: string,
  ...children: Node[]
): Node {
  const submit = (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    void act('POST', path, Object.fromEntries(names.map((n) => [n, field(form, n)])), done);
  };
  return h('form', { class: 'inline', 'aria-label': label, onsubmit: submit }, ...children);
}

function aircraftView(aircraft: Aircraft[]): Node {
  const create = postForm(
    'Add an aircraft',
    '/aircraft',
    ['registration', 'model'],
    'Aircraft added.',
    h('label', {}, 'Registration', h('input', { name: 'registration', required: '', size: '10' })),
    h('label', {}, 'Model', h('input', { name: 'model', required: '' })),
    h('button', { type: 'submit' }, 'Add aircraft'),
  );
  return h(
    'section',
    { 'aria-labelledby': 'aircraft-title' },
    h('h2', { id: 'aircraft-title' }, 'Aircraft'),
    table(
      `${aircraft.length} aircraft`,
      ['Registration', 'Model', 'Status', 'Version', 'Change status'],
      aircraft.map((a) => {
        const select = h(
          'select',
          { 'aria-label': `New status for ${a.registration}` },
          ...STATUSES.map((s) =>
            h('option', s === a.status ? { value: s, selected: '' } : { value: s }, s),
          ),
        );
        return [
          a.registration,
          a.model,
          a.status,
          String(a.version),
          h(
            'span',
            { class: 'row-action' },
            select,
            h(
              'button',
              {
                type: 'button',
                onclick: () =>
                  void act(
                    'PUT',
                    `/aircraft/${encodeURIComponent(a.aircraftId)}`,
                    { status: select.value, version: a.version },
                    `${a.registration} updated.`,
                  ),
              },
              `Update ${a.registration}`,
            ),
          ),
        ];
      }),
    ),
    create,
  );
}

function membersView(members: Member[], roles: Role[], me: string): Node {
  const roleIds = [
    'admin',
    'member',
    ...roles.map((r) => r.roleId).filter((r) => r !== 'admin' && r !== 'member'),
  ];
  const roleSelect = (label: string, current?: string) =>
    h(
      'select',
      { name: 'role', 'aria-label': label },
      ...roleIds.map((r) =>
        h('option', r === current ? { value: r, selected: '' } : { value: r }, r),
      ),
    );
  const invite = postForm(
    'Invite a member',
    '/members',
    ['email', 'role'],
    'Member invited.',
    h('label', {}, 'Email', h('input', { name: 'email', type: 'email', required: '' })),
    h('label', {}, 'Role', roleSelect('Role of the new member', 'member')),
    h('button', { type: 'submit' }, 'Invite'),
  );
  return h(
    'section',
    { 'aria-labelledby': 'members-title' },
    h('h2', { id: 'members-title' }, 'Members'),
    table(
      'Members of this tenant',
      ['Member', 'Role', 'Change role or remove'],
      members.map((m) => {
        const who = m.email ?? (m.userId === me ? 'you' : m.userId);
        // The API refuses a change of one's own membership: no buttons that can only fail.
        if (m.userId === me) return [who, m.role, h('span', { class: 'muted' }, 'your own')];
        const select = roleSelect(`New role for ${who}`, m.role);
        return [
          who,
          m.role,
          h(
            'span',
            { class: 'row-action' },
            select,
            h(
              'button',
              {
                type: 'button',
                onclick: () =>
                  void act(
                    'PUT',
                    `/members/${encodeURIComponent(m.userId)}`,
                    { role: select.value },
                    'Role changed.',
                  ),
              },
              'Change',
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: () =>
                  void act(
                    'DELETE',
                    `/members/${encodeURIComponent(m.userId)}`,
                    undefined,
                    `${who} removed.`,
                  ),
              },
              `Remove ${who}`,
            ),
          ),
        ];
      }),
    ),
    invite,
  );
}

function rolesView(roles: Role[]): Node {
  return h(
    'section',
    { 'aria-labelledby': 'roles-title' },
    h('h2', { id: 'roles-title' }, 'Roles'),
    table(
      'Roles of this tenant',
      ['Role', 'Allows', 'Denies'],
      roles.map((r) => [
        `${r.name} (${r.roleId})`,
        h('code', {}, r.allow.join(', ')),
        h('code', {}, (r.deny ?? []).join(', ') || '—'),
      ]),
    ),
  );
}

/** A write; on success a notice and a fresh view, on refusal the refusal stays on screen. */
async function act(method: string, path: string, body: unknown, done: string): Promise<void> {
  if ((await call(method, path, body)) === undefined) return;
  notice(done);
  await renderApp();
}

// --- start ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  config = (await (await fetch('/config.json')).json()) as ConsoleConfig;
  // What `Amplify.configure` of the aws-amplify package does with this config: the Cognito token
  // provider gets the same Auth settings. No identity pool: the front end gets no AWS credentials.
  const Auth: AuthConfig = {
    Cognito: {
      userPoolId: config.userPoolId,
      userPoolClientId: config.userPoolClientId,
      userPoolEndpoint: config.userPoolEndpoint,
    },
  };
  cognitoUserPoolsTokenProvider.setAuthConfig(Auth);
  Amplify.configure({ Auth }, { Auth: { tokenProvider: cognitoUserPoolsTokenProvider } });
  if (await idToken().catch(() => undefined)) await renderApp();
  else renderSignIn();
}

void main();
