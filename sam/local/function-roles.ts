/**
 * Each template function's execution role, locally. SAM gives every function without a `Role` its own
 * role, `<LogicalId>Role`, whose policies are the function's `Policies`; Lambda runs the function
 * with temporary credentials of that role, session name = the function's name. Here each function
 * gets its own access key (`LocalRole<LogicalId>`: letters and digits only, as DynamoDB Local
 * requires) with a secret drawn at each stack start, and its identity-based policy is read from
 * template.yaml and judged by the local IAM evaluator (isolation/iam.ts) — in the isolation proxy in
 * front of DynamoDB Local and in the identity-pool stand-in. A function whose template forgets a
 * permission is refused locally as it would be in AWS.
 *
 * Supported: inline policy documents (`Policies: [{ Version?, Statement: […] }]`) with `!Ref`,
 * `!GetAtt`, `!Sub` and `!Join` resolved against the local ids (provision.ts `resolveLocal`; `${!x}`
 * stays the IAM variable `${x}`). Everything else that shapes a role — SAM policy templates
 * (`DynamoDBCrudPolicy: …`), managed policy names or ARNs, an explicit `Role`, a
 * `PermissionsBoundary` — is refused with a LocalStackConfigError: ignoring it could make the local
 * role stronger or weaker than the deployed one. Lambda's basic execution role (logs) is not
 * modelled: no local service checks logs permissions.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { Template } from '../template.js';
import { LocalStackConfigError } from './errors.js';
import {
  createIamEvaluator,
  IamDecision,
  type IamEvaluator,
  type IamPolicyDocument,
  IamPolicyError,
} from './isolation/index.js';
import { type LocalResolution, resolveLocal, resourcesOfType } from './provision.js';

/** One function's stand-in execution role and the credentials it runs with. */
export interface FunctionRole {
  readonly logicalId: string;
  /** The local function name (the logical id): the role session's name. */
  readonly functionName: string;
  /** `<LogicalId>Role`, as SAM names the role it generates. */
  readonly roleName: string;
  /** `arn:aws:iam::<account>:role/<roleName>` (`aws:PrincipalArn`). */
  readonly roleArn: string;
  /** `arn:aws:sts::<account>:assumed-role/<roleName>/<functionName>`: named in refusals. */
  readonly principalArn: string;
  readonly accessKeyId: string;
  /** Drawn at each start; never logged. */
  readonly secretAccessKey: string;
  /** The resolved policy documents, one per `Policies` entry. */
  readonly policies: readonly IamPolicyDocument[];
  /** IAM's verdict over all of them. */
  readonly evaluator: IamEvaluator;
}

export interface FunctionRoles {
  /** By logical id, in template order. */
  readonly roles: ReadonlyMap<string, FunctionRole>;
  get(logicalId: string): FunctionRole | undefined;
  /** The role whose access key this is, else undefined (a tenant session, the stack's own key…). */
  byAccessKeyId(accessKeyId: string): FunctionRole | undefined;
}

const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const isIntrinsic = (v: unknown) =>
  Object.keys(obj(v)).length === 1 && /^(Ref|Fn::\w+)$/.test(Object.keys(obj(v))[0] ?? '');

/** `LocalRole<LogicalId>`: CloudFormation logical ids are alphanumeric, as DynamoDB Local wants keys. */
export const accessKeyIdFor = (logicalId: string) => `LocalRole${logicalId}`;

/**
 * IAM over several identity-based policies: an explicit Deny in any wins, else an Allow in any
 * grants, else implicit deny. Each document keeps its own `Version` (policy variables).
 */
export function combineEvaluators(evaluators: readonly IamEvaluator[]): IamEvaluator {
  return {
    evaluate(request) {
      const results = evaluators.map((e) => e.evaluate(request));
      return (
        results.find((r) => r.decision === IamDecision.explicitDeny) ??
        results.find((r) => r.decision === IamDecision.allow) ?? {
          decision: IamDecision.implicitDeny,
        }
      );
    },
  };
}

/**
 * A function's identity-based policy documents from its template `Policies`, intrinsic functions
 * resolved locally. @throws LocalStackConfigError listing every unsupported form and unresolvable value.
 */
