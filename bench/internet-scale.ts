/**
 * Internet scale, by simulation: 1,000,000 users and 100,000,000 requests a day behind API
 * Gateway's result cache (the template's ResultTtlSeconds), spread over 100 or 1,000 warm authorizer
 * environments. What reaches the authorizer, and from it Cognito Identity and DynamoDB, at the
 * diurnal peak, against each default quota.
 *
 * The traffic: each user has a daily number of sessions (Poisson, its mean drawn from a Gamma of
 * shape 0.5 and mean 1: most users come once or not at all, a few many times), each session starting
 * on the diurnal curve (9× more at noon than at 3 a.m.) and lasting Exp(20 min) (capped at 4 h); the
 * request rate inside sessions is set so that the day totals 100 M requests. A request reaches the
 * authorizer only when API Gateway's cached result for its token is missing or older than the TTL;
 * ID tokens are refreshed hourly (a new token is a new cache key). Each authorizer invocation lands
 * on a warm environment picked at random, which keeps its own caches (the real credentials provider
 * and membership check, on a simulated clock, with counting fakes for Cognito Identity and DynamoDB).
 * Users belong to 10,000 tenants of Zipf sizes (the largest holds ~10% of users): its membership
 * reads all go to one DynamoDB partition, `CONTROL#<tenant>`.
 *
 * Sampled: by default 10% of the users and of the requests, with every per-environment cache bound
 * (credentials, OpenID tokens, membership answers) cut to 10% too, so each environment holds the same
 * share of the population as at full scale; caches are per (user, environment), so every count scales
 * by 10. Rates are reported per second over the busiest minute (a busiest single second of a sample,
 * scaled, would overstate the burst). `sample: 1` runs the whole population (~10× longer).
 * Deterministic for a seed; no sleeping.
 */
import type { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { createCredentialsProvider } from '../authorizer/credentials.js';
import { loadTemplate } from '../sam/template.js';
import { createMembershipCheckWith } from '../tenants/index.js';
import { COGNITO_IDENTITY_QUOTAS } from './cognito-budget.js';
import { prng } from './prng.js';

const DAY = 86_400;

export interface ScaleOptions {
  readonly users?: number;
  readonly requestsPerDay?: number;
  readonly tenants?: number;
  readonly environments: number;
  /** API Gateway's authorizer result TTL; default the template's ResultTtlSeconds. */
  readonly resultTtlSeconds?: number;
  readonly openIdTokenSeconds?: number;
  readonly membershipCacheSeconds?: number;
  readonly sessionMinutes?: number;
  readonly seed?: number;
  /** Share OpenID tokens across environments (the ShareOpenIdTokens design), through a counted store. */
  readonly sharedTokens?: boolean;
  /** Fraction of users and requests simulated; counts are scaled back. Default 0.1. */
  readonly sample?: number;
  /** A label for the report. */
  readonly design?: string;
}

/** Per-second peak and peak-minute average of one kind of call. */
export interface Rate {
  readonly perDay: number;
  /** The busiest second of the day. */
  readonly peakSecond: number;
  /** The busiest minute of the day, per second. */
  readonly peakMinute: number;
}

export interface ScaleResult {
  readonly design: string;
  readonly sharedTokens: boolean;
  readonly sample: number;
  readonly environments: number;
  readonly openIdTokenSeconds: number;
  readonly requestsPerDay: number;
  readonly peakRequestsPerSecond: number;
  readonly invocations: Rate;
  readonly getOpenIdToken: Rate;
  readonly getCredentials: Rate;
  /** Membership reads. */
  readonly getItem: Rate;
  /** Shared-token reads and writes (the ShareOpenIdTokens design; zero otherwise). */
  readonly tokenGetItem: Rate;
  readonly tokenPutItem: Rate;
  /** Membership reads of the largest tenant (one DynamoDB partition), per second, busiest minute. */
  readonly hotPartitionPeak: number;
  readonly hotTenantShare: number;
  /** Authorizer concurrency at the peak minute (Little's law, from simulated call latencies). */
  readonly peakConcurrency: number;
}

const exp = (random: () => number, mean: number) => -Math.log(1 - random()) * mean;

/** Gamma(shape < 1) by Marsaglia–Tsang on shape + 1, scaled by U^(1/shape). */
function gamma(random: () => number, shape: number, scale: number): number {
  const d = shape + 1 - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  let v = 0;
  for (;;) {
    let x = 0;
    do {
      // Box–Muller normal.
      x = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      v = 1 + c * x;
    } while (v <= 0);
    v = v ** 3;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) break;
  }
  return d * v * random() ** (1 / shape) * scale;
}

