/**
 * `npm start`: the local stack on fixed loopback ports (flags change them), a demo seed when
 * sam/local/demo.ts exists, the endpoints and `export AWS_ENDPOINT_URL_…` lines, and
 * `.local/stack.json` while it runs. Ctrl-C / SIGTERM stop everything, delete the file, exit 0.
 * A taken port or missing Java is one clear line and exit 1.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../../authorizer/index.js';
import { LOCAL_STACK_FILE, type LocalStackFile } from '../template.js';
import type { DemoStackExtras } from './demo.js';
import {
  JavaMissingError,
  LocalStackConfigError,
  LocalStackStartError,
  PortTakenError,
} from './errors.js';
import {
  type LocalStack,
  type LocalStackOptions,
  type LocalStackPorts,
  PORT_FLAGS,
  STACK_CREDENTIALS,
  startLocalStack,
} from './stack.js';
import { type CodesFile, codesFileOf, isAlive, readStackFile } from './stack-file.js';
import type { UserPoolMessage } from './user-pool/index.js';

/** `npm start`'s fixed ports. */
export const DEFAULT_PORTS: Readonly<Required<LocalStackPorts>> = {
  restApi: 3000,
  httpApi: 3001,
  cognito: 9229,
  identityPool: 9230,
  lambda: 9231,
  dynamodb: 8000,
  isolation: 8001,
  console: 3002,
};

export const USAGE = `usage: npm start -- [options]

Runs template.yaml on this machine: cognito-local, DynamoDB Local (needs Java 17+), the
identity-pool stand-in, the isolation proxy, the functions and the REST and HTTP APIs.

  --rest-port N            REST API (default ${DEFAULT_PORTS.restApi})
  --http-port N            HTTP API (default ${DEFAULT_PORTS.httpApi})
  --cognito-port N         cognito-local, the user pool (default ${DEFAULT_PORTS.cognito})
  --identity-pool-port N   identity-pool stand-in (default ${DEFAULT_PORTS.identityPool})
  --lambda-port N          Lambda Invoke API for Cognito triggers (default ${DEFAULT_PORTS.lambda})
  --dynamodb-port N        DynamoDB Local itself (default ${DEFAULT_PORTS.dynamodb})
  --isolation-port N       DynamoDB endpoint with tenant isolation (default ${DEFAULT_PORTS.isolation})
  --console-port N         the demo console, a browser app; its origin is the APIs' allowed
                           origin unless --param AllowedOrigins=… says otherwise (default ${DEFAULT_PORTS.console})
  --region R               default us-east-1
  --param Name=Value       template parameter override, repeatable (e.g. ResultTtlSeconds=10)
  --credentials-ttl N      identity-pool credential lifetime in seconds (default 3600)
  --stack-file PATH        where to describe the running stack (default .local/stack.json)
  --no-demo                do not seed the demo tenants and users
  --quiet                  do not print the functions' logs
  --help                   this text
  (a port of 0 picks a free one)`;

export interface StartArgs {
  readonly help: boolean;
  readonly quiet: boolean;
  /** Seed the demo (default true; `--no-demo`). */
  readonly demo: boolean;
  /** `--stack-file`, when given. */
  readonly stackFile?: string;
  readonly options: LocalStackOptions;
}

/**
 * Parse `npm start` arguments. @throws LocalStackConfigError listing every bad argument.
 */
