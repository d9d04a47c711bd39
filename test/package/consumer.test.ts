/**
 * The package as a user gets it: `npm pack` (which runs `prepack`, i.e. `npm run build:lib`), the
 * tarball installed into an empty ESM project together with the AWS SDK clients at the lowest
 * version the peer ranges allow, then each entry point imported in plain Node, a consumer file
 * type-checked under `moduleResolution` NodeNext, bundler and node10 (with the repository's
 * TypeScript, without @types/node), and a consumer handler bundled with the repository's esbuild.
 * Installing from the npm registry is the one network use of the suite: this is what a user does.
 * The temporary directory is removed afterwards, whatever happened.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRIES, root } from './api-report.js';

/** The peer range floors (package.json `peerDependencies`), installed on purpose: the range's low end is tested here, its high end (the lockfile) by the rest of the suite. */
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  peerDependencies: Record<string, string>;
};
const PEER_FLOORS = Object.entries(pkg.peerDependencies).map(
  ([name, range]) => `${name}@${range.replace(/^\^/, '')}`,
);

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const esbuild = join(root, 'node_modules', '.bin', 'esbuild');

const HANDLER = `import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  AuthorizerConfigError,
  type AuthorizerOptions,
  createAuthorizer,
  readTenantContext,
  type TenantContext,
  tenantDynamoClient,
} from 'tenantgate/authorizer';
import { compileRole, type Decision, evaluate } from 'tenantgate/policy';
import { createRoleAuthorizer, PermissionDeniedError } from 'tenantgate/tenants';

const options: AuthorizerOptions = {
  userPools: [{ userPoolId: 'eu-west-1_AbCdEf123', clientIds: ['4h3kexample'] }],
  identityPoolId: 'eu-west-1:00000000-0000-4000-8000-000000000000',
  developerProviderName: 'login.tenantgate',
  resultTtlSeconds: 300,
};
export const authorizer = createAuthorizer(options);
const roles = createRoleAuthorizer({ tableName: 'table' });

export async function handler(event: unknown): Promise<{ statusCode: number; body: string }> {
  let caller: TenantContext;
  try {
    caller = readTenantContext(event);
    await roles.enforce(caller, 'aircraft:read');
  } catch (error) {
    if (error instanceof PermissionDeniedError) return { statusCode: 403, body: error.reason };
    throw error;
  }
  const role = compileRole({
    tenantId: caller.tenantId,
    roleId: 'pilot',
    name: 'Pilot',
    allow: ['aircraft:*'],
    version: 1,
  });
  const decision: Decision = evaluate(role, 'aircraft:read');
  const { Items } = await tenantDynamoClient(caller).send(
    new QueryCommand({
      TableName: 'table',
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': \`TENANT#\${caller.tenantId}\` },
    }),
  );
  const count: number = Items?.length ?? 0;
  return { statusCode: 200, body: JSON.stringify({ decision, count, config: AuthorizerConfigError.name }) };
}
`;

const POLICY_ONLY = `import { compileRole, evaluate } from 'tenantgate/policy';
export const check = (action: string) =>
  evaluate(compileRole({ tenantId: 't', roleId: 'r', name: 'R', allow: ['*'], version: 1 }), action).effect;
`;

/** The same banner as template.yaml's functions: the SDK's CommonJS parts call require in an ESM bundle. */
const BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

let work: string;
let app: string;
let packed: PackResult;

const run = (file: string, args: string[], cwd: string) =>
  execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const node = (args: string[], cwd = app) => run(process.execPath, args, cwd);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tenantgate-consumer-'));
  const out = run('npm', ['pack', '--json', '--pack-destination', work], root);
  const [result] = JSON.parse(out.slice(out.indexOf('['))) as PackResult[];
  if (!result) throw new Error(`npm pack printed no result: ${out}`);
  packed = result;
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
  );
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', join(work, packed.filename), ...PEER_FLOORS],
    app,
  );
  writeFileSync(join(app, 'handler.ts'), HANDLER);
  writeFileSync(join(app, 'policy-only.ts'), POLICY_ONLY);
  console.log(
    `tarball ${packed.filename}: ${kb(packed.size)} packed, ${kb(packed.unpackedSize)} unpacked, ${packed.entryCount} files; node ${process.version}; peers ${PEER_FLOORS.join(' ')}`,
  );
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', { timeout: 120_000 }, () => {
  it('holds the build, the library sources its maps point at, and the docs: no tests, no sam/, bench/ or examples/', () => {
    const paths = packed.files.map((f) => f.path);
    const top = new Set(paths.map((p) => p.split('/')[0]));
    expect([...top].sort()).toEqual(
      [
        'CHANGELOG.md',
        'LICENSE',
        'README.md',
        'authorizer',
        'dist',
        'package.json',
        'policy',
        'tenants',
      ].sort(),
    );
    expect(
      paths.filter((p) =>
        /(^|\/)(test|tests|__tests__|fixtures)\/|\.(test|spec)\.[cm]?[jt]s$/.test(p),
      ),
    ).toEqual([]);
    expect(paths.filter((p) => /^(sam|bench|examples|test)\//.test(p))).toEqual([]);
    for (const entry of ENTRIES) {
      for (const file of ['index.js', 'index.d.ts', 'index.d.ts.map'])
        expect(paths).toContain(`dist/${entry}/${file}`);
    }
  });

  it('every declaration map points at a source that is in the tarball', () => {
    const base = join(app, 'node_modules', pkg.name);
    const maps = packed.files.map((f) => f.path).filter((p) => p.endsWith('.d.ts.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(base, map), 'utf8')) as {
        sources: string[];
      };
      for (const source of sources)
        expect(statSync(join(base, map, '..', source)).isFile()).toBe(true);
    }
  });
});

