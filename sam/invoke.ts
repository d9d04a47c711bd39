/**
 * `npm run invoke -- <LogicalId> -e <event.json> [--env-vars sam/env.json] [--as <email>]`: what
 * `sam local invoke` does, without Docker. Reads template.yaml, merges Globals, the function's
 * Environment and the env-vars file like SAM, builds the function from its esbuild Metadata, and runs
 * the handler in a fresh Node process. Result JSON on stdout, logs on stderr, non-zero exit when the
 * handler throws (the error printed as `{"errorType","errorMessage"}`).
 * While the local stack runs (`.local/stack.json`), the function is pointed at it (its ids and
 * endpoints win over the env-vars file, and the pool's JWKS is fetched from cognito-local).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildFunction } from './build.js';
import { SamError } from './errors.js';
import { isAlive, NOT_RUNNING, readStackFile } from './local/stack-file.js';
import {
  functionDefinition,
  LOCAL_STACK_FILE,
  type LocalStackFile,
  loadTemplate,
  ROOT,
} from './template.js';

export interface InvokeOptions {
  readonly logicalId: string;
  readonly eventFile: string;
  readonly envVarsFile?: string;
  readonly as?: string;
  readonly stackFile?: string;
}

export interface InvokeResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function parseArgs(argv: readonly string[]): InvokeOptions {
  const [logicalId, ...rest] = argv;
  let eventFile: string | undefined;
  let envVarsFile: string | undefined;
  let as: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = rest[i + 1];
    if ((flag === '-e' || flag === '--event') && value) eventFile = value;
    else if ((flag === '-n' || flag === '--env-vars') && value) envVarsFile = value;
    else if (flag === '--as' && value) as = value;
    else throw new SamError(`unknown or incomplete argument: ${flag}`);
    i++;
  }
  if (!logicalId || logicalId.startsWith('-') || !eventFile) {
    throw new SamError(
      'usage: npm run invoke -- <LogicalId> -e <event.json> [--env-vars sam/env.json] [--as <email>]',
    );
  }
  return { logicalId, eventFile, ...(envVarsFile ? { envVarsFile } : {}), ...(as ? { as } : {}) };
}

/** The environment SAM would give the function: template, then the local stack, then --env-vars. */
export function functionEnvironment(
  logicalId: string,
  environment: Record<string, string | undefined>,
  stack: LocalStackFile | undefined,
  envVars: Record<string, Record<string, string>> | undefined,
): Record<string, string> {
  const env: Record<string, string | undefined> = { ...environment };
  // SAM: the file's `Parameters` apply to every function, then the function's own section.
  for (const section of [envVars?.Parameters, envVars?.[logicalId]]) {
    for (const [k, v] of Object.entries(section ?? {}))
      if (k in env || section === envVars?.[logicalId]) env[k] = String(v);
  }
  // The running local stack last: env.json holds placeholders for when no stack runs, and a token of
  // the stack's pool is only valid against the stack's ids and endpoints.
  if (stack) {
    const fromStack: Record<string, string> = {
      USER_POOL_ID: stack.userPoolId,
      USER_POOL_CLIENT_IDS: stack.clientId,
      USER_POOL_CLIENT_ID: stack.clientId,
      IDENTITY_POOL_ID: stack.identityPoolId,
      TABLE_NAME: stack.tableName,
    };
    for (const [k, v] of Object.entries(fromStack)) if (k in env) env[k] = v;
    Object.assign(env, {
      AWS_REGION: stack.region,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: stack.endpoints.userPool,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY: stack.endpoints.identityPool,
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
    });
  }
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/** Put a token where each event shape carries it. */
export function withToken(event: Record<string, unknown>, token: string): Record<string, unknown> {
  const e = { ...event };
  if (e.type === 'TOKEN') e.authorizationToken = `Bearer ${token}`;
  if (e.headers && typeof e.headers === 'object') {
    const headers = { ...(e.headers as Record<string, unknown>) };
    const key =
      Object.keys(headers).find((k) => k.toLowerCase() === 'authorization') ?? 'Authorization';
    headers[key] = `Bearer ${token}`;
    e.headers = headers;
  }
  if (e.multiValueHeaders && typeof e.multiValueHeaders === 'object') {
    e.multiValueHeaders = {
      ...(e.multiValueHeaders as object),
      Authorization: [`Bearer ${token}`],
    };
  }
  if (Array.isArray(e.identitySource))
    e.identitySource = [`Bearer ${token}`, ...e.identitySource.slice(1)];
  return e;
}

async function idTokenFor(stack: LocalStackFile, email: string): Promise<string> {
  const user = stack.users.find((u) => u.email === email);
  if (!user)
    throw new SamError(
      `--as ${email}: not a demo user of the local stack (${stack.users.map((u) => u.email).join(', ')})`,
    );
  const res = await fetch(stack.endpoints.userPool, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      ClientId: stack.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: user.password },
    }),
  });
  const body = (await res.json()) as {
    AuthenticationResult?: { IdToken?: string };
    message?: string;
  };
  const token = body.AuthenticationResult?.IdToken;
  if (!token) throw new SamError(`--as ${email}: sign-in failed (${body.message ?? res.status})`);
  return token;
}