export function parseStartArgs(argv: readonly string[]): StartArgs {
  const issues: string[] = [];
  const ports: Record<string, number> = { ...DEFAULT_PORTS };
  const flags = Object.fromEntries(
    Object.entries(PORT_FLAGS).map(([name, flag]) => [flag, name as keyof LocalStackPorts]),
  );
  const parameters: Record<string, string> = {};
  let region: string | undefined;
  let credentialsTtlSeconds: number | undefined;
  let help = false;
  let quiet = false;
  let demo = true;
  let stackFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') && !arg.startsWith('--param=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : arg.startsWith('--param=')
          ? ['--param', arg.slice('--param='.length)]
          : [arg, undefined];
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        issues.push(`${flag} needs a value`);
        return undefined;
      }
      i++;
      return next;
    };
    if (flag === '--help' || flag === '-h') help = true;
    else if (flag === '--quiet') quiet = true;
    else if (flag === '--no-demo') demo = false;
    else if (flag in flags) {
      const raw = value();
      if (raw === undefined) continue;
      const port = Number(raw);
      if (!/^\d+$/.test(raw) || port > 65_535)
        issues.push(`${flag} must be a port number (0–65535), got "${raw}"`);
      else ports[flags[flag] as string] = port;
    } else if (flag === '--region') {
      region = value();
    } else if (flag === '--stack-file') {
      stackFile = value();
    } else if (flag === '--credentials-ttl') {
      const raw = value();
      if (raw === undefined) continue;
      if (!/^\d+$/.test(raw))
        issues.push(`--credentials-ttl must be a number of seconds, got "${raw}"`);
      else credentialsTtlSeconds = Number(raw);
    } else if (flag === '--param') {
      const raw = value();
      if (raw === undefined) continue;
      const eq = raw.indexOf('=');
      if (eq <= 0) issues.push(`--param must be Name=Value, got "${raw}"`);
      else parameters[raw.slice(0, eq)] = raw.slice(eq + 1);
    } else {
      issues.push(`unknown argument "${arg}" (npm start -- --help)`);
    }
  }
  const fixed = Object.entries(ports).filter(([, p]) => p !== 0);
  const seen = new Map<number, string>();
  for (const [name, port] of fixed) {
    const other = seen.get(port);
    if (other)
      issues.push(
        `${PORT_FLAGS[other as keyof LocalStackPorts]} and ${PORT_FLAGS[name as keyof LocalStackPorts]} are both ${port}`,
      );
    seen.set(port, name);
  }
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  return {
    help,
    quiet,
    demo,
    ...(stackFile === undefined ? {} : { stackFile: resolve(stackFile) }),
    options: {
      ports,
      ...(region === undefined ? {} : { region }),
      ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
      ...(credentialsTtlSeconds === undefined ? {} : { credentialsTtlSeconds }),
    },
  };
}

/** What sam/local/demo.ts exports (written separately; optional). */
type SeedDemo = (
  stack: LocalStackFile & DemoStackExtras,
) => Promise<{ users: LocalStackFile['users']; text: string }>;