function poisson(random: () => number, mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}
const gaussian = (random: () => number) =>
  Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/** A session start on the diurnal curve: rate ∝ 1 − 0.8·cos(2πt/day), peak at noon. */
function diurnal(random: () => number): number {
  for (;;) {
    const t = random() * DAY;
    if (random() * 1.8 <= 1 - 0.8 * Math.cos((2 * Math.PI * t) / DAY)) return t;
  }
}

class Counter {
  constructor(private readonly scale = 1) {}
  perDay = 0;
  readonly seconds = new Float64Array(DAY + 3600);
  add(t: number, n = 1) {
    this.perDay += n;
    const s = Math.floor(t);
    if (s >= 0 && s < this.seconds.length) this.seconds[s] = (this.seconds[s] ?? 0) + n;
  }
  rate(): Rate {
    const k = this.scale;
    let peakSecond = 0;
    let peakMinute = 0;
    let window = 0;
    for (let s = 0; s < this.seconds.length; s++) {
      const v = this.seconds[s] ?? 0;
      peakSecond = Math.max(peakSecond, v);
      window += v - (s >= 60 ? (this.seconds[s - 60] ?? 0) : 0);
      peakMinute = Math.max(peakMinute, window / 60);
    }
    return { perDay: this.perDay * k, peakSecond: peakSecond * k, peakMinute: peakMinute * k };
  }
}

/** Authorizer invocations of one day: times (s), users, sorted by time. */
export function invocations(o: Required<Omit<ScaleOptions, 'design' | 'sharedTokens' | 'sample'>>) {
  const random = prng(o.seed);
  // Tenants of Zipf sizes (s = 1): user → tenant by the cumulative weights.
  const weights = new Float64Array(o.tenants);
  let sum = 0;
  for (let i = 0; i < o.tenants; i++) weights[i] = sum += 1 / (i + 1);
  const tenantOf = new Int32Array(o.users);
  for (let u = 0; u < o.users; u++) {
    const x = random() * sum;
    let lo = 0;
    let hi = o.tenants - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((weights[mid] ?? 0) < x) lo = mid + 1;
      else hi = mid;
    }
    tenantOf[u] = lo;
  }
  // Sessions.
  const starts: number[] = [];
  const ends: number[] = [];
  const owners: number[] = [];
  let sessionSeconds = 0;
  const meanSession = o.sessionMinutes * 60;
  for (let u = 0; u < o.users; u++) {
    const n = poisson(random, gamma(random, 0.5, 2));
    for (let k = 0; k < n; k++) {
      const start = diurnal(random);
      const length = Math.min(4 * 3600, Math.max(30, exp(random, meanSession)));
      starts.push(start);
      ends.push(start + length);
      owners.push(u);
      sessionSeconds += length;
    }
  }
  // One request every `gap` seconds on average inside a session totals the day's requests.
  const gap = sessionSeconds / o.requestsPerDay;
  const tokenPhase = new Float64Array(o.users);
  for (let u = 0; u < o.users; u++) tokenPhase[u] = random() * 3600;
  const times: number[] = [];
  const users: number[] = [];
  for (let i = 0; i < starts.length; i++) {
    const u = owners[i] ?? 0;
    const end = ends[i] ?? 0;
    let t = starts[i] ?? 0;
    while (t < end) {
      times.push(t);
      users.push(u);
      // The cached result serves until the TTL ends, or until the SPA's hourly token refresh makes a
      // new cache key; the first request after that reaches the authorizer (requests are Poisson).
      const phase = tokenPhase[u] ?? 0;
      const refresh = Math.floor((t + phase) / 3600 + 1) * 3600 - phase;
      t = Math.min(t + o.resultTtlSeconds, refresh) + exp(random, gap);
    }
  }
  const order = Array.from(times.keys()).sort((a, b) => (times[a] ?? 0) - (times[b] ?? 0));
  return {
    times: Float64Array.from(order, (i) => times[i] ?? 0),
    users: Int32Array.from(order, (i) => users[i] ?? 0),
    tenantOf,
    sessions: starts.length,
    gap,
  };
}

