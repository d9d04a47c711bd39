/**
 * Cognito call budget: how many identity calls (the first call of an exchange) and
 * GetCredentialsForIdentity calls a day of traffic costs, and the peak per second against each
 * call's default quota (per account: GetId 25/s, GetOpenIdTokenForDeveloperIdentity 50/s,
 * GetCredentialsForIdentity 200/s), for three designs:
 * - `none`: exchange the user's token through a user-pool provider on every request (GetId, then
 *   GetCredentialsForIdentity) — the design where users can do the same themselves;
 * - `raw-token`: that exchange, cached by the raw token string (the bootcamp token manager's design):
 *   every hourly token refresh is a miss, and every miss calls GetId again;
 * - `tenantgate`: our provider, run for real with a counting fake Cognito Identity client: the
 *   developer-identity OpenID token kept per (user, tenant) for its lifetime, credentials per
 *   (user, tenant), refreshed inside the margin.
 * Simulated time (injected clock): no sleeping, deterministic for a seed.
 */
import type { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { createCredentialsProvider } from '../authorizer/credentials.js';
import { prng } from './prng.js';

/** Default quotas, requests per second per account and region ("Quotas in Amazon Cognito"). */
export const COGNITO_IDENTITY_QUOTAS = Object.freeze({
  GetId: 25,
  GetOpenIdTokenForDeveloperIdentity: 50,
  GetCredentialsForIdentity: 200,
});

type IdCall = 'GetId' | 'GetOpenIdTokenForDeveloperIdentity';

export interface BudgetOptions {
  readonly users?: number;
  readonly requests?: number;
  /** Zipf exponent of user popularity. */
  readonly zipfS?: number;
  readonly daySeconds?: number;
  /** ID tokens and credentials both last an hour in Cognito. */
  readonly tokenLifetimeSeconds?: number;
  readonly credentialsLifetimeSeconds?: number;
  readonly refreshMarginSeconds?: number;
  /** Our OpenID token's lifetime (the template's OpenIdTokenSeconds). */
  readonly openIdTokenSeconds?: number;
  /** Warm Lambda environments sharing the traffic at random; each has its own cache. */
  readonly containers?: number;
  readonly seed?: number;
}

export interface BudgetResult {
  readonly design: 'none' | 'raw-token' | 'tenantgate';
  readonly containers: number;
  /** The design's identity call, and its default quota. */
  readonly idCall: IdCall;
  readonly idCallQuota: number;
  readonly idCalls: number;
  readonly getCredentials: number;
  readonly peakIdCallsPerSecond: number;
  readonly peakGetCredentialsPerSecond: number;
  readonly peakCallsPerSecond: number;
  /** Calls per request, both operations together. */
  readonly callsPerRequest: number;
}

export interface Request {
  readonly t: number; // seconds into the day
  readonly user: number;
  readonly container: number;
}

/** A day of traffic: diurnal arrival rate (peak at noon, 9× the 3 a.m. trough), Zipf users. */
export function traffic(o: Required<BudgetOptions>): Request[] {
  const random = prng(o.seed);
  const cdf = new Float64Array(o.users);
  let sum = 0;
  for (let i = 0; i < o.users; i++) {
    sum += 1 / (i + 1) ** o.zipfS;
    cdf[i] = sum;
  }
  const pickUser = () => {
    const x = random() * sum;
    let lo = 0;
    let hi = o.users - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] ?? 0) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const times = new Float64Array(o.requests);
  for (let i = 0; i < o.requests; ) {
    const t = random() * o.daySeconds;
    const rate = 1 - 0.8 * Math.cos((2 * Math.PI * t) / o.daySeconds); // 0.2 … 1.8
    if (random() * 1.8 <= rate) times[i++] = t;
  }
  times.sort();
  return Array.from(times, (t) => ({
    t,
    user: pickUser(),
    container: Math.floor(random() * o.containers),
  }));
}

/** Each user signs in at a random moment and refreshes the ID token every lifetime. */
const tokenOf = (user: number, t: number, lifetime: number, offsetOf: (u: number) => number) => {
  const offset = offsetOf(user);
  const k = Math.floor((t + offset) / lifetime);
  return { token: `tok-${user}-${k}`, exp: (k + 1) * lifetime - offset };
};

