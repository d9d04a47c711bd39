/**
 * Tenant isolation proven, not sampled: the tenant role's IAM policy (template.yaml, TenantDataRole)
 * encoded in SMT and checked by Z3 for every tenant id, user id and key (see properties.ts for the
 * properties and the request model, iam-encoding.ts for the IAM semantics).
 */
import type { IamPolicyDocument } from '../local/isolation/index.js';
import { ProofError } from './errors.js';
import { leadingKeyFields, leadingKeySlots } from './iam-encoding.js';
import {
  type Counterexample,
  ISOLATION_PROPERTIES,
  type IsolationProperty,
  PROPERTY_KEY_FIELDS,
  type ProofContext,
  Query,
} from './properties.js';
import { int, type ModelValue, str } from './smt.js';
import { openSolver, type SmtSolver } from './solver.js';

export { ProofError } from './errors.js';
export { leadingKeyFields, leadingKeySlots } from './iam-encoding.js';
export {
  type ConcreteRequest,
  type Counterexample,
  ISOLATION_PROPERTIES,
  type IsolationProperty,
  KEYED_ACTIONS,
  READ_ACTIONS,
  TENANT_TAG,
  tenantAlphabet,
  USER_TAG,
  WRITE_ACTIONS,
} from './properties.js';
export { openSolver, type SmtSolver } from './solver.js';

/**
 * The table ARN the policy's `!GetAtt Table.Arn` is resolved to for the proof. A stand-in: the policy
 * names the table only through that reference, so no account, region or table name changes the result.
 */
export const PROOF_TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/tenantgate-Table';

export interface PropertyResult {
  readonly id: string;
  readonly statement: string;
  /** `proven`: Z3 found no allowed request breaking it (unsat). */
  readonly status: 'proven' | 'violated';
  /** For `violated`: requests the policy allows that break the property. */
  readonly counterexample?: Counterexample;
  readonly milliseconds: number;
}

export interface ProofReport {
  readonly results: readonly PropertyResult[];
  /** `dynamodb:LeadingKeys` slots modeled per request (why they suffice: `leadingKeySlots`). */
  readonly leadingKeySlots: number;
  /** Places the policy was over-approximated (empty: encoded exactly). */
  readonly approximations: readonly string[];
  readonly milliseconds: number;
  /** True when every property is proven. */
  readonly proven: boolean;
}

export interface ProveOptions {
  /** The table ARN the policy's `!GetAtt Table.Arn` was resolved to. */
  readonly tableArn: string;
  /** Default: every property of `ISOLATION_PROPERTIES`. */
  readonly properties?: readonly IsolationProperty[];
  /** A solver to reuse (left open); default: one opened and closed by this call. */
  readonly solver?: SmtSolver;
  /** Per property. Default 60 s. */
  readonly timeoutMs?: number;
  /** Make counterexamples readable (see `readable`). Default true. */
  readonly readable?: boolean;
  /** Clock for the timings; default `performance.now`. */
  readonly now?: () => number;
}

/**
 * Check each isolation property of `policy`. Throws `ProofError` for invalid options, and when Z3
 * cannot decide a property (`unknown`, e.g. a timeout): that is neither a proof nor a counterexample.
 */
export async function proveTenantIsolation(
  policy: IamPolicyDocument,
  options: ProveOptions,
): Promise<ProofReport> {
  if (options.tableArn.split(':').length < 6 || !options.tableArn.startsWith('arn:'))
    throw new ProofError(`tableArn must be an ARN, got ${JSON.stringify(options.tableArn)}`);
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0))
    throw new ProofError(`timeoutMs must be positive, got ${options.timeoutMs}`);
  const now = options.now ?? (() => performance.now());
  const started = now();
  const solver = options.solver ?? (await openSolver());
  const context: ProofContext = {
    policy,
    tableArn: options.tableArn,
    slots: leadingKeySlots(policy),
    keyFields: Math.max(PROPERTY_KEY_FIELDS, leadingKeyFields(policy)),
  };
  const approximations = new Set<string>();
  const results: PropertyResult[] = [];
  try {
    for (const property of options.properties ?? ISOLATION_PROPERTIES) {
      const t0 = now();
      const query = new Query();
      const decode = property.build(query, context);
      for (const a of query.approximations) approximations.add(a);
      let answer = await solver.check(query.script(), options.timeoutMs);
      if (answer.status === 'unknown')
        throw new ProofError(`Z3 could not decide "${property.id}": ${answer.reason ?? 'unknown'}`);
      if (answer.status === 'sat' && answer.values && options.readable !== false)
        answer = { ...answer, values: await readable(solver, query, answer.values) };
      results.push({
        id: property.id,
        statement: property.statement,
        status: answer.status === 'unsat' ? 'proven' : 'violated',
        ...(answer.status === 'sat' && answer.values
          ? { counterexample: decode(answer.values) }
          : {}),
        milliseconds: now() - t0,
      });
    }
  } finally {
    if (!options.solver) await solver.close();
  }
  return {
    results,
    leadingKeySlots: context.slots,
    approximations: [...approximations],
    milliseconds: now() - started,
    proven: results.every((r) => r.status === 'proven'),
  };
}

/**
 * Z3's models favour characters like `\u{0}`. Replace every character outside printable ASCII (and
 * the space) by `x`, and keep the result only if the query still holds with every constant fixed to
 * it — a quick concrete check; otherwise the model as Z3 gave it.
 */
async function readable(
  solver: SmtSolver,
  query: Query,
  values: ReadonlyMap<string, ModelValue>,
): Promise<ReadonlyMap<string, ModelValue>> {
  const pretty = new Map(
    [...values].map(([name, v]) => [
      name,
      typeof v === 'string' ? v.replace(/[^\x21-\x7e]/gu, 'x') : v,
    ]),
  );
  const fixed = [...pretty].map(([name, v]) => `(assert (= ${name} ${literal(v)}))`);
  const check = await solver.check([query.script(), ...fixed].join('\n'), 10_000);
  return check.status === 'sat' ? pretty : values;
}

const literal = (v: ModelValue) =>
  typeof v === 'string' ? str(v) : typeof v === 'number' ? int(v) : String(v);