/** Simulated latency of a call on a miss (for the concurrency estimate): typical in-region figures. */
const LATENCY_S = { hit: 0.002, getOpenIdToken: 0.05, getCredentials: 0.05, getItem: 0.008 };

export async function runInternetScale(options: ScaleOptions): Promise<ScaleResult> {
  const params = (loadTemplate().Parameters ?? {}) as Record<string, { Default?: unknown }>;
  const o = {
    users: 1_000_000,
    requestsPerDay: 100_000_000,
    tenants: 10_000,
    resultTtlSeconds: Number(params.ResultTtlSeconds?.Default ?? 300),
    openIdTokenSeconds: Number(params.OpenIdTokenSeconds?.Default ?? 3600),
    membershipCacheSeconds: Number(params.MembershipCacheSeconds?.Default ?? 60),
    sessionMinutes: 20,
    seed: 7,
    sharedTokens: false,
    sample: 0.1,
    ...options,
  };
  const f = o.sample;
  const day = invocations({
    ...o,
    users: Math.round(o.users * f),
    requestsPerDay: Math.round(o.requestsPerDay * f),
  });
  const scale = 1 / f;
  const invoked = new Counter(scale);
  const mint = new Counter(scale);
  const exchange = new Counter(scale);
  const reads = new Counter(scale);
  const tokenReads = new Counter(scale);
  const tokenWrites = new Counter(scale);
  const hotReads = new Counter(scale);
  const busy = new Counter(scale); // seconds of authorizer work started per second
  // The shared store, as the table would hold it: one item per key, counted reads and writes.
  const store = new Map<string, { identityId: string; token: string; expiresAtMs: number }>();
  const sharedOpenIdTokens = o.sharedTokens
    ? {
        get: async (key: string) => {
          tokenReads.add(now);
          readLatency += LATENCY_S.getItem;
          return store.get(key);
        },
        put: async (
          key: string,
          token: { identityId: string; token: string; expiresAtMs: number },
        ) => {
          tokenWrites.add(now);
          store.set(key, token);
        },
      }
    : undefined;
  let now = 0; // simulated seconds
  let credentialsLatency = 0;
  let readLatency = 0;
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      if (command.constructor.name === 'GetOpenIdTokenForDeveloperIdentityCommand') {
        mint.add(now);
        credentialsLatency += LATENCY_S.getOpenIdToken;
        const login = Object.values(command.input.Logins as Record<string, string>)[0];
        return { IdentityId: `us-east-1:${login}`, Token: `openid-${login}` };
      }
      exchange.add(now);
      credentialsLatency += LATENCY_S.getCredentials;
      return {
        IdentityId: command.input.IdentityId,
        Credentials: {
          AccessKeyId: 'ASIASIM',
          SecretKey: 'secret',
          SessionToken: 'session',
          Expiration: new Date((now + 3600) * 1000),
        },
      };
    },
  } as unknown as CognitoIdentityClient;
  const hotTenant = 0; // Zipf rank 1
  let readingTenant = -1;
  const environments = Array.from({ length: o.environments }, () => ({
    credentials: createCredentialsProvider({
      client,
      identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
      developerProviderName: 'login.tenantgate',
      openIdTokenSeconds: o.openIdTokenSeconds,
      refreshMarginSeconds: Number(params.RefreshMarginSeconds?.Default ?? 900),
      now: () => now * 1000,
      random: () => 0.5,
      sleep: async () => {},
      // The default bound, cut like the population (see the header).
      maxEntries: Math.max(1, Math.round(5_000 * f)),
      ...(sharedOpenIdTokens ? { sharedOpenIdTokens } : {}),
    }),
    membership: createMembershipCheckWith(
      async () => {
        reads.add(now);
        if (readingTenant === hotTenant) hotReads.add(now);
        readLatency += LATENCY_S.getItem;
        return 'member';
      },
      {
        tableName: 'tenantgate',
        ttlMs: o.membershipCacheSeconds * 1000,
        maxEntries: Math.max(1, Math.round(10_000 * f)),
        now: () => now * 1000,
      },
    ),
  }));
  const pick = prng(o.seed + 99);
  const providerName = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_Scale';
  for (let i = 0; i < day.times.length; i++) {
    now = day.times[i] ?? 0;
    const user = day.users[i] ?? 0;
    const tenant = day.tenantOf[user] ?? 0;
    const env = environments[Math.floor(pick() * o.environments)];
    if (!env) continue;
    invoked.add(now);
    credentialsLatency = 0;
    readLatency = 0;
    readingTenant = tenant;
    const userId = `u${user}`;
    const tenantId = `t${tenant}`;
    // As the authorizer does: both at once, the longer one decides the latency.
    await Promise.all([
      env.credentials.get({ providerName, userId, tenantId }),
      env.membership({ tenantId, userId, role: 'member' }),
    ]);
    busy.add(now, LATENCY_S.hit + Math.max(credentialsLatency, readLatency));
  }
  const requestPeak = (o.requestsPerDay / DAY) * 1.8;
  return {
    design:
      options.design ??
      `OpenID token ${o.openIdTokenSeconds / 3600} h, ${o.sharedTokens ? 'shared across environments' : 'per environment'}`,
    sharedTokens: o.sharedTokens,
    sample: f,
    environments: o.environments,
    openIdTokenSeconds: o.openIdTokenSeconds,
    requestsPerDay: o.requestsPerDay,
    peakRequestsPerSecond: Math.round(requestPeak),
    invocations: invoked.rate(),
    getOpenIdToken: mint.rate(),
    getCredentials: exchange.rate(),
    getItem: reads.rate(),
    tokenGetItem: tokenReads.rate(),
    tokenPutItem: tokenWrites.rate(),
    hotPartitionPeak: hotReads.rate().peakMinute,
    hotTenantShare: day.tenantOf.filter((t) => t === hotTenant).length / day.tenantOf.length,
    peakConcurrency: busy.rate().peakMinute,
  };
}

