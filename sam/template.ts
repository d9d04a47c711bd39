/**
 * template.yaml, read the way SAM reads it: CloudFormation tags parsed, function Globals merged, and
 * `Ref`s to parameters resolved to their defaults. Shared by build, invoke and the local stack.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { yamlParse } from 'yaml-cfn';
import { SamError } from './errors.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATE_PATH = join(ROOT, 'template.yaml');

export type Template = {
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
  Rules?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Globals?: { Function?: Record<string, unknown> };
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
  Outputs?: Record<string, unknown>;
};

export function loadTemplate(path = TEMPLATE_PATH): Template {
  return yamlParse(readFileSync(path, 'utf8')) as Template;
}

export interface FunctionDefinition {
  readonly logicalId: string;
  /** `file.export`, e.g. `authorizer.handler`. */
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** Environment as deployed, with unresolvable values (resources) left as `undefined`. */
  readonly environment: Record<string, string | undefined>;
  readonly buildProperties: Record<string, unknown>;
}

/** Resolve a value to a string where it can be: literals, and `Ref`s to parameters (their defaults). */
export function resolveValue(template: Template, value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  if (value && typeof value === 'object' && 'Ref' in value) {
    const param = template.Parameters?.[(value as { Ref: string }).Ref];
    return param?.Default === undefined ? undefined : String(param.Default);
  }
  return undefined;
}

export function functionDefinitions(template: Template): FunctionDefinition[] {
  const globals = template.Globals?.Function ?? {};
  const globalEnv = ((globals.Environment as { Variables?: Record<string, unknown> })?.Variables ??
    {}) as Record<string, unknown>;
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
    .map(([logicalId, r]) => {
      const p = { ...globals, ...r.Properties } as Record<string, unknown>;
      const env = ((r.Properties?.Environment as { Variables?: Record<string, unknown> })
        ?.Variables ?? {}) as Record<string, unknown>;
      const environment: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries({ ...globalEnv, ...env }))
        environment[k] = resolveValue(template, v);
      if (r.Metadata?.BuildMethod !== 'esbuild')
        throw new SamError(`${logicalId} must be built with esbuild`);
      return {
        logicalId,
        handler: String(p.Handler),
        runtime: String(p.Runtime),
        timeoutSeconds: Number(p.Timeout ?? 3),
        memorySize: Number(p.MemorySize ?? 128),
        environment,
        buildProperties: (r.Metadata?.BuildProperties ?? {}) as Record<string, unknown>,
      };
    });
}

export function functionDefinition(template: Template, logicalId: string): FunctionDefinition {
  const fn = functionDefinitions(template).find((f) => f.logicalId === logicalId);
  if (!fn) {
    const known = functionDefinitions(template).map((f) => f.logicalId);
    throw new SamError(
      `no function ${logicalId} in template.yaml (functions: ${known.join(', ')})`,
    );
  }
  return fn;
}

/** What `npm start` writes to `.local/stack.json` while the local stack runs. */
export interface LocalStackFile {
  readonly region: string;
  readonly endpoints: {
    readonly userPool: string;
    readonly identityPool: string;
    readonly dynamodb: string;
    readonly restApi: string;
    readonly httpApi: string;
    /** The demo console (`npm start`). */
    readonly console?: string;
  };
  readonly userPoolId: string;
  readonly clientId: string;
  readonly identityPoolId: string;
  readonly tableName: string;
  readonly users: readonly { email: string; password: string; tenants: readonly string[] }[];
  /**
   * Each function's local role key (drawn at each start, valid only against this stack), so
   * `npm run invoke` runs a function with its own role's permissions, as the stack does.
   */
  readonly functionCredentials?: Readonly<
    Record<string, { readonly accessKeyId: string; readonly secretAccessKey: string }>
  >;
}

export const LOCAL_STACK_FILE = join(ROOT, '.local', 'stack.json');
