/**
 * Launches a real cognito-local (npm, pinned 5.3.0) on loopback with its data in a fresh temp dir.
 * User pools are written into its database before it starts, because its CreateUserPool only makes
 * `local_…` ids: a real-format id (`<region>_<id>`) plus Cognito's issuer domain give tokens with
 * `iss = https://cognito-idp.<region>.amazonaws.com/<poolId>`, which the production verifier accepts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalServiceError, LocalStackConfigError, PortTakenError } from './errors.js';
import { launchOnPort } from './ports.js';

const require = createRequire(import.meta.url);

/** A user pool to seed: everything cognito-local keeps in the pool's `Options`. */
export interface CognitoPoolSeed {
  /** `<region>_<id>`. */
  readonly id: string;
  readonly name?: string;
  readonly usernameAttributes?: readonly string[];
  /** Custom attribute names without `custom:`, String type, mutable. */
  readonly customAttributes?: readonly string[];
  /**
   * Anything else cognito-local stores in `Options` (e.g. `AutoVerifiedAttributes`); a
   * `PasswordPolicy` here goes over the default policy in `Options.Policies`.
   */
  readonly options?: Readonly<Record<string, unknown>>;
}

export interface CognitoLauncherOptions {
  /** The pools to create before start; at least one, all in one region. */
  readonly pools: readonly CognitoPoolSeed[];
  /** Default 0: a free port. */
  readonly port?: number;
  /** Named in the port-taken message. Default `--cognito-port`. */
  readonly portFlag?: string;
  /**
   * Where cognito-local invokes Cognito triggers (its `LambdaClient` config): an endpoint serving
   * the Lambda Invoke API, and the trigger → function name map (`TriggerFunctions`).
   */
  readonly lambda?: {
    readonly endpoint: string;
    readonly triggers: Readonly<Record<string, string>>;
  };
  /** How long to wait for it to answer. Default 30 000 ms. */
  readonly startTimeoutMs?: number;
  /** Where its data directory is made. Default the OS temp directory. */
  readonly tempDir?: string;
  /** Draws the port when `port` is 0 (again if it is taken before cognito-local listens). */
  readonly drawPort?: () => Promise<number>;
}

export interface CognitoLauncher {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  /** `https://cognito-idp.<region>.amazonaws.com`: the issuer domain of its tokens. */
  readonly issuerDomain: string;
  /** The Node process (under its watchdog). */
  readonly pid: number | undefined;
  /** Its database directory (`<cwd>/.cognito/db`): clients, pools and users as JSON files. */
  readonly dataDir: string;
  /** Where cognito-local serves a pool's JWKS. */
  localJwksUri(userPoolId: string): string;
  /**
   * Resolves (with how it ended) if the process exits without `stop()` — it crashed or was
   * killed; never resolves otherwise.
   */
  readonly exited: Promise<string>;
  /** Stop the process and remove its data directory. Idempotent. */
  stop(): Promise<void>;
}

const POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d{1,2})_[0-9A-Za-z]+$/;

/**
 * Runs cognito-local's start script under a watchdog: when our process is gone (even killed with
 * SIGKILL, so no exit handler ran), the child sees its parent change and exits. No orphans.
 */
const WATCHDOG = [
  'const parent = process.ppid;',
  'setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();',
  'require(process.argv[1]);',
].join('\n');

async function waitFor(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new LocalServiceError(
        `cognito-local exited with ${child.exitCode ?? child.signalCode}: ${output()}`,
      );
    }
    try {
      // Bounded: whatever else holds the port may accept and never answer.
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new LocalServiceError(`cognito-local did not answer at ${url}: ${output()}`);
}

/**
 * Start cognito-local with `pools` seeded; resolves once it serves the first pool's JWKS.
 * @throws LocalStackConfigError for bad pool ids, PortTakenError, LocalServiceError.
 */