export function functionPolicies(
  template: Template,
  resolution: LocalResolution,
  logicalId: string,
): IamPolicyDocument[] {
  const issues: string[] = [];
  const properties = obj(template.Resources[logicalId]?.Properties);
  const globals = obj(template.Globals?.Function);
  for (const [where, p] of [
    [logicalId, properties],
    ['Globals.Function', globals],
  ] as const) {
    if (p.Role !== undefined)
      issues.push(
        `${where}.Role: an explicit execution role is not supported locally; declare the function's Policies inline`,
      );
    if (p.PermissionsBoundary !== undefined)
      issues.push(`${where}.PermissionsBoundary is not supported locally`);
  }
  if (globals.Policies !== undefined)
    issues.push('Globals.Function.Policies is not supported locally');

  const resolve = (value: unknown, at: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${at}[${i}]`));
    if (isIntrinsic(value)) {
      const resolved = resolveLocal(template, resolution, value);
      if (resolved === undefined)
        issues.push(`${at}: cannot resolve ${JSON.stringify(value)} locally`);
      return resolved;
    }
    if (value && typeof value === 'object')
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, resolve(v, `${at}.${k}`)]),
      );
    return value;
  };

  const raw = properties.Policies;
  const entries = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const documents: IamPolicyDocument[] = [];
  entries.forEach((entry, i) => {
    const at = `${logicalId}.Policies[${i}]`;
    if (typeof entry === 'string') {
      issues.push(
        `${at}: the managed policy ${entry} is not supported locally (its statements are not in the template); write them inline`,
      );
      return;
    }
    const keys = Object.keys(obj(entry));
    if (isIntrinsic(entry) || !keys.includes('Statement')) {
      issues.push(
        `${at}: ${keys.length === 1 ? `the SAM policy template ${keys[0]}` : 'this policy form'} is not supported locally; write an inline { Version, Statement } document`,
      );
      return;
    }
    const extra = keys.filter((k) => !['Version', 'Id', 'Statement'].includes(k));
    if (extra.length > 0) issues.push(`${at}: unexpected ${extra.join(', ')} in a policy document`);
    documents.push(resolve(entry, at) as IamPolicyDocument);
  });
  if (issues.length === 0) {
    documents.forEach((document, i) => {
      try {
        createIamEvaluator(document);
      } catch (error) {
        if (!(error instanceof IamPolicyError)) throw error;
        issues.push(...error.issues.map((issue) => `${logicalId}.Policies[${i}]: ${issue}`));
      }
    });
  }
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  return documents;
}

/**
 * Every function's stand-in role, secrets drawn now.
 * @throws LocalStackConfigError listing the problems of every function at once.
 */
export function createFunctionRoles(
  template: Template,
  resolution: LocalResolution,
  options: { readonly randomBytes?: (size: number) => Buffer } = {},
): FunctionRoles {
  const random = options.randomBytes ?? cryptoRandomBytes;
  const issues: string[] = [];
  const roles = new Map<string, FunctionRole>();
  for (const logicalId of resourcesOfType(template, 'AWS::Serverless::Function')) {
    let policies: IamPolicyDocument[];
    try {
      policies = functionPolicies(template, resolution, logicalId);
    } catch (error) {
      if (!(error instanceof LocalStackConfigError)) throw error;
      issues.push(...error.issues);
      continue;
    }
    const roleName = `${logicalId}Role`;
    roles.set(
      logicalId,
      Object.freeze({
        logicalId,
        functionName: logicalId,
        roleName,
        roleArn: `arn:aws:iam::${resolution.accountId}:role/${roleName}`,
        principalArn: `arn:aws:sts::${resolution.accountId}:assumed-role/${roleName}/${logicalId}`,
        accessKeyId: accessKeyIdFor(logicalId),
        secretAccessKey: random(30).toString('base64'),
        policies: Object.freeze(policies),
        evaluator: combineEvaluators(policies.map((p) => createIamEvaluator(p))),
      }),
    );
  }
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  const byKey = new Map([...roles.values()].map((r) => [r.accessKeyId, r]));
  return {
    roles,
    get: (logicalId) => roles.get(logicalId),
    byAccessKeyId: (accessKeyId) => byKey.get(accessKeyId),
  };
}