export { COGNITO_IDENTITY_QUOTAS };

/** The designs the report compares, at 100 and 1,000 warm environments. */
export const SCALE_DESIGNS = [
  { openIdTokenSeconds: 3600, sharedTokens: false },
  { openIdTokenSeconds: 86_400, sharedTokens: false },
  { openIdTokenSeconds: 3600, sharedTokens: true },
  { openIdTokenSeconds: 86_400, sharedTokens: true },
] as const;

if (import.meta.url === `file://${process.argv[1]}`) {
  const sample = Number(process.argv[2] ?? 0.1);
  for (const environments of [100, 1000]) {
    for (const design of SCALE_DESIGNS) {
      const started = performance.now();
      const r = await runInternetScale({ environments, sample, ...design });
      const f = (x: Rate) => `${x.peakMinute.toFixed(0)}/s`;
      console.log(
        `${environments} envs, ${r.design} (${((performance.now() - started) / 1000).toFixed(0)} s): invocations ${f(r.invocations)}, GetOpenIdToken ${f(r.getOpenIdToken)}, GetCredentials ${f(r.getCredentials)}, GetItem ${f(r.getItem)} + tokens ${f(r.tokenGetItem)}/${f(r.tokenPutItem)}, hot partition ${r.hotPartitionPeak.toFixed(1)}/s, concurrency ${r.peakConcurrency.toFixed(1)}`,
      );
    }
  }
}