/** The demo seed, or undefined while sam/local/demo.ts does not exist. */
async function loadSeedDemo(): Promise<SeedDemo | undefined> {
  // A variable specifier: the module may not exist yet, and TypeScript must not insist it does.
  const specifier = './demo.js';
  try {
    const mod = (await import(specifier)) as { seedDemo?: SeedDemo };
    return typeof mod.seedDemo === 'function' ? mod.seedDemo : undefined;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (
      (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') &&
      /demo\.(js|ts)/.test(e.message ?? '')
    )
      return undefined;
    throw error;
  }
}

/** The line to show for a failed start: the root cause when it is one the user can fix. */
export function startFailureMessage(error: unknown): string {
  const cause = error instanceof LocalStackStartError ? error.cause : error;
  if (cause instanceof PortTakenError || cause instanceof JavaMissingError) return cause.message;
  if (error instanceof LocalStackConfigError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * `export …` lines that point the AWS CLI and SDKs at the stack, and what to do for clients that
 * ignore them:
 * - `AWS_REGION` for the SDKs and CLI v2, `AWS_DEFAULT_REGION` for CLI v1 (which reads only that);
 * - `AWS_ENDPOINT_URL_<SERVICE>`, honoured by the JS SDK v3 (3.410+), AWS CLI v2.13+ and v1.29+;
 *   older CLIs ignore them silently and would call AWS itself, hence the `--endpoint-url` lines
 *   (measured: aws-cli 2.9.19, Debian 12's, went to cognito-idp.us-east-1.amazonaws.com; 1.45.11
 *   honoured them and needed AWS_DEFAULT_REGION);
 * - the stack's own key, so the IAM-authorized user pool calls (`admin-*`) are accepted locally,
 *   and a CLI that ignores the endpoint variables fails against AWS instead of acting on it with
 *   the developer's real credentials.
 */
export function exportLines(stack: LocalStackFile): string[] {
  return [
    `export AWS_REGION=${stack.region} AWS_DEFAULT_REGION=${stack.region}`,
    `export AWS_ACCESS_KEY_ID=${STACK_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${STACK_CREDENTIALS.secretAccessKey}`,
    `export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=${stack.endpoints.userPool}`,
    `export AWS_ENDPOINT_URL_COGNITO_IDENTITY=${stack.endpoints.identityPool}`,
    `export AWS_ENDPOINT_URL_DYNAMODB=${stack.endpoints.dynamodb}`,
  ];
}

/** For CLIs that ignore `AWS_ENDPOINT_URL_*` (AWS CLI v2 before 2.13, v1 before 1.29). */
export function endpointUrlLines(stack: LocalStackFile): string[] {
  return [
    `aws cognito-idp list-users --user-pool-id ${stack.userPoolId} --endpoint-url ${stack.endpoints.userPool}`,
    `aws dynamodb scan --table-name ${stack.tableName} --endpoint-url ${stack.endpoints.dynamodb}`,
  ];
}

export interface StartIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Called once the stack runs; resolves when it should stop. Default: SIGINT or SIGTERM. */
  readonly stopSignal?: (stack: LocalStack) => Promise<void>;
  /** Default LOCAL_STACK_FILE. */
  readonly stackFile?: string;
}

/**
 * SIGINT or SIGTERM. The listeners stay until `dispose`, i.e. until everything has stopped: a
 * Ctrl-C reaches every process of the terminal's group (npm forwards it once more), and a second
 * signal meeting no listener would end the process half-way through stopping.
 */
function listenForSignal(): { received: Promise<NodeJS.Signals>; dispose(): void } {
  let done: (signal: NodeJS.Signals) => void = () => {};
  const received = new Promise<NodeJS.Signals>((resolve) => {
    done = resolve;
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  return {
    received,
    dispose() {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
    },
  };
}

/** Run `npm start`; resolves with the exit code once stopped. */
export async function runStart(argv: readonly string[], io: StartIo): Promise<number> {
  let args: StartArgs;
  try {
    args = parseStartArgs(argv);
  } catch (error) {
    io.err(startFailureMessage(error));
    return 1;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  const stackFile = io.stackFile ?? args.stackFile ?? LOCAL_STACK_FILE;
  const codesFile = codesFileOf(stackFile);
  // A description left by a stack that is gone is replaced; a running stack's is not taken over.
  const previous = readStackFile(stackFile);
  if (previous?.pid !== undefined && previous.pid !== process.pid && isAlive(previous.pid)) {
    io.err(
      `another local stack (pid ${previous.pid}) is running and owns ${stackFile}: stop it first, or pass --stack-file`,
    );
    return 1;
  }
  if (previous || existsSync(stackFile)) {
    io.out(`Replacing ${stackFile}: the stack that wrote it is gone.`);
    rmSync(stackFile, { force: true });
    rmSync(codesFile, { force: true });
  }
  const logger: Logger = {
    debug() {},
    info(message) {
      if (message.endsWith(' started')) io.out(`  ✓ ${message}`);
    },
    warn(message) {
      io.err(`warning: ${message}`);
    },
    error(message, ...extra) {
      io.err(`error: ${message} ${extra.length > 0 ? JSON.stringify(extra) : ''}`);
    },
  };
  // Codes the user pool "sends": printed, kept for `npm run code` and the demo seed.
  const codes: Record<string, CodesFile[string]> = {};
  const onUserPoolMessage = (message: UserPoolMessage) => {
    const to = message.email ?? message.username;
    io.out(`  ✉ ${message.kind} for ${to}: ${message.code}`);
    codes[to] = { kind: message.kind, code: message.code, at: new Date().toISOString() };
    try {
      mkdirSync(dirname(codesFile), { recursive: true });
      writeFileSync(codesFile, `${JSON.stringify(codes, null, 2)}\n`);
    } catch (error) {
      io.err(`warning: could not write ${codesFile}: ${String(error)}`);
    }
  };
  io.out('Starting the local stack from template.yaml…');
  // Listening from the start: Ctrl-C while starting stops what started instead of killing us mid-way.
  let signalled = false;
  const signal = io.stopSignal ? undefined : listenForSignal();
  void signal?.received.then(() => {
    signalled = true;
  });
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ...args.options,
      logger,
      onUserPoolMessage,
      ...(args.quiet
        ? {}
        : { onFunctionLog: (fn: string, line: string) => io.err(`[${fn}] ${line}`) }),
    });
  } catch (error) {
    signal?.dispose();
    if (signalled) return 0; // stopped while starting: parts already stopped by startLocalStack
    io.err(startFailureMessage(error));
    return 1;
  }
  const removeFile = () => {
    rmSync(stackFile, { force: true });
    rmSync(codesFile, { force: true });
  };
  // Even an unexpected exit must not leave a stale description of a stack that is gone; after a
  // kill -9 the stack's janitor removes them.
  process.once('exit', removeFile);
  stack.removeWhenGone(stackFile);
  stack.removeWhenGone(codesFile);
  try {
    if (signalled) {
      io.out('Stopping…'); // Ctrl-C while starting: nothing more to start
      return 0;
    }
    io.out('');
    io.out(`  Console         ${stack.endpoints.console}  (sign in as a demo user below)`);
    io.out(`  REST API        ${stack.endpoints.restApi}`);
    io.out(`  HTTP API        ${stack.endpoints.httpApi}`);
    io.out(
      `  User pool       ${stack.endpoints.userPool}  (${stack.userPoolId}, client ${stack.clientId})`,
    );
    io.out(`  Identity pool   ${stack.endpoints.identityPool}  (${stack.identityPoolId})`);
    io.out(
      `  DynamoDB        ${stack.endpoints.dynamodb}  (isolation enforced; table ${stack.tableName})`,
    );
    io.out(`  DynamoDB Local  ${stack.directDynamoDbEndpoint}  (no isolation)`);
    for (const api of stack.apis)
      io.out(`  ${api.logicalId}: ${api.routes.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    let users: LocalStackFile['users'] = [];
    const seedDemo = args.demo ? await loadSeedDemo() : undefined;
    if (seedDemo) {
      io.out('');
      io.out('Seeding the demo…');
      // The whole handle: a LocalStackFile plus extras (e.g. directDynamoDbEndpoint) for seeding.
      const demo = await seedDemo({
        ...stack,
        confirmationCode: (email: string) =>
          codes[email]?.kind === 'sign-up confirmation code' ? codes[email].code : undefined,
      });
      users = demo.users;
      io.out(demo.text);
    }
    mkdirSync(dirname(stackFile), { recursive: true });
    // Owner-only: it holds the demo password and the functions' local role keys.
    writeFileSync(
      stackFile,
      `${JSON.stringify({ ...stack.describe(users), pid: process.pid }, null, 2)}
`,
      { mode: 0o600 },
    );
    io.out('');
    io.out(`Wrote ${stackFile}. Point the AWS CLI or an SDK at the stack with:`);
    for (const line of exportLines(stack)) io.out(`  ${line}`);
    io.out(
      'AWS CLI v2 before 2.13 (v1 before 1.29) ignores AWS_ENDPOINT_URL_*; give it --endpoint-url:',
    );
    for (const line of endpointUrlLines(stack)) io.out(`  ${line}`);
    io.out('');
    io.out('Running. Ctrl-C stops everything.');
    // A child that dies (cognito-local, DynamoDB Local) would leave a stack answering 500s: it is
    // reported at once and the stack stops with exit code 1.
    const failure = await Promise.race([
      (io.stopSignal ? io.stopSignal(stack) : signal?.received)?.then(() => undefined),
      stack.failure,
    ]);
    if (failure) {
      io.err(`error: ${failure.message}; stopping the local stack`);
      io.out('Stopping…');
      return 1;
    }
    io.out('Stopping…');
    return 0;
  } catch (error) {
    io.err(startFailureMessage(error));
    return 1;
  } finally {
    await stack.stop().catch((error: unknown) => io.err(`stop: ${String(error)}`));
    removeFile();
    process.off('exit', removeFile);
    signal?.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const code = await runStart(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
  process.exit(code);
}
