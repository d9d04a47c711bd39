/**
 * The first invocation of a fresh environment, against the local stack: each run is a fresh Node
 * process that loads a bundle (the template's esbuild settings) and answers one request with a real
 * token of a seeded member — JWKS from cognito-local, GetOpenIdTokenForDeveloperIdentity and
 * GetCredentialsForIdentity from the identity-pool stand-in, the membership GetItem through the
 * isolation proxy to DynamoDB Local, all on loopback — then a second one (warm).
 *
 * Baseline in the same run: the dependency floor (bench/floor-authorizer.ts), which makes the same
 * round trips as ours minus the membership read — JWKS prefetched at import, then the two Cognito
 * Identity calls. Two moments, both measured:
 * - `waiting`: the request is already there when init ends (an on-demand cold start): the first
 *   request joins the JWKS download that init started;
 * - `after init`: the request comes once init's own network work is done (provisioned concurrency,
 *   Lambda's proactive initialization): the JWKS is in memory.
 * Every outgoing HTTP request is timed in the probe; the report gives the number of sequential round
 * trips on the first request's critical path (the longest chain of requests each starting after the
 * previous ended) and which ones. Medians of ≥ 20 runs, variants interleaved; never a pass/fail.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_DIR, buildFunction } from '../sam/build.js';
import { demoClient } from '../sam/local/demo.js';
import { startLocalStack } from '../sam/local/stack.js';
import { functionDefinition, loadTemplate } from '../sam/template.js';
import { bundleLike, floorSource } from './cold-start.js';

export type Moment = 'waiting' | 'after init';

export interface FirstInvocationResult {
  readonly key: 'floor' | 'tenantgate' | 'tenantgate, check off';
  readonly name: string;
  readonly moment: Moment;
  readonly runs: number;
  readonly initMs: number;
  readonly firstMs: number;
  readonly firstP90Ms: number;
  readonly secondMs: number;
  readonly rssMiB: number;
  /** Requests the first invocation waited on, in order of the critical path (most common chain). */
  readonly criticalPath: readonly string[];
  /** All requests that overlapped the first invocation. */
  readonly requests: number;
}

/**
 * The probe: redirect the production JWKS host to cognito-local (as the local stack's workers do),
 * time every outgoing request, load the handler, optionally wait for init's requests to finish,
 * time two invocations. Prints one JSON line.
 */
const PROBE = `
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
const [file, jwksHost, jwksEndpoint, eventJson, moment] = process.argv.slice(1);
const requests = [];
let open = 0;
let settled = () => {};
const timed = (original, name) => function request(...args) {
  const req = original.apply(this, args);
  const target = () => { try { return req.getHeader('x-amz-target') } catch { return undefined } };
  const entry = { name: '', start: performance.now(), end: Number.POSITIVE_INFINITY };
  requests.push(entry);
  open++;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    entry.end = performance.now();
    if (--open === 0) settled();
  };
  queueMicrotask(() => {
    const t = target();
    entry.name = t ? String(t).split('.').pop() : name === 'jwks' ? 'JWKS' : \`\${name} \${req.host}\${req.path}\`;
  });
  req.on('response', (res) => { res.on('end', finish); res.on('close', finish); });
  req.on('error', finish);
  req.on('close', finish);
  return req;
};
const originalHttps = https.request;
const originalHttp = http.request;
const timedHttp = timed(originalHttp, 'http');
const timedJwks = timed(originalHttp, 'jwks');
https.request = function request(input, options, callback) {
  const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
  // Cognito's regional issuer and its global one (aws-jwt-verify fetches both): cognito-local's keys.
  if (url && (url.hostname === jwksHost || url.hostname === 'issuer-' + jwksHost)) {
    const opts = typeof options === 'object' && options !== null ? { ...options } : {};
    delete opts.agent;
    return timedJwks(new URL(url.pathname, jwksEndpoint), opts, typeof options === 'function' ? options : callback);
  }
  return timed(originalHttps, 'https').apply(this, arguments);
};
http.request = timedHttp;
syncBuiltinESMExports();
const event = JSON.parse(eventJson);
const t0 = performance.now();
const { handler } = await import(file);
const t1 = performance.now();
if (moment === 'after init' && open > 0) await new Promise((resolve) => { settled = resolve; });
const t1b = performance.now();
const first = await handler(event, { awsRequestId: 'bench-1' });
const t2 = performance.now();
await handler(event, { awsRequestId: 'bench-2' });
const t3 = performance.now();
const effect = first?.policyDocument?.Statement?.[0]?.Effect;
if (effect !== 'Allow') throw new Error('not allowed: ' + JSON.stringify(first).slice(0, 300));
// The first invocation's requests: those still running when it began, or started during it.
const during = requests.filter((r) => r.end > t1b && r.start < t2).sort((a, b) => a.start - b.start);
// Longest chain of requests each starting after the previous one ended: the round trips it waited
// for one after another.
const best = during.map(() => []);
during.forEach((r, i) => {
  let chain = [];
  for (let j = 0; j < i; j++) if (during[j].end <= r.start && best[j].length > chain.length) chain = best[j];
  best[i] = [...chain, r.name];
});
const criticalPath = best.reduce((a, b) => (b.length > a.length ? b : a), []);
if (process.env.PROBE_DEBUG) process.stderr.write(JSON.stringify(requests.map((r) => [r.name, Math.round(r.start - t0), Math.round(r.end - t0)])) + ' ' + [t1, t1b, t2].map((t) => Math.round(t - t0)).join(',') + '\\n');
process.stdout.write(JSON.stringify({
  initMs: t1 - t0, firstMs: t2 - t1b, secondMs: t3 - t2, rss: process.memoryUsage().rss,
  criticalPath, requests: during.length,
}));
// Like Lambda freezing the environment: keep-alive sockets and timers would hold the process open.
process.exit(0);
`;

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)] ?? 0;

