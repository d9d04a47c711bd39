/**
 * Cold start: the authorizer's module load and handler construction in fresh Node processes (≥ 20
 * runs each), peak RSS and bundle size, beside two baselines measured in the same run:
 * - a bare aws-jwt-verify authorizer (the floor: a verifier and nothing else);
 * - our authorizer with its dependencies left in node_modules (no bundling of packages).
 * The first invocation against the local stack (JWKS, GetId, GetCredentialsForIdentity on loopback)
 * needs the local stack and is not measured here yet.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUILD_DIR, buildFunction } from '../sam/build.js';
import { functionDefinition, loadTemplate, ROOT } from '../sam/template.js';

export interface ColdStartResult {
  readonly name: string;
  readonly runs: number;
  /** Median ms from before `import()` to the handler being ready. */
  readonly initMs: number;
  readonly initP90Ms: number;
  readonly rssMiB: number;
  readonly bundleKiB: number | undefined;
}

const ENV = {
  USER_POOL_ID: 'us-east-1_Bench0001',
  USER_POOL_CLIENT_IDS: 'benchclient',
  IDENTITY_POOL_ID: 'us-east-1:00000000-0000-0000-0000-000000000000',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

const PROBE = `
const t0 = performance.now();
const mod = await import(process.argv[1]);
if (typeof mod.handler !== 'function') throw new Error('no handler');
const initMs = performance.now() - t0;
process.stdout.write(JSON.stringify({ initMs, rss: process.memoryUsage().rss }));
`;

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)] ?? 0;

function measure(name: string, file: string, runs: number, bundleKiB?: number): ColdStartResult {
  const inits: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, file], {
      env: { PATH: process.env.PATH ?? '', ...ENV },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { initMs: number; rss: number };
    inits.push(out.initMs);
    rss.push(out.rss);
  }
  return {
    name,
    runs,
    initMs: quantile(inits, 0.5),
    initP90Ms: quantile(inits, 0.9),
    rssMiB: quantile(rss, 0.5) / 2 ** 20,
    bundleKiB,
  };
}

export async function runColdStart(runs = 20): Promise<ColdStartResult[]> {
  const fn = functionDefinition(loadTemplate(), 'AuthorizerFunction');
  const bundled = await buildFunction(fn);
  const dir = join(BUILD_DIR, '..', 'bench');
  mkdirSync(dir, { recursive: true });
  // Our code bundled, every package imported from node_modules as an unbundled deployment would.
  const unbundled = join(dir, 'authorizer-unbundled.mjs');
  await build({
    entryPoints: [join(ROOT, 'sam/handlers/authorizer.ts')],
    outfile: unbundled,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'es2023',
    logLevel: 'warning',
  });
  // Beside the build output: Node resolves aws-jwt-verify by walking up to the project's node_modules.
  const bare = join(dir, 'bare-aws-jwt-verify.mjs');
  writeFileSync(
    bare,
    `import { CognitoJwtVerifier } from 'aws-jwt-verify';
const verifier = CognitoJwtVerifier.create({ userPoolId: process.env.USER_POOL_ID, tokenUse: 'id', clientId: process.env.USER_POOL_CLIENT_IDS });
export const handler = async (event) => {
  const payload = await verifier.verify(event.authorizationToken);
  return { principalId: payload.sub, policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] } };
};`,
  );
  const kib = (f: string) => statSync(f).size / 1024;
  return [
    measure('bare aws-jwt-verify authorizer (floor)', bare, runs),
    measure('tenantgate, esbuild bundle (template settings)', bundled, runs, kib(bundled)),
    measure('tenantgate, packages from node_modules', unbundled, runs),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await runColdStart());
