/**
 * Cold start: the authorizer's module load and handler construction in fresh Node processes, peak
 * RSS and bundle size, against the dependency floor measured in the same run: bench/floor-authorizer.ts
 * (aws-jwt-verify + @aws-sdk/client-cognito-identity: verify, then the two Cognito calls), bundled with
 * the same esbuild settings as ours (the template's AuthorizerFunction Metadata). Beside them, what
 * the parts we left out of the authorizer would cost on top of that floor (the DynamoDB document
 * client, Powertools' Logger and Metrics), a bare verifier, and our code with its packages left in
 * node_modules. Runs are interleaved (one process of each variant in turn), so load that comes and
 * goes on a shared machine falls on every variant alike; medians, never a pass/fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { build } from 'esbuild';
import { BUILD_DIR, buildFunction } from '../sam/build.js';
import {
  type FunctionDefinition,
  functionDefinition,
  loadTemplate,
  ROOT,
} from '../sam/template.js';

/** The floor authorizer's source (bench/floor-authorizer.ts). */
export const floorSource = join(ROOT, 'bench', 'floor-authorizer.ts');

export interface ColdStartResult {
  readonly name: string;
  /** A stable key for the report: `floor`, `tenantgate`, `floor+dynamodb`, … */
  readonly key: string;
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
  DEVELOPER_PROVIDER_NAME: 'login.tenantgate',
  // The template's default: the membership check on, so its reader is built at init too.
  MEMBERSHIP_CHECK: 'on',
  TABLE_NAME: 'tenantgate',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

// Exits as soon as the handler is ready: both the floor and ours start the JWKS download at import,
// which must not keep the process (or the measurement) waiting.
const PROBE = `
const t0 = performance.now();
const mod = await import(process.argv[1]);
if (typeof mod.handler !== 'function') throw new Error('no handler');
const initMs = performance.now() - t0;
process.stdout.write(JSON.stringify({ initMs, rss: process.memoryUsage().rss }));
process.exit(0);
`;

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)] ?? 0;

interface Variant {
  readonly key: string;
  readonly name: string;
  readonly file: string;
  readonly bundled: boolean;
}

function measure(variants: readonly Variant[], runs: number): ColdStartResult[] {
  const samples = variants.map(() => ({ init: [] as number[], rss: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    variants.forEach((v, k) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, v.file], {
        env: { PATH: process.env.PATH ?? '', ...ENV },
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`${v.name}: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as { initMs: number; rss: number };
      samples[k]?.init.push(out.initMs);
      samples[k]?.rss.push(out.rss);
    });
  }
  return variants.map((v, k) => ({
    key: v.key,
    name: v.name,
    runs,
    initMs: quantile(samples[k]?.init ?? [], 0.5),
    initP90Ms: quantile(samples[k]?.init ?? [], 0.9),
    rssMiB: quantile(samples[k]?.rss ?? [], 0.5) / 2 ** 20,
    bundleKiB: v.bundled ? statSync(v.file).size / 1024 : undefined,
  }));
}

/** A variant bundled exactly as the template bundles the AuthorizerFunction, from another entry. */
export async function bundleLike(
  fn: FunctionDefinition,
  entry: string,
  outdir: string,
): Promise<string> {
  return buildFunction(
    {
      ...fn,
      handler: `${basename(entry, '.ts')}.handler`,
      // buildFunction resolves entries against the project root.
      buildProperties: { ...fn.buildProperties, EntryPoints: [relative(ROOT, entry)] },
    },
    { outdir },
  );
}

export async function runColdStart(runs = 20): Promise<ColdStartResult[]> {
  const fn = functionDefinition(loadTemplate(), 'AuthorizerFunction');
  const dir = join(BUILD_DIR, '..', 'bench');
  mkdirSync(dir, { recursive: true });
  const ours = await buildFunction(fn);
  // Entries of the "floor + one part" variants, in the build folder (git-ignored).
  const extra = (name: string, body: string) => {
    const file = join(dir, `${name}.entry.ts`);
    writeFileSync(file, `export { handler } from ${JSON.stringify(floorSource)};\n${body}`);
    return file;
  };
  const floorDynamo = extra(
    'floor-dynamodb',
    `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
export const table = DynamoDBDocumentClient.from(new DynamoDBClient({}));`,
  );
  const floorPowertools = extra(
    'floor-powertools',
    `import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
export const logger = new Logger({ serviceName: 'bench' });
export const metrics = new Metrics({ namespace: 'bench', serviceName: 'bench' });`,
  );
  const floor = await bundleLike(fn, floorSource, join(dir, 'floor'));
  const withDynamo = await bundleLike(fn, floorDynamo, join(dir, 'floor-dynamodb'));
  const withPowertools = await bundleLike(fn, floorPowertools, join(dir, 'floor-powertools'));
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
  return measure(
    [
      {
        key: 'floor',
        name: 'floor: aws-jwt-verify + Cognito Identity client',
        file: floor,
        bundled: true,
      },
      {
        key: 'tenantgate',
        name: 'tenantgate authorizer (template settings)',
        file: ours,
        bundled: true,
      },
      {
        key: 'floor+dynamodb',
        name: 'floor + DynamoDB document client',
        file: withDynamo,
        bundled: true,
      },
      {
        key: 'floor+powertools',
        name: 'floor + Powertools Logger and Metrics',
        file: withPowertools,
        bundled: true,
      },
      { key: 'bare', name: 'bare aws-jwt-verify authorizer', file: bare, bundled: false },
      {
        key: 'unbundled',
        name: 'tenantgate, packages from node_modules',
        file: unbundled,
        bundled: false,
      },
    ],
    runs,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await runColdStart());