describe('a consumer project', { timeout: 120_000 }, () => {
  it('imports every entry point in plain Node, with the same exports as the sources', async () => {
    const script = `const out = {};
for (const e of ${JSON.stringify(ENTRIES)}) out[e] = Object.keys(await import('tenantgate/' + e)).sort();
out.version = (await import('tenantgate/package.json', { with: { type: 'json' } })).default.version;
console.log(JSON.stringify(out));`;
    const result = JSON.parse(node(['--input-type=module', '-e', script])) as Record<
      string,
      unknown
    >;
    for (const entry of ENTRIES) {
      const sources = Object.keys(await import(join(root, entry, 'index.ts'))).sort();
      expect(result[entry]).toEqual(sources);
    }
    expect(result.version).toBe(
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    );
  });

  it('validates options from the built code (createAuthorizer throws AuthorizerConfigError)', () => {
    const script = `import { AuthorizerConfigError, createAuthorizer } from 'tenantgate/authorizer';
try { createAuthorizer({ userPools: [], identityPoolId: 'eu-west-1:x' }); console.log('no error'); }
catch (e) { console.log(e instanceof AuthorizerConfigError ? e.name : 'wrong error ' + e); }`;
    expect(node(['--input-type=module', '-e', script]).trim()).toBe('AuthorizerConfigError');
  });

  it.each(['NodeNext', 'bundler', 'node10'])(
    'type-checks under moduleResolution %s without @types/node',
    (resolution) => {
      const config = join(app, `tsconfig.${resolution}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'ES2022',
            lib: ['ES2023'],
            module: resolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
            moduleResolution: resolution,
            types: [],
            skipLibCheck: false,
          },
          files: ['handler.ts', 'policy-only.ts'],
        }),
      );
      let output = '';
      try {
        output = node([tsc, '-p', config]);
      } catch (error) {
        output = String((error as { stdout?: string }).stdout ?? error);
      }
      // The AWS SDK's own declarations need @types/node (and DOM's URL): every SDK user has them.
      // Ours must not, and the consumer file must check; so only errors in SDK files are ignored.
      const ours = output
        .split('\n')
        .filter((line) => /error TS/.test(line))
        .filter((line) => !/^node_modules\/(@aws-sdk|@smithy)\//.test(line));
      expect(ours).toEqual([]);
    },
  );

  it('bundles with esbuild, and the bundle loads', () => {
    run(
      esbuild,
      [
        'handler.ts',
        '--bundle',
        '--platform=node',
        '--format=esm',
        '--target=node22',
        '--minify',
        '--main-fields=module,main',
        `--banner:js=${BANNER}`,
        '--outfile=out/handler.mjs',
        '--metafile=out/handler.json',
      ],
      app,
    );
    const size = statSync(join(app, 'out', 'handler.mjs')).size;
    const meta = JSON.parse(readFileSync(join(app, 'out', 'handler.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
    };
    const ours = Object.entries(meta.outputs['out/handler.mjs']?.inputs ?? {})
      .filter(([file]) => file.startsWith(`node_modules/${pkg.name}/`))
      .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
    console.log(
      `consumer handler bundle (authorizer + policy + role authorizer, AWS SDK bundled, minified): ${kb(size)}, of which tenantgate ${kb(ours)}`,
    );
    expect(ours).toBeGreaterThan(0);
    const loaded = node([
      '--input-type=module',
      '-e',
      "const m = await import('./out/handler.mjs'); console.log(typeof m.authorizer, typeof m.handler);",
    ]);
    expect(loaded.trim()).toBe('function function');
  });

  it('tree-shakes: a policy-only bundle carries no AWS SDK (sideEffects: false)', () => {
    run(
      esbuild,
      [
        'policy-only.ts',
        '--bundle',
        '--platform=node',
        '--format=esm',
        '--minify',
        '--outfile=out/policy-only.mjs',
        '--metafile=out/policy-only.json',
      ],
      app,
    );
    const size = statSync(join(app, 'out', 'policy-only.mjs')).size;
    const meta = readFileSync(join(app, 'out', 'policy-only.json'), 'utf8');
    console.log(`policy-only bundle: ${kb(size)}`);
    expect(meta).not.toContain('@aws-sdk');
    expect(size).toBeLessThan(20_000);
    expect(node(['out/policy-only.mjs'])).toBe('');
  });
});