/** The chain seen most often across runs (ties: the longer). */
const mostCommon = (chains: string[][]) => {
  const counts = new Map<string, number>();
  for (const c of chains) counts.set(JSON.stringify(c), (counts.get(JSON.stringify(c)) ?? 0) + 1);
  const [best] = [...counts].sort((a, b) => b[1] - a[1] || b[0].length - a[0].length);
  return best ? (JSON.parse(best[0]) as string[]) : [];
};

export async function runFirstInvocation(runs = 20): Promise<FirstInvocationResult[]> {
  const stack = await startLocalStack({});
  const client = demoClient(stack);
  try {
    await client.signUp('bench@first.example');
    const { idToken, refreshToken } = await client.signIn('bench@first.example');
    const created = await client.call(idToken, 'POST', '/tenants', { name: 'Bench', refreshToken });
    const token = (created.body.tokens as { idToken: string } | null)?.idToken;
    if (!token) throw new Error(`no tenant token: ${JSON.stringify(created.body)}`);

    const fn = functionDefinition(loadTemplate(), 'AuthorizerFunction');
    const ours = await buildFunction(fn);
    const dir = join(BUILD_DIR, '..', 'bench');
    mkdirSync(dir, { recursive: true });
    const floor = await bundleLike(fn, floorSource, join(dir, 'floor'));
    const event = JSON.stringify({
      type: 'TOKEN',
      authorizationToken: `Bearer ${token}`,
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/aircraft',
    });
    const issuer = new URL(stack.issuer);
    const role = stack.functions.roles.get('AuthorizerFunction');
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: stack.region,
      // The authorizer's own local role key: the stack enforces its policy (the mint needs IAM).
      AWS_ACCESS_KEY_ID: role?.accessKeyId ?? '',
      AWS_SECRET_ACCESS_KEY: role?.secretAccessKey ?? '',
      AWS_ENDPOINT_URL_COGNITO_IDENTITY: stack.endpoints.identityPool,
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
      USER_POOL_ID: stack.userPoolId,
      USER_POOL_CLIENT_IDS: stack.clientId,
      IDENTITY_POOL_ID: stack.identityPoolId,
      DEVELOPER_PROVIDER_NAME: String(loadTemplate().Parameters?.DeveloperProviderName?.Default),
      MEMBERSHIP_CHECK: 'on',
      TABLE_NAME: stack.tableName,
      // Generous: on a loaded shared machine a loopback stand-in can take a while, and a time-out
      // here would measure the limit, not the path.
      DEPENDENCY_TIMEOUT_MS: '3000',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
    // Asynchronous on purpose: the identity-pool stand-in and the isolation proxy live in this
    // process's event loop, which spawnSync would block (the probe then waits on them forever).
    const run = (file: string, moment: Moment, extra: Record<string, string> = {}) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            PROBE,
            file,
            issuer.hostname,
            stack.endpoints.userPool,
            event,
            moment,
          ],
          { env: { ...env, ...extra, ...(process.env.PROBE_DEBUG ? { PROBE_DEBUG: '1' } : {}) } },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('close', (status) => {
          clearTimeout(timer);
          done({ status, stdout, stderr });
        });
      });
    // The same bundle with the membership check off makes exactly the floor's round trips: the
    // ratio of like for like. With it on, the GetItem runs beside the two Cognito calls.
    const variants: readonly {
      key: FirstInvocationResult['key'];
      name: string;
      file: string;
      env?: Record<string, string>;
    }[] = [
      { key: 'floor', name: 'floor (JWKS at import, then the two Cognito calls)', file: floor },
      {
        key: 'tenantgate, check off',
        name: 'tenantgate authorizer, membership check off (the floor’s calls)',
        file: ours,
        env: { MEMBERSHIP_CHECK: 'off' },
      },
      { key: 'tenantgate', name: 'tenantgate authorizer (+ membership GetItem)', file: ours },
    ];
    const moments: Moment[] = ['waiting', 'after init'];
    type Sample = { initMs: number; firstMs: number; secondMs: number; rss: number };
    const samples = new Map<string, { runs: Sample[]; chains: string[][]; requests: number[] }>();
    for (let i = 0; i < runs; i++) {
      for (const moment of moments) {
        for (const v of variants) {
          const r = await run(v.file, moment, v.env);
          if (r.status !== 0)
            throw new Error(
              `${v.name} (${moment}, status ${r.status}): ${r.stderr
                .split('\n')
                .filter(
                  (l) =>
                    !/NodeVersionSupport|node >=22|January 2027|continue receiving|security updates|a.co|trace-warnings/.test(
                      l,
                    ),
                )
                .join('\n')
                .slice(-1500)}`,
            );
          if (process.env.PROBE_DEBUG)
            process.stderr.write(
              `${v.key} ${moment}: ${r.stderr
                .split('\n')
                .filter((l) => l.startsWith('['))
                .join('\n')}\n`,
            );
          const out = JSON.parse(r.stdout) as Sample & { criticalPath: string[]; requests: number };
          const key = `${v.key}|${moment}`;
          const entry = samples.get(key) ?? { runs: [], chains: [], requests: [] };
          entry.runs.push(out);
          entry.chains.push(out.criticalPath);
          entry.requests.push(out.requests);
          samples.set(key, entry);
        }
      }
    }
    return moments.flatMap((moment) =>
      variants.map((v) => {
        const s = samples.get(`${v.key}|${moment}`) ?? { runs: [], chains: [], requests: [] };
        const first = s.runs.map((x) => x.firstMs);
        return {
          key: v.key,
          name: v.name,
          moment,
          runs,
          initMs: quantile(
            s.runs.map((x) => x.initMs),
            0.5,
          ),
          firstMs: quantile(first, 0.5),
          firstP90Ms: quantile(first, 0.9),
          secondMs: quantile(
            s.runs.map((x) => x.secondMs),
            0.5,
          ),
          rssMiB:
            quantile(
              s.runs.map((x) => x.rss),
              0.5,
            ) /
            2 ** 20,
          criticalPath: mostCommon(s.chains),
          requests: quantile(s.requests, 0.5),
        };
      }),
    );
  } finally {
    client.close();
    await stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await runFirstInvocation(Number(process.argv[2] ?? 20)))
    console.log(
      `${r.moment.padEnd(10)} ${r.name.padEnd(52)} init ${r.initMs.toFixed(1)} first ${r.firstMs.toFixed(1)} second ${r.secondMs.toFixed(2)} path ${r.criticalPath.join(' → ')} (${r.requests} requests)`,
    );
}
