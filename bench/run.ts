/**
 * `npm run bench`: every benchmark in one run, progress on stderr, results in bench/results.md and
 * bench/chart.svg. Each figure is a median beside a baseline measured in the same run, reported as a
 * ratio. Benchmarks are not tests: nothing here gates CI.
 */
import { execSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../sam/template.js';
import { runCognitoBudget } from './cognito-budget.js';
import { runColdStart } from './cold-start.js';
import { runFirstInvocation } from './first-invocation.js';
import { runHotPath } from './hot-path.js';
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
log('cold start (20 fresh processes per variant)…');
const cold = await runColdStart(20);
log('first invocation against the local stack (20 fresh processes per variant)…');
const first = await runFirstInvocation(20);
log('Cognito call budget (1,000,000 requests, 10,000 users, simulated day)…');
const budget1 = await runCognitoBudget({ containers: 1 });
const budget10 = await runCognitoBudget({ containers: 10 });
log('membership check (hit, miss against DynamoDB Local, GetItems a day)…');
const membership = await runMembershipCheck();

const [rsa, jwv, fresh, repeated] = hot;
const [floor, bundled, unbundled] = cold;
const md = `# tenantgate benchmarks

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${f(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}
(Lambda runs nodejs22.x on arm64: absolute figures differ, ratios travel better). aws-jwt-verify
${version('aws-jwt-verify')}, @middy/core ${version('@middy/core')}, Powertools ${version('@aws-lambda-powertools/metrics')},
esbuild ${version('esbuild')}. Medians of batches; every figure beside a baseline from the same run.
Regenerate with \`npm run bench\`.

![chart](chart.svg)

## Warm latency (µs per request, one process)

| path | median | p99 (of batches) | ratio |
| --- | --- | --- | --- |
${hot.map((r) => `| ${r.name} | ${f(r.medianMicros, 2)} | ${f(r.p99Micros, 2)} | ${f(r.medianMicros / (rsa?.medianMicros ?? 1), 2)}× RS256 |`).join('\n')}

A repeated token costs ${f((repeated?.medianMicros ?? 0) / (rsa?.medianMicros ?? 1), 2)}× one raw RS256 verify (target < 1×), middy and
metrics included; a new token costs ${f((fresh?.medianMicros ?? 0) / (jwv?.medianMicros ?? 1), 2)}× aws-jwt-verify's verify alone (target ≤ 1.5×).
What is left on the hit path: SHA-256 of the token (~2 µs), middy's promise chain, building the context and
policy objects. Closer to the floor would mean keying the cache without hashing (a Map on the token string
itself: more memory per entry) and skipping middy on the hot path.

## Cold start (${floor?.runs} fresh processes each)

| variant | init median (ms) | p90 | RSS (MiB) | bundle (KiB) | ratio |
| --- | --- | --- | --- | --- | --- |
${cold.map((r) => `| ${r.name} | ${f(r.initMs)} | ${f(r.initP90Ms)} | ${f(r.rssMiB)} | ${r.bundleKiB === undefined ? '—' : f(r.bundleKiB, 0)} | ${f(r.initMs / (floor?.initMs ?? 1), 2)}× floor |`).join('\n')}

Bundling (the template's esbuild settings) makes init ${f((unbundled?.initMs ?? 0) / (bundled?.initMs ?? 1), 1)}× faster than loading the same code's
packages from node_modules. We are ${f((bundled?.initMs ?? 0) / (floor?.initMs ?? 1), 1)}× the bare-verifier floor: the AWS SDK's Cognito Identity and
DynamoDB clients, middy and Powertools are the difference.

### First invocation against the local stack (${first[0]?.runs} fresh processes each, ms)

| variant | init | first invocation | p90 | second invocation | RSS (MiB) |
| --- | --- | --- | --- | --- | --- |
${first.map((r) => `| ${r.name} | ${f(r.initMs)} | ${f(r.firstMs)} | ${f(r.firstP90Ms)} | ${f(r.secondMs, 2)} | ${f(r.rssMiB)} |`).join('\n')}

Everything on loopback: cognito-local's JWKS, the identity-pool stand-in (GetOpenIdTokenForDeveloperIdentity, GetCredentialsForIdentity),
and the membership GetItem through the isolation proxy to DynamoDB Local. Our first invocation costs
${f((first[1]?.firstMs ?? 0) / (first[0]?.firstMs ?? 1), 1)}× the bare verifier's (JWKS download and one verify): three more round trips, each to a
local stand-in, plus the SDK clients' first-request setup (credential and endpoint resolution). In AWS the
round trips dominate instead (tens of ms each to Cognito Identity); prefetching the JWKS at init
(the verifier's \`hydrate()\`) would take the key download off the first request. The second
invocation is the warm path.

## Cognito call budget (1,000,000 requests, 10,000 Zipf users, one simulated day, 1-hour tokens and credentials)

| design | warm environments | identity call (quota/s) | identity calls | GetCredentialsForIdentity | calls/request | peak identity calls/s | peak GetCredentials/s (quota 200) | peak calls/s |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${[...budget1, ...budget10].map((r) => `| ${r.design} | ${r.containers} | ${r.idCall} (${r.idCallQuota}) | ${r.idCalls} | ${r.getCredentials} | ${f(r.callsPerRequest, 3)} | ${r.peakIdCallsPerSecond} | ${r.peakGetCredentialsPerSecond} | ${r.peakCallsPerSecond} |`).join('\n')}

The identity call differs by design: the user-pool-provider designs (\`none\`, \`raw-token\`) call GetId (default
quota 25/s per account), which any user can also call with their own token; tenantgate mints credentials only
server-side with GetOpenIdTokenForDeveloperIdentity (IAM-signed, 50/s) and keeps that OpenID token per
(user, tenant) for its lifetime (\`OpenIdTokenSeconds\`, default 3600), so it makes
${f((budget1[1]?.idCalls ?? 0) / (budget1[2]?.idCalls ?? 1), 1)}× fewer identity calls than the raw-token cache's GetIds with one environment, each against
a quota twice as large. GetCredentialsForIdentity is close to the raw-token design, and that is the price of
correctness, published on purpose: we refresh credentials 15 minutes (the refresh margin) before expiry so that
an API Gateway cached result never carries expired credentials, while the raw-token cache serves credentials to
the last second and re-exchanges on every hourly token refresh.

## Membership check: the price of revocation within 60 s (µs per request)

| path | median | ratio |
| --- | --- | --- |
| authorizer, repeated token, check off | ${f(membership.hitOffMicros, 2)} | 1× |
| authorizer, repeated token, check on (cache hit) | ${f(membership.hitOnMicros, 2)} | ${f(membership.hitOnMicros / membership.hitOffMicros, 2)}× |
| one GetItem of a membership item, DynamoDB Local on loopback | ${f(membership.getItemMicros, 0)} | — |
| authorizer, check on, every request a miss (TTL 0) | ${f(membership.missOnMicros, 0)} | ${f(membership.missOnMicros / membership.hitOffMicros, 0)}× |

GetItems a day for the Cognito-budget workload (${membership.requestsPerDay.toLocaleString('en')} authorizer invocations, 10,000 Zipf users, 60 s cache per warm
environment): ${membership.getItemsPerDay.map((g) => `${g.getItems.toLocaleString('en')} with ${g.containers} environment${g.containers > 1 ? 's' : ''} (${f((100 * g.getItems) / membership.requestsPerDay, 0)}% of invocations)`).join(', ')}.

A hit costs ${membership.hitOnMicros > membership.hitOffMicros ? `${f(membership.hitOnMicros - membership.hitOffMicros, 1)} µs` : 'nothing measurable (the medians differ by less than their noise)'} (a Map probe and a promise). A miss costs one GetItem: DynamoDB Local here is a slow
stand-in (milliseconds on loopback); DynamoDB in-region answers a GetItem in single-digit milliseconds. The long
tail of users calls less than once a minute per environment, so about half the invocations of this workload
miss — but these are *authorizer invocations*: API Gateway's result cache (ResultTtlSeconds, default 300 s)
answers repeated tokens before the authorizer runs, so the real count is lower, and the revocation bound
is ResultTtlSeconds + 60 s. Set ResultTtlSeconds to 0–60 when revocation must take seconds. Closer to free
would take push-based invalidation (a DynamoDB Stream on membership items telling warm environments), which
Lambda has no cheap channel for.

## Policy evaluation (ns per check, compile µs)

| patterns per role | evaluate (ns) | compile (µs) |
| --- | --- | --- |
${policy.map((r) => `| ${r.patterns} | ${f(r.evaluateNanos)} | ${f(r.compileMicros)} |`).join('\n')}

Flat from 10 to 1,000 patterns (${f((policy[2]?.evaluateNanos ?? 0) / (policy[0]?.evaluateNanos ?? 1), 2)}× at 100× the size); compile is linear. Our guide's
precompiled-Set floor is 6–47 ns; the remaining cost is the memoised action lookup (one Map probe on the
action string) and up to 9 Map probes.

### Against peers (ns per check, equivalent rules, identical decisions asserted on 300 checks per size)

| engine | 10 patterns | 100 | 1,000 |
| --- | --- | --- | --- |
${['tenantgate', '@casl/ability', 'casbin', 'cedar-wasm']
  .map(
    (e) =>
      `| ${e} | ${[10, 100, 1000].map((n) => f(peers.find((p) => p.engine === e && p.patterns === n)?.nanosPerCheck ?? 0, 0)).join(' | ')} |`,
  )
  .join('\n')}

We are on par with CASL (both compile rules into lookups; CASL indexes by action and subject, we by the
≤ 9 patterns that can grant an action) and flat in role size. casbin scans its policy lines per check
(linear), and cedar-wasm pays the JS↔Wasm boundary and JSON entity marshalling on every call; Cedar buys
a richer language (conditions, entity hierarchies) that our roles deliberately do not have.
`;

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="780" height="400" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">
<title id="title">tenantgate: warm latency, cold start and first invocation against their baselines</title>
<rect width="100%" height="100%" fill="white"/>
${bars(
  'Warm latency (µs per request)',
  'µs',
  hot.map((r) => ({ label: r.name, value: r.medianMicros })),
  20,
)}
${bars(
  'Cold start: init (ms)',
  'ms',
  cold.map((r) => ({ label: r.name, value: r.initMs })),
  170,
)}
${bars(
  'First invocation against the local stack (ms)',
  'ms',
  [
    { label: 'bare aws-jwt-verify (JWKS + verify)', value: first[0]?.firstMs ?? 0 },
    { label: 'tenantgate (JWKS, GetId, GetCredentials, GetItem)', value: first[1]?.firstMs ?? 0 },
  ],
  290,
)}
</svg>
`;
writeFileSync(join(ROOT, 'bench', 'results.md'), md);
writeFileSync(join(ROOT, 'bench', 'chart.svg'), svg);
log('wrote bench/results.md and bench/chart.svg');