export async function launchCognitoLocal(
  options: CognitoLauncherOptions,
): Promise<CognitoLauncher> {
  const issues: string[] = [];
  const regions = new Set<string>();
  if (!Array.isArray(options.pools) || options.pools.length === 0)
    issues.push('pools: at least one user pool is needed');
  for (const pool of options.pools ?? []) {
    const region = POOL_ID.exec(String(pool.id))?.[1];
    if (!region) issues.push(`user pool id must look like <region>_<id>, got "${pool.id}"`);
    else regions.add(region);
  }
  if (regions.size > 1) issues.push(`user pools span regions ${[...regions].join(', ')}`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    issues.push(`port must be an integer in 0–65535, got ${port}`);
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  const [region = 'us-east-1'] = regions;
  return launchOnPort(
    port,
    options.portFlag ?? '--cognito-port',
    (listenPort) => startOnPort(options, region, listenPort),
    options.drawPort,
  );
}

/** Seeds a fresh data directory and starts cognito-local on `listenPort`, which was free. */
async function startOnPort(
  options: CognitoLauncherOptions,
  region: string,
  listenPort: number,
): Promise<CognitoLauncher> {
  const issuerDomain = `https://cognito-idp.${region}.amazonaws.com`;
  const dir = mkdtempSync(join(options.tempDir ?? tmpdir(), 'tenantgate-cognito-'));
  const db = join(dir, '.cognito', 'db');
  mkdirSync(db, { recursive: true });
  writeFileSync(
    join(dir, '.cognito', 'config.json'),
    JSON.stringify({
      TokenConfig: { IssuerDomain: issuerDomain },
      ...(options.lambda
        ? {
            LambdaClient: {
              endpoint: options.lambda.endpoint,
              region,
              credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            },
            TriggerFunctions: options.lambda.triggers,
          }
        : {}),
    }),
  );
  // cognito-local's own defaults (password policy, standard schema) plus the custom attributes.
  const { USER_POOL_AWS_DEFAULTS } = require('cognito-local/lib/services/cognitoService.js') as {
    USER_POOL_AWS_DEFAULTS: { SchemaAttributes?: unknown[] } & Record<string, unknown>;
  };
  const custom = (name: string) => ({
    Name: `custom:${name}`,
    AttributeDataType: 'String',
    DeveloperOnlyAttribute: false,
    Mutable: true,
    Required: false,
    StringAttributeConstraints: { MinLength: '0', MaxLength: '2048' },
  });
  for (const pool of options.pools) {
    const { PasswordPolicy, ...poolOptions } = pool.options ?? {};
    writeFileSync(
      join(db, `${pool.id}.json`),
      JSON.stringify({
        Users: {},
        Groups: {},
        Options: {
          ...USER_POOL_AWS_DEFAULTS,
          ...poolOptions,
          Policies: {
            PasswordPolicy: {
              ...(USER_POOL_AWS_DEFAULTS.Policies as { PasswordPolicy?: object } | undefined)
                ?.PasswordPolicy,
              ...(PasswordPolicy as object | undefined),
            },
          },
          Id: pool.id,
          Name: pool.name ?? 'tenantgate-local',
          UsernameAttributes: [...(pool.usernameAttributes ?? ['email'])],
          SchemaAttributes: [
            ...(USER_POOL_AWS_DEFAULTS.SchemaAttributes ?? []),
            ...(pool.customAttributes ?? []).map(custom),
          ],
        },
      }),
    );
  }

  const endpoint = `http://127.0.0.1:${listenPort}`;
  const child = spawn(
    process.execPath,
    ['-e', WATCHDOG, require.resolve('cognito-local/lib/bin/start.js')],
    {
      cwd: dir,
      env: { ...process.env, PORT: String(listenPort), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A group of its own: a Ctrl-C to the terminal's group must not kill it under a running
      // stack (which would read as a crash); stop() ends it, its watchdog covers our death.
      detached: true,
    },
  );
  let stopping = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!stopping) resolve(signal ? `killed by ${signal}` : `exit code ${code}`);
    });
  });
  // Drained, so a chatty child never blocks on a full pipe; the tail explains a failed start. Both
  // streams: cognito-local logs its own errors (EADDRINUSE included) to stdout.
  let outputTail = '';
  const keepTail = (chunk: Buffer) => {
    outputTail = (outputTail + chunk.toString()).slice(-2000);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopping = true;
    stopped ??= (async () => {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(force);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const localJwksUri = (poolId: string) => `${endpoint}/${poolId}/.well-known/jwks.json`;
  try {
    await waitFor(
      localJwksUri(options.pools[0]?.id ?? ''),
      child,
      () => spawnError?.message ?? outputTail,
      options.startTimeoutMs ?? 30_000,
    );
  } catch (error) {
    await stop();
    // Someone took the port between our check and cognito-local's listen.
    if (/EADDRINUSE/.test(outputTail))
      throw new PortTakenError(listenPort, options.portFlag ?? '--cognito-port', { cause: error });
    throw error;
  }
  // Started: its per-request log lines are no longer kept, only drained.
  child.stdout?.off('data', keepTail);
  child.stdout?.resume();
  return {
    endpoint,
    port: listenPort,
    region,
    issuerDomain,
    pid: child.pid,
    dataDir: db,
    localJwksUri,
    exited,
    stop,
  };
}