class CallCounter {
  idCalls = 0;
  getCredentials = 0;
  private readonly perSecondId = new Map<number, number>();
  private readonly perSecondCredentials = new Map<number, number>();
  private readonly perSecondAll = new Map<number, number>();
  constructor(private readonly idCall: IdCall) {}
  record(op: IdCall | 'GetCredentialsForIdentity', t: number) {
    const s = Math.floor(t);
    const bump = (m: Map<number, number>) => m.set(s, (m.get(s) ?? 0) + 1);
    if (op === 'GetCredentialsForIdentity') {
      this.getCredentials++;
      bump(this.perSecondCredentials);
    } else {
      this.idCalls++;
      bump(this.perSecondId);
    }
    bump(this.perSecondAll);
  }
  result(design: BudgetResult['design'], containers: number, requests: number): BudgetResult {
    const max = (m: Map<number, number>) => Math.max(0, ...m.values());
    return {
      design,
      containers,
      idCall: this.idCall,
      idCallQuota: COGNITO_IDENTITY_QUOTAS[this.idCall],
      idCalls: this.idCalls,
      getCredentials: this.getCredentials,
      peakIdCallsPerSecond: max(this.perSecondId),
      peakGetCredentialsPerSecond: max(this.perSecondCredentials),
      peakCallsPerSecond: max(this.perSecondAll),
      callsPerRequest: (this.idCalls + this.getCredentials) / requests,
    };
  }
}

/** Run the three designs over the same day of traffic. */
export async function runCognitoBudget(options: BudgetOptions = {}): Promise<BudgetResult[]> {
  const o: Required<BudgetOptions> = {
    users: 10_000,
    requests: 1_000_000,
    zipfS: 1,
    daySeconds: 86_400,
    tokenLifetimeSeconds: 3600,
    credentialsLifetimeSeconds: 3600,
    refreshMarginSeconds: 900,
    openIdTokenSeconds: 3600,
    containers: 1,
    seed: 42,
    ...options,
  };
  const requests = traffic(o);
  const offsetRandom = prng(o.seed + 1);
  const offsets = Array.from({ length: o.users }, () => offsetRandom() * o.tokenLifetimeSeconds);
  const offsetOf = (u: number) => offsets[u] ?? 0;
  const tenantOf = (u: number) => `tenant${u % 500}`;
  const results: BudgetResult[] = [];

  // No cache: two calls per request.
  {
    const calls = new CallCounter('GetId');
    for (const r of requests) {
      calls.record('GetId', r.t);
      calls.record('GetCredentialsForIdentity', r.t);
    }
    results.push(calls.result('none', o.containers, o.requests));
  }

  // Cache keyed by the raw token: a new token (hourly) or expired credentials → GetId + GetCredentials.
  {
    const calls = new CallCounter('GetId');
    const caches = Array.from({ length: o.containers }, () => new Map<string, number>());
    for (const r of requests) {
      const cache = caches[r.container] ?? new Map<string, number>();
      const { token } = tokenOf(r.user, r.t, o.tokenLifetimeSeconds, offsetOf);
      const expires = cache.get(token);
      if (expires !== undefined && expires > r.t) continue;
      calls.record('GetId', r.t);
      calls.record('GetCredentialsForIdentity', r.t);
      cache.set(token, r.t + o.credentialsLifetimeSeconds);
    }
    results.push(calls.result('raw-token', o.containers, o.requests));
  }

  // tenantgate: the real provider, a counting fake client, a simulated clock.
  {
    const calls = new CallCounter('GetOpenIdTokenForDeveloperIdentity');
    let nowSeconds = 0;
    const client = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        if (command.constructor.name === 'GetOpenIdTokenForDeveloperIdentityCommand') {
          calls.record('GetOpenIdTokenForDeveloperIdentity', nowSeconds);
          const login = Object.values(command.input.Logins as Record<string, string>)[0];
          return { IdentityId: `us-east-1:${login}`, Token: `openid-${login}` };
        }
        calls.record('GetCredentialsForIdentity', nowSeconds);
        return {
          IdentityId: command.input.IdentityId,
          Credentials: {
            AccessKeyId: 'ASIABENCH',
            SecretKey: 'secret',
            SessionToken: 'session',
            Expiration: new Date((nowSeconds + o.credentialsLifetimeSeconds) * 1000),
          },
        };
      },
    } as unknown as CognitoIdentityClient;
    const providers = Array.from({ length: o.containers }, () =>
      createCredentialsProvider({
        client,
        identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
        developerProviderName: 'login.tenantgate',
        openIdTokenSeconds: o.openIdTokenSeconds,
        refreshMarginSeconds: o.refreshMarginSeconds,
        maxEntries: 20_000,
        now: () => nowSeconds * 1000,
      }),
    );
    const providerName = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_Bench';
    for (const r of requests) {
      nowSeconds = r.t;
      await providers[r.container]?.get({
        providerName,
        userId: `user-${r.user}`,
        tenantId: tenantOf(r.user),
      });
    }
    results.push(calls.result('tenantgate', o.containers, o.requests));
  }
  return results;
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  for (const containers of [1, 10]) {
    const started = performance.now();
    const results = await runCognitoBudget({ containers });
    console.log(
      `containers=${containers} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
    console.table(results);
  }
}