export async function invoke(options: InvokeOptions): Promise<InvokeResult> {
  const template = loadTemplate();
  const fn = functionDefinition(template, options.logicalId);
  const stackFile = options.stackFile ?? LOCAL_STACK_FILE;
  // A file left by a stack that is gone is not a running stack: its endpoints would refuse.
  const content = readStackFile(stackFile);
  const stack =
    typeof content?.pid === 'number' && isAlive(content.pid)
      ? (content as LocalStackFile)
      : undefined;
  if (options.as && !stack) throw new SamError(`--as needs the local stack: ${NOT_RUNNING}`);
  const envVars = options.envVarsFile
    ? JSON.parse(readFileSync(resolve(options.envVarsFile), 'utf8'))
    : undefined;
  let event = JSON.parse(readFileSync(resolve(options.eventFile), 'utf8')) as Record<
    string,
    unknown
  >;
  if (options.as && stack) event = withToken(event, await idTokenFor(stack, options.as));
  const bundle = await buildFunction(fn);
  const eventDir = mkdtempSync(join(tmpdir(), 'tenantgate-invoke-'));
  const eventPath = join(eventDir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(event));
  const exportName = fn.handler.slice(fn.handler.lastIndexOf('.') + 1);
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    _HANDLER: fn.handler,
    ...functionEnvironment(fn.logicalId, fn.environment, stack, envVars),
    // Against the running stack, the function's own role key: the stack enforces its policy.
    ...(stack?.functionCredentials?.[fn.logicalId]
      ? {
          AWS_ACCESS_KEY_ID: stack.functionCredentials[fn.logicalId]?.accessKeyId,
          AWS_SECRET_ACCESS_KEY: stack.functionCredentials[fn.logicalId]?.secretAccessKey,
        }
      : {}),
  };
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'sam', 'runtime', 'runner.mjs'),
        bundle,
        exportName,
        eventPath,
        fn.logicalId,
        String(fn.timeoutSeconds * 1000),
        String(fn.memorySize),
        ...(stack
          ? [
              JSON.stringify({
                host: `cognito-idp.${stack.region}.amazonaws.com`,
                endpoint: stack.endpoints.userPool,
              }),
            ]
          : []),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // The event file is ours alone: remove it however the run ends (it may hold a live ID token).
    const cleanUp = () => rmSync(eventDir, { recursive: true, force: true });
    child.on('error', (error) => {
      cleanUp();
      fail(error);
    });
    child.on('close', (code) => {
      cleanUp();
      done({ exitCode: code ?? 1, stdout, stderr });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const result = await invoke(parseArgs(process.argv.slice(2)));
    process.stderr.write(result.stderr);
    process.stdout.write(result.stdout);
    process.exitCode = result.exitCode;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
