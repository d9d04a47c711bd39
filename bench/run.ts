/**
 * `npm run bench`: every benchmark in one run, progress on stderr, results in bench/results.md and
 * bench/chart.svg. Each figure is a median beside a baseline measured in the same run, reported as a
 * ratio. Benchmarks are not tests: nothing here gates CI.
 */
import { execSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadTemplate, ROOT } from '../sam/template.js';
import { runCognitoBudget } from './cognito-budget.js';
import { runColdStart } from './cold-start.js';
import { runFailFast } from './fail-fast.js';
import { runFirstInvocation } from './first-invocation.js';
import { runHotPath } from './hot-path.js';
import { COGNITO_IDENTITY_QUOTAS, runInternetScale, SCALE_DESIGNS } from './internet-scale.js';
import { runMembershipCheck } from './membership-check.js';
import { runPolicyEval } from './policy-eval.js';
import type { PeerResult } from './policy-peers.js';

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const f = (n: number, d = 1) => n.toFixed(d);
const version = (pkg: string) => {
  try {
    return (
      JSON.parse(execSync(`npm ls ${pkg} --json --depth=0`, { cwd: ROOT, encoding: 'utf8' })) as {
        dependencies?: Record<string, { version: string }>;
      }
    ).dependencies?.[pkg]?.version;
  } catch {
    return undefined;
  }
};

function bars(
  title: string,
  unit: string,
  rows: { label: string; value: number }[],
  y: number,
): string {
  const max = Math.max(...rows.map((r) => r.value));
  const parts = [`<text x="10" y="${y}" font-weight="bold">${title}</text>`];
  rows.forEach((r, i) => {
    const top = y + 12 + i * 26;
    const width = Math.max(1, (r.value / max) * 300);
    parts.push(
      `<text x="10" y="${top + 15}">${r.label}</text>`,
      `<rect x="370" y="${top}" width="${width.toFixed(1)}" height="18" fill="${i === 0 ? '#9aa5b1' : '#2f6fde'}"/>`,
      `<text x="${(376 + width).toFixed(1)}" y="${top + 14}">${f(r.value)} ${unit}</text>`,
    );
  });
  return parts.join('\n');
}

const params = (loadTemplate().Parameters ?? {}) as Record<string, { Default?: unknown }>;
const defaultOf = (name: string) => String(params[name]?.Default ?? '?');
const met = (ok: boolean) => (ok ? '**met**' : '**not met**');

