/**
 * The template's functions, run locally: each `AWS::Serverless::Function` is bundled with esbuild
 * from its Metadata (sam/build.ts, as `sam build` does) and runs in its own worker thread, so each
 * gets its own `process.env` — template Globals plus its Environment with `!Ref`/`!GetAtt`/`!Sub`
 * resolved to the local stack's ids, the AWS endpoint variables pointing at the local services,
 * and the credentials of its own stand-in execution role (function-roles.ts), whose template policy
 * the isolation proxy and the identity-pool stand-in enforce. A handler's thrown error rejects the
 * invocation with the error's message, as the Lambda service reports it (API Gateway maps an
 * authorizer's `Unauthorized` to 401).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../authorizer/index.js';
import { buildFunction } from '../build.js';
import { type FunctionDefinition, functionDefinitions, type Template } from '../template.js';
import { FunctionInvocationError, FunctionStartError, LocalStackConfigError } from './errors.js';
import { createFunctionRoles, type FunctionRole, type FunctionRoles } from './function-roles.js';
import type { LambdaContext, LambdaHandler } from './gateway/index.js';
import { type LocalResolution, resolveLocal } from './provision.js';

/** Endpoints the functions' AWS SDK clients are pointed at (`AWS_ENDPOINT_URL_*`). */
export interface FunctionEndpoints {
  /** The isolation proxy in front of DynamoDB Local. */
  readonly dynamodb: string;
  /** cognito-local. */
  readonly cognitoIdentityProvider: string;
  /** The identity-pool stand-in. */
  readonly cognitoIdentity: string;
}

export interface LocalFunctionsOptions {
  readonly template: Template;
  readonly resolution: LocalResolution;
  readonly endpoints: FunctionEndpoints;
  /**
   * Each function's stand-in role, whose credentials it runs with. Default: built from the template
   * now (the caller then learns the keys from `LocalFunctions.roles`).
   */
  readonly roles?: FunctionRoles;
  /**
   * Where the functions' `https` requests to Cognito's issuer (the user pool's JWKS at
   * `https://cognito-idp.<region>.amazonaws.com/<poolId>/.well-known/jwks.json`) are sent instead:
   * cognito-local's endpoint. Tokens keep the production issuer; only the download is redirected.
   */
  readonly jwksEndpoint?: string;
  /** Where the build directory is made. Default the OS temp directory. */
  readonly tempDir?: string;
  /** Only these logical ids. Default: every function of the template. */
  readonly only?: readonly string[];
  /** Each line the functions write to stdout/stderr (Powertools logs). Default: dropped. */
  readonly onLog?: (functionName: string, line: string) => void;
  readonly logger?: Logger;
}

export interface LocalFunction {
  readonly logicalId: string;
  /** The Lambda function name (the logical id) and its fake ARN. */
  readonly functionName: string;
  readonly arn: string;
  /** The environment the function sees, its role's local credentials included (never log it). */
  readonly environment: Readonly<Record<string, string>>;
  /** Its stand-in execution role. */
  readonly role: FunctionRole;
  readonly handler: LambdaHandler;
  /** Thread ids of the live worker (undefined when it is not running). */
  threadId(): number | undefined;
}

export interface LocalFunctions {
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /** Every template function's stand-in role (those not started included). */
  readonly roles: FunctionRoles;
  /** By function name, logical id or ARN. */
  get(nameOrArn: string): LocalFunction | undefined;
  /** Terminates every worker. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Each function's environment: Globals, then its own Environment, intrinsic functions resolved
 * locally. @throws LocalStackConfigError listing every value that cannot be resolved.
 */
export function localEnvironment(
  template: Template,
  resolution: LocalResolution,
  logicalId: string,
): Record<string, string> {
  const variables = (v: unknown) =>
    ((v as { Environment?: { Variables?: Record<string, unknown> } } | undefined)?.Environment
      ?.Variables ?? {}) as Record<string, unknown>;
  const raw = {
    ...variables(template.Globals?.Function),
    ...variables(template.Resources[logicalId]?.Properties),
  };
  const issues: string[] = [];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const resolved = resolveLocal(template, resolution, value);
    if (resolved === undefined)
      issues.push(`${logicalId}.Environment.${name}: cannot resolve ${JSON.stringify(value)}`);
    else env[name] = resolved;
  }
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  return env;
}

