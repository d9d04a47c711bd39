/**
 * Cold start, part two: the first invocation against the local stack. Each run is a fresh Node
 * process that loads the authorizer bundle (the template's esbuild settings), then answers one request
 * with a real token of a seeded user — JWKS download from cognito-local, GetId and
 * GetCredentialsForIdentity from the identity-pool stand-in, the membership GetItem through the
 * isolation proxy to DynamoDB Local, all on loopback — and then a second one (warm). Baseline in the
 * same run: a bare aws-jwt-verify authorizer, whose first invocation is the JWKS download and a verify.
 * Medians of ≥ 20 runs; never a pass/fail.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_DIR, buildFunction } from '../sam/build.js';
import { demoClient } from '../sam/local/demo.js';
import { startLocalStack } from '../sam/local/stack.js';
import { functionDefinition, loadTemplate } from '../sam/template.js';

export interface FirstInvocationResult {
  readonly name: string;
  readonly runs: number;
  readonly initMs: number;
  readonly firstMs: number;
  readonly firstP90Ms: number;
  readonly secondMs: number;
  readonly rssMiB: number;
}

/**
 * The probe: redirect the production JWKS host to cognito-local (as the local stack's workers do),
 * load the handler, time two invocations. Prints one JSON line.
 */
const PROBE = `
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
const [file, jwksHost, jwksEndpoint, eventJson] = process.argv.slice(1);
const original = https.request;
https.request = function request(input, options, callback) {
  const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
  if (url && url.hostname === jwksHost) {
    const opts = typeof options === 'object' && options !== null ? { ...options } : {};
    delete opts.agent;
    return http.request(new URL(url.pathname, jwksEndpoint), opts, typeof options === 'function' ? options : callback);
  }
  return original.apply(this, arguments);
};
syncBuiltinESMExports();
const event = JSON.parse(eventJson);
const t0 = performance.now();
const { handler } = await import(file);
const t1 = performance.now();
const first = await handler(event, { awsRequestId: 'bench-1' });
const t2 = performance.now();
await handler(event, { awsRequestId: 'bench-2' });
const t3 = performance.now();
const effect = first?.policyDocument?.Statement?.[0]?.Effect;
if (effect !== 'Allow') throw new Error('not allowed: ' + JSON.stringify(first).slice(0, 300));
process.stdout.write(JSON.stringify({ initMs: t1 - t0, firstMs: t2 - t1, secondMs: t3 - t2, rss: process.memoryUsage().rss }));
// Like Lambda freezing the environment: keep-alive sockets and the metrics timer would hold the
// process open.
process.exit(0);
`;

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)] ?? 0;

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
    const bundle = await buildFunction(fn);
    const dir = join(BUILD_DIR, '..', 'bench');
    mkdirSync(dir, { recursive: true });
    const bare = join(dir, 'bare-first-invocation.mjs');
    writeFileSync(
      bare,
      `import { CognitoJwtVerifier } from 'aws-jwt-verify';
const verifier = CognitoJwtVerifier.create({ userPoolId: process.env.USER_POOL_ID, tokenUse: 'id', clientId: process.env.USER_POOL_CLIENT_IDS });
export const handler = async (event) => {
  const payload = await verifier.verify(event.authorizationToken.replace(/^Bearer /, ''));
  return { principalId: payload.sub, policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] } };
};`,
    );
    const event = JSON.stringify({
      type: 'TOKEN',
      authorizationToken: `Bearer ${token}`,
      methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/aircraft',
    });
    const issuer = new URL(stack.issuer);
    if (process.env.PROBE_DEBUG)
      process.stderr.write(`[bench] ${JSON.stringify(stack.endpoints)}\n`);
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: stack.region,
      // The authorizer's own local role key: the stack enforces its policy (the mint needs IAM).
      AWS_ACCESS_KEY_ID: stack.functions.roles.get('AuthorizerFunction')?.accessKeyId ?? '',
      AWS_SECRET_ACCESS_KEY: stack.functions.roles.get('AuthorizerFunction')?.secretAccessKey ?? '',
      AWS_ENDPOINT_URL_COGNITO_IDENTITY: stack.endpoints.identityPool,
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
      USER_POOL_ID: stack.userPoolId,
      USER_POOL_CLIENT_IDS: stack.clientId,
      IDENTITY_POOL_ID: stack.identityPoolId,
      DEVELOPER_PROVIDER_NAME: String(loadTemplate().Parameters?.DeveloperProviderName?.Default),
      MEMBERSHIP_CHECK: 'on',
      TABLE_NAME: stack.tableName,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
    // Asynchronous on purpose: the identity-pool stand-in and the isolation proxy live in this
    // process's event loop, which spawnSync would block (the probe then waits on them forever).
    const run = (file: string) =>
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
          ],
          {
            env: {
              ...env,
              ...(process.env.PROBE_DEBUG ? { NODE_DEBUG: process.env.PROBE_DEBUG } : {}),
            },
          },
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
    const measure = async (name: string, file: string): Promise<FirstInvocationResult> => {
      const init: number[] = [];
      const first: number[] = [];
      const second: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await run(file);
        if (r.status !== 0)
          throw new Error(
            `${name} (status ${r.status}): ${r.stderr
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
        const out = JSON.parse(r.stdout) as {
          initMs: number;
          firstMs: number;
          secondMs: number;
          rss: number;
        };
        init.push(out.initMs);
        first.push(out.firstMs);
        second.push(out.secondMs);
        rss.push(out.rss);
      }
      return {
        name,
        runs,
        initMs: quantile(init, 0.5),
        firstMs: quantile(first, 0.5),
        firstP90Ms: quantile(first, 0.9),
        secondMs: quantile(second, 0.5),
        rssMiB: quantile(rss, 0.5) / 2 ** 20,
      };
    };
    return [
      await measure('bare aws-jwt-verify authorizer (JWKS + verify)', bare),
      await measure('tenantgate bundle (JWKS, GetId, GetCredentials, membership GetItem)', bundle),
    ];
  } finally {
    client.close();
    await stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await runFirstInvocation());