log('hot path (per-request cost against RS256 and aws-jwt-verify)…');
const hot = await runHotPath();
// The nanosecond-scale policy timings run on a young heap: after the million-request budget
// simulation, GC work landed in their samples (383 ns at 10 patterns in the full run vs 98 alone).
log('policy evaluation (10, 100, 1,000 patterns)…');
const policy = runPolicyEval();
log('policy peers (CASL, casbin, cedar-wasm; same decisions asserted first)…');
// In a process of their own: nanosecond timings in this one depended on what ran before (our engine
// read 382 ns at 10 patterns after the other suites, 98 ns alone); every engine gets the same fresh
// process instead.
const peersOnce = () =>
  spawnSync(process.execPath, ['--import', 'tsx', 'bench/policy-peers.ts', '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
// Once seen here: the child died with SIGTRAP (status 133) inside cedar-wasm; a second run passed.
let peersRun = peersOnce();
if (peersRun.status !== 0) {
  log(`policy peers exited with ${peersRun.status}; running them once more`);
  peersRun = peersOnce();
}
if (peersRun.status !== 0)
  throw new Error(`policy peers failed (${peersRun.status}): ${peersRun.stderr.slice(-1500)}`);
const peers = JSON.parse(peersRun.stdout) as PeerResult[];
log('cold start against the dependency floor (20 fresh processes per variant, interleaved)…');
const cold = await runColdStart(20);
log('first invocation against the local stack (20 fresh processes per variant and moment)…');
const first = await runFirstInvocation(20);
log('fail fast (a socket that accepts and never answers)…');
const failFast = await runFailFast();
log('Cognito call budget (1,000,000 requests, 10,000 users, simulated day)…');
const budget1 = await runCognitoBudget({ containers: 1 });
const budget10 = await runCognitoBudget({ containers: 10 });
log('membership check (hit, miss against DynamoDB Local, GetItems a day)…');
const membership = await runMembershipCheck();
const sample = Number(process.env.BENCH_SCALE_SAMPLE ?? 0.05);
const scale: Awaited<ReturnType<typeof runInternetScale>>[] = [];
for (const environments of [100, 1000]) {
  for (const design of SCALE_DESIGNS) {
    log(
      `internet scale: ${environments} environments, OpenID token ${design.openIdTokenSeconds} s, ${design.sharedTokens ? 'shared' : 'per environment'} (sample ${sample})…`,
    );
    scale.push(await runInternetScale({ environments, sample, ...design }));
  }
}

// ---- figures the prose needs ----------------------------------------------------------------
const [rsa, jwv, fresh, repeated] = hot;
const coldOf = (key: string) => cold.find((r) => r.key === key);
const floor = coldOf('floor');
const ours = coldOf('tenantgate');
const unbundled = coldOf('unbundled');
const initRatio = (ours?.initMs ?? 0) / (floor?.initMs ?? 1);
const bundleRatio = (ours?.bundleKiB ?? 0) / (floor?.bundleKiB ?? 1);
const firstOf = (key: string, moment: string) =>
  first.find((r) => r.key === key && r.moment === moment);
const firstRatioOf = (key: string, moment: string) =>
  (firstOf(key, moment)?.firstMs ?? 0) / (firstOf('floor', moment)?.firstMs ?? 1);
const firstRatio = (moment: string) => firstRatioOf('tenantgate', moment);
const ourPath = firstOf('tenantgate', 'after init')?.criticalPath ?? [];
const floorPath = firstOf('floor', 'after init')?.criticalPath ?? [];
const peer = (engine: string, n: number) =>
  peers.find((p) => p.engine === engine && p.patterns === n)?.nanosPerCheck ?? 0;
const sizes = [10, 100, 1000];
const policyMax = Math.max(...sizes.map((n) => peer('tenantgate', n)));
const caslMin = Math.min(
  ...sizes.map((n) => peer('@casl/ability', n) / (peer('tenantgate', n) || 1)),
);
const failWorst = Math.max(...failFast.map((r) => r.elapsedMs / r.boundMs));
// DynamoDB (PAY_PER_REQUEST in the template): an eventually consistent GetItem of an item ≤ 4 KB is
// 0.5 read request unit, a PutItem ≤ 1 KB one write request unit.
const DYNAMO = {
  tablePerSecond: 40_000,
  newTableReads: 12_000,
  newTableWrites: 4_000,
  partitionReads: 3_000,
};
const rru = (r: (typeof scale)[number]) => 0.5 * (r.getItem.peakMinute + r.tokenGetItem.peakMinute);
const verdict = (r: (typeof scale)[number]) => {
  const over: string[] = [];
  const q = COGNITO_IDENTITY_QUOTAS;
  if (r.getOpenIdToken.peakMinute > q.GetOpenIdTokenForDeveloperIdentity)
    over.push(
      `GetOpenIdTokenForDeveloperIdentity ${f(r.getOpenIdToken.peakMinute / q.GetOpenIdTokenForDeveloperIdentity, 1)}× its quota`,
    );
  if (r.getCredentials.peakMinute > q.GetCredentialsForIdentity)
    over.push(
      `GetCredentialsForIdentity ${f(r.getCredentials.peakMinute / q.GetCredentialsForIdentity, 1)}× its quota`,
    );
  if (rru(r) > DYNAMO.newTableReads)
    over.push('DynamoDB reads above a new table’s instant 12,000 RRU/s');
  if (r.tokenPutItem.peakMinute > DYNAMO.newTableWrites)
    over.push('DynamoDB writes above 4,000 WRU/s');
  if (0.5 * r.hotPartitionPeak > DYNAMO.partitionReads)
    over.push('hot partition above 3,000 RRU/s');
  return over.length === 0 ? 'within every default' : `raise: ${over.join('; ')}`;
};
const rate = (x: { peakMinute: number }) => f(x.peakMinute, 0);
const scaleRow = (r: (typeof scale)[number]) =>
  `| ${r.environments} | ${r.design} | ${rate(r.invocations)} | ${rate(r.getOpenIdToken)} (${f((100 * r.getOpenIdToken.peakMinute) / COGNITO_IDENTITY_QUOTAS.GetOpenIdTokenForDeveloperIdentity, 0)}%) | ${rate(r.getCredentials)} (${f((100 * r.getCredentials.peakMinute) / COGNITO_IDENTITY_QUOTAS.GetCredentialsForIdentity, 0)}%) | ${rate(r.getItem)} | ${rate(r.tokenGetItem)} / ${rate(r.tokenPutItem)} | ${f(rru(r), 0)} | ${f(r.hotPartitionPeak, 0)} | ${f(r.peakConcurrency, 0)} | ${verdict(r)} |`;
const scaleOf = (envs: number, seconds: number, shared: boolean) =>
  scale.find(
    (r) => r.environments === envs && r.openIdTokenSeconds === seconds && r.sharedTokens === shared,
  );

const md = `# tenantgate benchmarks

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${f(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}, shared with other
work (timings are noisy; ratios against a baseline measured in the same run travel, absolute figures do
not — Lambda runs nodejs22.x). aws-jwt-verify ${version('aws-jwt-verify')}, @aws-sdk/client-cognito-identity
${version('@aws-sdk/client-cognito-identity')}, esbuild ${version('esbuild')}. Medians; never a pass/fail. Regenerate with \`npm run bench\`.

![chart](chart.svg)

## Targets (issue 14), this run

| target | measured | |
| --- | --- | --- |
| init ≤ 1.15× the dependency floor | ${f(ours?.initMs ?? 0)} ms vs ${f(floor?.initMs ?? 0)} ms: **${f(initRatio, 2)}×** | ${met(initRatio <= 1.15)} |
| bundle ≤ 1.15× the floor's | ${f(ours?.bundleKiB ?? 0, 0)} KiB vs ${f(floor?.bundleKiB ?? 0, 0)} KiB: **${f(bundleRatio, 2)}×** | ${met(bundleRatio <= 1.15)} |
| first request: the two Cognito Identity calls only on its critical path | ${ourPath.length} sequential round trips (${ourPath.join(' → ') || '—'}); floor ${floorPath.length} | ${met(ourPath.length <= floorPath.length)} |
| first invocation vs the floor with the same round trips (membership check off) | after init ${f(firstRatioOf('tenantgate, check off', 'after init'), 2)}×, request waiting on init ${f(firstRatioOf('tenantgate, check off', 'waiting'), 2)}× | — |
| first invocation vs the floor, membership GetItem beside the Cognito calls | after init ${f(firstRatio('after init'), 2)}×, waiting ${f(firstRatio('waiting'), 2)}× | — |
| fail fast: a stalled dependency is a 500 within its stated bound | worst ${f(failWorst, 2)}× its bound (bound ≤ 3 × ${defaultOf('DependencyTimeoutMs')} ms, function timeout 10 s) | ${met(failWorst <= 1.1)} |
| policy ≤ 50 ns flat at 10/100/1,000 patterns | ${sizes.map((n) => f(peer('tenantgate', n), 0)).join(' / ')} ns | ${met(policyMax <= 50)} |
| policy ≥ 2× faster than CASL (same decisions asserted) | ${sizes.map((n) => `${f(peer('@casl/ability', n) / (peer('tenantgate', n) || 1), 1)}×`).join(' / ')} | ${met(caslMin >= 2)} |

## Warm latency (µs per request, one process)

| path | median | p99 (of batches) | ratio |
| --- | --- | --- | --- |
${hot.map((r) => `| ${r.name} | ${f(r.medianMicros, 2)} | ${f(r.p99Micros, 2)} | ${f(r.medianMicros / (rsa?.medianMicros ?? 1), 2)}× RS256 |`).join('\n')}

A repeated token costs ${f((repeated?.medianMicros ?? 0) / (rsa?.medianMicros ?? 1), 2)}× one raw RS256 verify (target < 1×), logs and metrics
included; a new token costs ${f((fresh?.medianMicros ?? 0) / (jwv?.medianMicros ?? 1), 2)}× aws-jwt-verify's verify alone (target ≤ 1.5×).

## Cold start against the dependency floor (${floor?.runs} fresh processes per variant, interleaved)

The floor is [bench/floor-authorizer.ts](floor-authorizer.ts): aws-jwt-verify and
@aws-sdk/client-cognito-identity only (verify, then GetOpenIdTokenForDeveloperIdentity and
GetCredentialsForIdentity), bundled here with the AuthorizerFunction's esbuild settings from template.yaml.
Init is from before \`import()\` to the handler being ready; both start the JWKS download at import.

| variant | init median (ms) | p90 | RSS (MiB) | bundle (KiB) | init ratio | bundle ratio |
| --- | --- | --- | --- | --- | --- | --- |
${cold.map((r) => `| ${r.name} | ${f(r.initMs)} | ${f(r.initP90Ms)} | ${f(r.rssMiB)} | ${r.bundleKiB === undefined ? '—' : f(r.bundleKiB, 0)} | ${f(r.initMs / (floor?.initMs ?? 1), 2)}× | ${r.bundleKiB === undefined ? '—' : `${f(r.bundleKiB / (floor?.bundleKiB ?? 1), 2)}×`} |`).join('\n')}

Our authorizer's init is ${f(initRatio, 2)}× the floor's and its bundle ${f(bundleRatio, 2)}× (targets ≤ 1.15×). What it carries
beyond the floor: the tenant check, caches, the membership read (signed JSON over node:http, no DynamoDB
client), the shared-token store, logs and EMF metrics from sam/telemetry.ts — the two rows below show what
the parts it leaves out would have cost: the DynamoDB document client ${f((coldOf('floor+dynamodb')?.initMs ?? 0) / (floor?.initMs ?? 1), 2)}× the floor's init,
Powertools Logger and Metrics ${f((coldOf('floor+powertools')?.initMs ?? 0) / (floor?.initMs ?? 1), 2)}×. Bundling makes init ${f((unbundled?.initMs ?? 0) / (ours?.initMs ?? 1), 1)}× faster than loading
the same code's packages from node_modules.

## First invocation against the local stack (${first[0]?.runs} fresh processes per variant and moment, ms)

| moment | variant | init | first invocation | p90 | second | sequential round trips on the first request | requests during it | ratio |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${first.map((r) => `| ${r.moment} | ${r.name} | ${f(r.initMs)} | ${f(r.firstMs)} | ${f(r.firstP90Ms)} | ${f(r.secondMs, 2)} | ${r.criticalPath.length}: ${r.criticalPath.join(' → ') || '—'} | ${r.requests} | ${f(r.firstMs / (firstOf('floor', r.moment)?.firstMs ?? 1), 2)}× floor |`).join('\n')}

Everything on loopback: cognito-local's JWKS, the identity-pool stand-in and the membership GetItem
through the isolation proxy to DynamoDB Local. The floor makes the same calls minus the membership read.
*After init*: the request arrives once init's own network work is done (provisioned concurrency,
proactive initialization) — the JWKS is in memory and the critical path is the two Cognito Identity
calls, with the membership GetItem beside them. *Waiting*: the request is there when the import ends (an
on-demand cold start) and joins the JWKS download init started. Round trips are counted in the probe from
every outgoing request's start and end (the longest chain of requests each starting after the previous
one ended).

With the membership check off, our authorizer makes exactly the floor's calls and its first invocation
costs ${f(firstRatioOf('tenantgate, check off', 'after init'), 2)}× the floor's after init (${f(firstRatioOf('tenantgate, check off', 'waiting'), 2)}× waiting). With it on (the template's default), the GetItem runs
beside the two Cognito calls and adds no sequential round trip, but here it is the longer branch: the
first GetItem goes through the isolation proxy (which judges its SigV4 signature and IAM policy) to
DynamoDB Local, a JVM, and took 46–101 ms in a traced run of six, while each Cognito call to the in-process
identity-pool stand-in took 3–36 ms. In AWS the balance is the other way round (an in-region GetItem
answers in single-digit milliseconds, each Cognito Identity call in tens), so there the two Cognito
calls are the critical path.

## Fail fast: a dependency that accepts and never answers (DependencyTimeoutMs ${defaultOf('DependencyTimeoutMs')} ms)

| stalled | time to the error (ms) | stated bound (ms) | ratio | error |
| --- | --- | --- | --- | --- |
${failFast.map((r) => `| ${r.stalled} | ${f(r.elapsedMs, 0)} | ${r.boundMs} | ${f(r.elapsedMs / r.boundMs, 2)}× | ${r.error} |`).join('\n')}

Every call has its own limit (the JWKS download 1×, each Cognito Identity attempt 1× within a 2× budget
for the exchange, the membership read 2× for its two attempts, running beside the exchange), so a request
ends within 3× DependencyTimeoutMs when everything stalls, where before it waited out the 10 s function
timeout. The tests (test/authorizer, test/sam) assert the outcome against a stalled socket on an injected
clock; these are wall-clock figures.

## Internet scale, simulated (1,000,000 users, 100,000,000 requests a day; peak rates per second)

A simulated day (bench/internet-scale.ts, ${f(100 * sample, 0)}% sample scaled back, seed 7): sessions on a diurnal curve (9× more
at noon than at 3 a.m.; the day's mean is ${f(1e8 / 86_400, 0)} requests/s, the peak ≈ ${scale[0]?.peakRequestsPerSecond ?? 0}/s), API Gateway's
result cache at the template's TTL (ResultTtlSeconds ${defaultOf('ResultTtlSeconds')} s) in front, hourly ID-token refresh, warm environments
picked at random running the real credentials provider and membership check (MembershipCacheSeconds ${defaultOf('MembershipCacheSeconds')} s)
on a simulated clock, 10,000 tenants of Zipf sizes (the largest holds ${f(100 * (scale[0]?.hotTenantShare ?? 0), 0)}% of users). Rates are the busiest
minute's, per second. Default quotas (per account per Region; Cognito
[quotas](https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html), DynamoDB
[quotas](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html) and
[on-demand throttling](https://repost.aws/knowledge-center/on-demand-table-throttling-dynamodb)):
GetOpenIdTokenForDeveloperIdentity ${COGNITO_IDENTITY_QUOTAS.GetOpenIdTokenForDeveloperIdentity}/s, GetCredentialsForIdentity ${COGNITO_IDENTITY_QUOTAS.GetCredentialsForIdentity}/s (both adjustable); DynamoDB on-demand
${DYNAMO.tablePerSecond.toLocaleString('en')} read and write request units/s per table, a new on-demand table ${DYNAMO.newTableReads.toLocaleString('en')} RRU/s or ${DYNAMO.newTableWrites.toLocaleString('en')} WRU/s at once, ${DYNAMO.partitionReads.toLocaleString('en')} RRU/s per partition.

| warm environments | design | authorizer invocations/s | GetOpenIdTokenForDeveloperIdentity/s (% of 50) | GetCredentialsForIdentity/s (% of 200) | membership GetItem/s | shared-token GetItem / PutItem per s | RRU/s | hot tenant's partition GetItem/s | concurrency | what to raise |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${scale.map(scaleRow).join('\n')}

Before and after sharing OpenID tokens (ShareOpenIdTokens, template parameter, default off): with 1,000
environments GetOpenIdTokenForDeveloperIdentity goes from ${rate(scaleOf(1000, 3600, false)?.getOpenIdToken ?? { peakMinute: 0 })}/s to ${rate(scaleOf(1000, 3600, true)?.getOpenIdToken ?? { peakMinute: 0 })}/s
(1-hour tokens) and from ${rate(scaleOf(1000, 86_400, false)?.getOpenIdToken ?? { peakMinute: 0 })}/s to ${rate(scaleOf(1000, 86_400, true)?.getOpenIdToken ?? { peakMinute: 0 })}/s (24-hour tokens, OpenIdTokenSeconds 86400), at the
price of ${rate(scaleOf(1000, 3600, true)?.tokenGetItem ?? { peakMinute: 0 })} GetItem/s on AUTHZ# items. GetCredentialsForIdentity is not changed by sharing: each
environment exchanges for its own credentials (they are never stored outside the environment's memory),
and with API Gateway spreading a user's calls over many environments nearly every invocation is an
exchange: ${rate(scaleOf(1000, 3600, true)?.getCredentials ?? { peakMinute: 0 })}/s at the peak, ${f((100 * (scaleOf(1000, 3600, true)?.getCredentials.peakMinute ?? 0)) / COGNITO_IDENTITY_QUOTAS.GetCredentialsForIdentity, 0)}% of its 200/s quota. It is the next quota to go: at
this traffic shape it reaches 200/s near ${f((1e8 * COGNITO_IDENTITY_QUOTAS.GetCredentialsForIdentity) / (scaleOf(1000, 3600, true)?.getCredentials.peakMinute || 1) / 1e6, 0)} M requests a day, so a deployment beyond that must ask
for GetCredentialsForIdentity to be raised (adjustable). Without sharing, GetOpenIdTokenForDeveloperIdentity
is over its 50/s default already at 100 M requests a day, whatever the token's lifetime (an environment
rarely sees the same user twice within it): turn ShareOpenIdTokens on, or have the quota raised to the
figure in the table. DynamoDB stays far under every default: ${f(rru(scaleOf(1000, 3600, true) ?? (scale[0] as (typeof scale)[number])), 0)} RRU/s of the 12,000 a new on-demand
table serves at once, and the largest tenant's membership partition reads ${f(scaleOf(1000, 3600, true)?.hotPartitionPeak ?? 0, 0)} GetItem/s of 3,000 RRU/s.

## Cognito call budget (1,000,000 requests, 10,000 Zipf users, one simulated day, 1-hour tokens and credentials)

| design | warm environments | identity call (quota/s) | identity calls | GetCredentialsForIdentity | calls/request | peak identity calls/s | peak GetCredentials/s (quota 200) | peak calls/s |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${[...budget1, ...budget10].map((r) => `| ${r.design} | ${r.containers} | ${r.idCall} (${r.idCallQuota}) | ${r.idCalls} | ${r.getCredentials} | ${f(r.callsPerRequest, 3)} | ${r.peakIdCallsPerSecond} | ${r.peakGetCredentialsPerSecond} | ${r.peakCallsPerSecond} |`).join('\n')}

The user-pool-provider designs (\`none\`, \`raw-token\`) call GetId (default quota 25/s), which any user can
also call with their own token; tenantgate mints credentials only server-side with
GetOpenIdTokenForDeveloperIdentity (IAM-signed, 50/s) and keeps that OpenID token per (user, tenant) for
its lifetime (\`OpenIdTokenSeconds\`, default ${defaultOf('OpenIdTokenSeconds')}).

## Membership check: the price of revocation within 60 s (µs per request)

| path | median | ratio |
| --- | --- | --- |
| authorizer, repeated token, check off | ${f(membership.hitOffMicros, 2)} | 1× |
| authorizer, repeated token, check on (cache hit) | ${f(membership.hitOnMicros, 2)} | ${f(membership.hitOnMicros / membership.hitOffMicros, 2)}× |
| one GetItem of a membership item, DynamoDB Local on loopback | ${f(membership.getItemMicros, 0)} | — |
| authorizer, check on, every request a miss (TTL 0) | ${f(membership.missOnMicros, 0)} | ${f(membership.missOnMicros / membership.hitOffMicros, 0)}× |

GetItems a day for the Cognito-budget workload (${membership.requestsPerDay.toLocaleString('en')} authorizer invocations, 10,000 Zipf users, 60 s cache per warm
environment): ${membership.getItemsPerDay.map((g) => `${g.getItems.toLocaleString('en')} with ${g.containers} environment${g.containers > 1 ? 's' : ''} (${f((100 * g.getItems) / membership.requestsPerDay, 0)}% of invocations)`).join(', ')}.
The revocation bound is ResultTtlSeconds + MembershipCacheSeconds.

## Policy evaluation (ns per check, compile µs)

| patterns per role | evaluate (ns) | compile (µs) |
| --- | --- | --- |
${policy.map((r) => `| ${r.patterns} | ${f(r.evaluateNanos)} | ${f(r.compileMicros)} |`).join('\n')}

### Against peers (ns per check, equivalent rules, identical decisions asserted on 300 checks per size)

| engine | 10 patterns | 100 | 1,000 |
| --- | --- | --- | --- |
${['tenantgate', '@casl/ability', 'casbin', 'cedar-wasm']
  .map((e) => `| ${e} | ${sizes.map((n) => f(peer(e, n), 0)).join(' | ')} |`)
  .join('\n')}
| CASL ÷ tenantgate | ${sizes.map((n) => `${f(peer('@casl/ability', n) / (peer('tenantgate', n) || 1), 1)}×`).join(' | ')} |

A repeated check is one lookup in the role's memo of action → decision (bounded at 1,024 actions,
only valid actions remembered), so the cost does not depend on the role's size. CASL indexes rules by
action and subject and still walks the matching rules per call; casbin scans its policy lines (linear),
and cedar-wasm pays the JS↔Wasm boundary and JSON marshalling on every call.
`;

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="780" height="560" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">
<title id="title">tenantgate: warm latency, cold start and first invocation against their floors</title>
<rect width="100%" height="100%" fill="white"/>
${bars(
  'Warm latency (µs per request)',
  'µs',
  hot.map((r) => ({ label: r.name, value: r.medianMicros })),
  20,
)}
${bars(
  'Cold start: init (ms), floor first',
  'ms',
  cold.filter((r) => r.key !== 'unbundled').map((r) => ({ label: r.name, value: r.initMs })),
  170,
)}
${bars(
  'First invocation after init, local stack (ms), floor first',
  'ms',
  first
    .filter((r) => r.moment === 'after init')
    .map((r) => ({ label: `${r.key} (${r.criticalPath.length} round trips)`, value: r.firstMs })),
  360,
)}
${bars(
  'Policy check at 1,000 patterns (ns), CASL first',
  'ns',
  [
    { label: '@casl/ability', value: peer('@casl/ability', 1000) },
    { label: 'tenantgate', value: peer('tenantgate', 1000) },
  ],
  470,
)}
</svg>
`;
writeFileSync(join(ROOT, 'bench', 'results.md'), md);
writeFileSync(join(ROOT, 'bench', 'chart.svg'), svg);
log('wrote bench/results.md and bench/chart.svg');