/**
 * The worker's bootstrap (CommonJS, evaluated): redirect the JWKS download, import the bundle (the
 * function's init), then run invocations. Results cross as JSON, as Lambda serializes them.
 */
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
const { randomUUID } = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const { syncBuiltinESMExports } = require('node:module');
const { pathToFileURL } = require('node:url');
const { bundle, exportName, functionName, arn, memory, jwks } = workerData;
if (jwks) {
  // aws-jwt-verify downloads the pool's keys with https.request from the production issuer's URL.
  const original = https.request;
  https.request = function request(input, options, callback) {
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
    if (url && url.hostname === jwks.host) {
      const target = new URL(url.pathname + url.search, jwks.endpoint);
      const opts = typeof options === 'object' && options !== null ? { ...options } : {};
      delete opts.agent;
      return http.request(target, opts, typeof options === 'function' ? options : callback);
    }
    return original.apply(this, arguments);
  };
  syncBuiltinESMExports();
}
const errorOf = (e) => ({
  errorType: (e && e.name) || 'Error',
  errorMessage: e && typeof e === 'object' && 'message' in e ? String(e.message) : String(e),
});
(async () => {
  let fn;
  try {
    const mod = await import(pathToFileURL(bundle).href);
    fn = mod[exportName];
    if (typeof fn !== 'function') throw new TypeError(exportName + ' is not a function exported by ' + bundle);
  } catch (e) {
    parentPort.postMessage({ type: 'init-error', ...errorOf(e) });
    return;
  }
  parentPort.on('message', async ({ id, event, requestId, timeoutMs }) => {
    const started = Date.now();
    const context = {
      awsRequestId: requestId || randomUUID(),
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: arn,
      memoryLimitInMB: String(memory),
      logGroupName: '/aws/lambda/' + functionName,
      logStreamName: 'local/' + randomUUID(),
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
      done() {}, fail() {}, succeed() {},
    };
    try {
      const result = await fn(JSON.parse(event), context);
      parentPort.postMessage({ type: 'result', id, ok: true, payload: JSON.stringify(result ?? null) });
    } catch (e) {
      parentPort.postMessage({ type: 'result', id, ok: false, ...errorOf(e) });
    }
  });
  parentPort.postMessage({ type: 'ready' });
})();
`;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'init-error'; errorType: string; errorMessage: string }
  | { type: 'result'; id: number; ok: true; payload: string }
  | { type: 'result'; id: number; ok: false; errorType: string; errorMessage: string };

/** One function's execution environment: a worker, restarted on the next call after a crash. */
function environmentFor(
  fn: FunctionDefinition,
  bundle: string,
  arn: string,
  env: Record<string, string>,
  options: LocalFunctionsOptions,
) {
  const exportName = fn.handler.slice(fn.handler.lastIndexOf('.') + 1);
  const jwks = options.jwksEndpoint
    ? {
        host: `cognito-idp.${options.resolution.region}.amazonaws.com`,
        endpoint: options.jwksEndpoint,
      }
    : undefined;
  let current: { worker: Worker; ready: Promise<void> } | undefined;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let stopped = false;

  const failAll = (error: Error) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(error);
    }
  };

  const lines = (stream: NodeJS.ReadableStream | null) => {
    let buffer = '';
    stream?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) if (line.trim() !== '') options.onLog?.(fn.logicalId, line);
    });
  };

  const start = () => {
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      env,
      workerData: {
        bundle,
        exportName,
        functionName: fn.logicalId,
        arn,
        memory: fn.memorySize,
        jwks,
      },
      stdout: true,
      stderr: true,
      // Lambda's memory setting bounds the heap; a leak shows up as it would there.
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, fn.memorySize) },
    });
    lines(worker.stdout);
    lines(worker.stderr);
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'init-error')
          reject(new FunctionStartError(fn.logicalId, `${m.errorType}: ${m.errorMessage}`));
        else {
          const p = pending.get(m.id);
          if (!p) return;
          pending.delete(m.id);
          clearTimeout(p.timer);
          if (m.ok) p.resolve(JSON.parse(m.payload));
          else p.reject(new FunctionInvocationError(fn.logicalId, m.errorType, m.errorMessage));
        }
      });
      const gone = (why: string) => {
        if (current?.worker === worker) current = undefined;
        reject(new FunctionStartError(fn.logicalId, why));
        failAll(new FunctionInvocationError(fn.logicalId, 'Runtime.ExitError', why));
      };
      worker.on('error', (error) => gone(`Runtime.ExitError: ${error.message}`));
      worker.on('exit', (code) => gone(`the function's worker exited (${code})`));
    });
    ready.catch(() => {});
    current = { worker, ready };
    return current;
  };

  const handler: LambdaHandler = async (event: unknown, context?: Partial<LambdaContext>) => {
    if (stopped)
      throw new FunctionInvocationError(
        fn.logicalId,
        'ResourceNotFoundException',
        'the local stack is stopped',
      );
    const env = current ?? start();
    await env.ready;
    const id = nextId++;
    const timeoutMs = fn.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(
          new FunctionInvocationError(
            fn.logicalId,
            'Sandbox.Timedout',
            `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      pending.set(id, { resolve, reject, timer });
      env.worker.postMessage({
        id,
        event: JSON.stringify(event ?? null),
        requestId: context?.awsRequestId,
        timeoutMs,
      });
    });
  };

  return {
    handler,
    /** Start now and wait for the function's init (module load), so a broken one fails the start. */
    async init() {
      await (current ?? start()).ready;
    },
    threadId: () => current?.worker.threadId,
    async stop() {
      stopped = true;
      const w = current?.worker;
      current = undefined;
      failAll(
        new FunctionInvocationError(
          fn.logicalId,
          'ResourceNotFoundException',
          'the local stack is stopped',
        ),
      );
      if (w) await w.terminate();
    },
  };
}

/**
 * Build and start the template's functions, each in its own worker, and wait for their init.
 * @throws LocalStackConfigError (unresolvable environment), FunctionStartError (build or init).
 */
export async function startFunctions(options: LocalFunctionsOptions): Promise<LocalFunctions> {
  const { template, resolution, endpoints } = options;
  const definitions = functionDefinitions(template).filter(
    (f) => !options.only || options.only.includes(f.logicalId),
  );
  const issues: string[] = [];
  const envs = new Map<string, Record<string, string>>();
  for (const fn of definitions) {
    try {
      envs.set(fn.logicalId, localEnvironment(template, resolution, fn.logicalId));
    } catch (error) {
      if (error instanceof LocalStackConfigError) issues.push(...error.issues);
      else throw error;
    }
  }
  let roles = options.roles;
  try {
    roles ??= createFunctionRoles(template, resolution);
  } catch (error) {
    if (error instanceof LocalStackConfigError) issues.push(...error.issues);
    else throw error;
  }
  for (const fn of definitions)
    if (roles && !roles.get(fn.logicalId)) issues.push(`${fn.logicalId}: no stand-in role`);
  if (issues.length > 0 || !roles) throw new LocalStackConfigError(issues);
  const roleOf = (logicalId: string) => (roles as FunctionRoles).get(logicalId) as FunctionRole;

  // A build directory of our own: `npm run build` or the invoke tests writing .aws-sam/build at the
  // same moment could otherwise truncate a bundle while a worker imports it.
  const buildRoot = mkdtempSync(join(options.tempDir ?? tmpdir(), 'tenantgate-functions-'));
  const removeBuilds = () => rmSync(buildRoot, { recursive: true, force: true });
  const bundles = await Promise.all(
    definitions.map((fn) =>
      buildFunction(fn, { outdir: join(buildRoot, fn.logicalId) }).catch((error: unknown) => {
        removeBuilds();
        throw new FunctionStartError(fn.logicalId, `esbuild failed: ${(error as Error).message}`, {
          cause: error,
        });
      }),
    ),
  );
  const { region, accountId } = resolution;
  const running = definitions.map((fn, i) => {
    const arn = `arn:aws:lambda:${region}:${accountId}:function:${fn.logicalId}`;
    const environment: Record<string, string> = {
      ...(envs.get(fn.logicalId) ?? {}),
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      // Its own role's key. Lambda hands out temporary credentials (with a session token); these
      // stand-in keys are long-lived for the stack's life and have none.
      AWS_ACCESS_KEY_ID: roleOf(fn.logicalId).accessKeyId,
      AWS_SECRET_ACCESS_KEY: roleOf(fn.logicalId).secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: endpoints.cognitoIdentityProvider,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY: endpoints.cognitoIdentity,
      // Keep the SDK off the developer's ~/.aws and off instance metadata.
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      _HANDLER: fn.handler,
      TZ: ':UTC',
    };
    return {
      fn,
      arn,
      environment,
      env: environmentFor(fn, bundles[i] as string, arn, environment, options),
    };
  });
  const stopAll = async () => {
    await Promise.all(running.map((r) => r.env.stop()));
    removeBuilds();
  };
  const inits = await Promise.allSettled(running.map((r) => r.env.init()));
  const failed = inits.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const functions = new Map<string, LocalFunction>(
    running.map((r) => [
      r.fn.logicalId,
      {
        logicalId: r.fn.logicalId,
        functionName: r.fn.logicalId,
        arn: r.arn,
        environment: Object.freeze({ ...r.environment }),
        role: roleOf(r.fn.logicalId),
        handler: r.env.handler,
        threadId: r.env.threadId,
      },
    ]),
  );
  let stopped: Promise<void> | undefined;
  return {
    functions,
    roles,
    get(nameOrArn) {
      // `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` or the bare name.
      const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? '') : nameOrArn;
      return functions.get(name);
    },
    stop() {
      stopped ??= stopAll();
      return stopped;
    },
  };
}
