/**
 * The SMT proof of tenant isolation (sam/prove): the tenant role's policy read from template.yaml is
 * proven; deliberately weakened copies of it are caught with concrete counterexamples; and on every
 * counterexample the isolation proxy's IAM judge (sam/local/isolation/iam.ts) decides as the proof
 * does — the two implementations of IAM's semantics check each other.
 *
 * One Z3 instance serves the whole file (its WASM module compiles once per process) and is closed in
 * afterAll, so the fork exits without stray worker threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_ID_PATTERN } from '../../authorizer/index.js';
import {
  evaluateIamPolicy,
  type IamPolicyDocument,
  type IamStatement,
  principalTagContext,
} from '../../sam/local/isolation/index.js';
import {
  type ConcreteRequest,
  ISOLATION_PROPERTIES,
  KEYED_ACTIONS,
  openSolver,
  PROOF_TABLE_ARN,
  ProofError,
  type ProofReport,
  type ProveOptions,
  proveTenantIsolation,
  type SmtSolver,
  TENANT_TAG,
  tenantAlphabet,
  USER_TAG,
} from '../../sam/prove/index.js';
import {
  EXPECTED,
  MUTANTS,
  statements,
  templatePolicy as template,
} from '../fixtures/policy-mutants.js';

const SLOW = 240_000; // generous: each proof takes seconds, Z3 shares 2 cores with other suites

let solver: SmtSolver;

beforeAll(async () => {
  solver = await openSolver();
}, SLOW);

afterAll(async () => {
  await solver?.close();
});

const options = {
  tableArn: PROOF_TABLE_ARN,
  get solver() {
    return solver;
  },
};
const prove = (policy: IamPolicyDocument, extra: Partial<ProveOptions> = {}) =>
  proveTenantIsolation(policy, { ...options, ...extra });

const judge = (policy: IamPolicyDocument, r: ConcreteRequest) =>
  evaluateIamPolicy(policy, {
    action: r.action,
    resource: r.resource,
    context: {
      ...principalTagContext(r.principalTags),
      ...(r.leadingKeys ? { 'dynamodb:LeadingKeys': r.leadingKeys } : {}),
    },
  }).decision;

describe('the tenant role of template.yaml', () => {
  let report: ProofReport;

  beforeAll(async () => {
    report = await prove(template);
  }, SLOW);

  it('is proven isolated: every property unsat, nothing over-approximated', () => {
    expect(report.results.map((r) => [r.id, r.status])).toEqual([
      ['own-partitions-only', 'proven'],
      ['no-shared-key', 'proven'],
      ['no-scan', 'proven'],
      ['no-partiql', 'proven'],
      ['keyed-actions-only', 'proven'],
      ['no-index', 'proven'],
      ['table-only', 'proven'],
      ['control-plane-read-only', 'proven'],
      ['no-user-profiles', 'proven'],
      ['untagged-gets-nothing', 'proven'],
    ]);
    expect(report.approximations).toEqual([]);
    // Only ForAllValues in Allow statements: one key per request loses no counterexample.
    expect(report.leadingKeySlots).toBe(1);
  });

  it('refuses options it cannot prove with, before starting Z3', async () => {
    await expect(proveTenantIsolation(template, { tableArn: 'tenantgate-Table' })).rejects.toThrow(
      ProofError,
    );
    await expect(prove(template, { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
  });

  it("models the authorizer's tenant alphabet", () => {
    expect(TENANT_ID_PATTERN.source).toBe('^[A-Za-z0-9_-]{1,64}$');
    expect(tenantAlphabet('t')).toContain('(<= (str.len t) 64)');
  });
});

describe('weakened copies of the policy are caught', () => {
  const reports = new Map<string, ProofReport>();

  // Only the properties each mutant must break: the unbroken ones are the template's proofs again.
  beforeAll(async () => {
    for (const [name, policy] of Object.entries(MUTANTS)) {
      const properties = ISOLATION_PROPERTIES.filter((p) => EXPECTED[name]?.includes(p.id));
      reports.set(name, await proveTenantIsolation(policy, { ...options, properties }));
    }
  }, SLOW * 2);

  it.each(Object.keys(MUTANTS))('%s: a counterexample for each property it breaks', (name) => {
    const report = reports.get(name) as ProofReport;
    const violated = report.results.filter((r) => r.status === 'violated').map((r) => r.id);
    expect(violated).toEqual(EXPECTED[name]);
    for (const r of report.results.filter((x) => x.status === 'violated')) {
      for (const request of r.counterexample?.requests ?? []) {
        const tenant = request.principalTags[TENANT_TAG];
        if (tenant !== undefined) expect(tenant).toMatch(TENANT_ID_PATTERN);
        expect(request.principalTags[USER_TAG]).toMatch(/^[^#]+$/);
      }
    }
  });

  it('names the breach concretely (tenant id, action, key)', () => {
    const noSeparator = reports
      .get('TENANT#<tag>* (no separator)')
      ?.results.find((r) => r.id === 'no-shared-key')?.counterexample;
    const [a, b] = noSeparator?.requests ?? [];
    const key = a?.leadingKeys?.find((k) => b?.leadingKeys?.includes(k));
    // Tenant ids "x" and "xy" (some prefix pair) both reach TENANT#xy…: the missing separator.
    const ta = a?.principalTags[TENANT_TAG] ?? '';
    const tb = b?.principalTags[TENANT_TAG] ?? '';
    expect(ta).not.toBe(tb);
    expect(key?.startsWith(`TENANT#${ta}`) && key.startsWith(`TENANT#${tb}`)).toBe(true);

    const scan = reports.get('Scan added')?.results.find((r) => r.id === 'no-scan')?.counterexample;
    expect(scan?.requests[0]?.action).toBe('dynamodb:Scan');
    expect(scan?.requests[0]?.leadingKeys).toBeUndefined(); // ForAllValues over no key: true

    const anyValue = reports
      .get('ForAnyValue instead of ForAllValues')
      ?.results.find((r) => r.id === 'own-partitions-only')?.counterexample;
    const batch = anyValue?.requests[0];
    expect(['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem']).toContain(batch?.action);
    expect(batch?.leadingKeys?.length).toBeGreaterThan(1);

    const index = reports
      .get('Resource * (index reachable)')
      ?.results.find((r) => r.id === 'no-index')?.counterexample;
    expect(index?.requests[0]?.resource).toMatch(
      new RegExp(`^${PROOF_TABLE_ARN.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/index/.+`),
    );
  });

  it('the IAM judge of the isolation proxy agrees on every counterexample', () => {
    const disagreements: string[] = [];
    const refusedByTemplate: string[] = [];
    for (const [name, report] of reports) {
      const policy = MUTANTS[name] as IamPolicyDocument;
      for (const r of report.results) {
        for (const request of r.counterexample?.requests ?? []) {
          const decision = judge(policy, request);
          const expected =
            name === 'StringLike without ForAllValues' && request.leadingKeys
              ? // A bare operator over a multivalued key is undocumented in IAM: the proof reads it
                // as "some value matches" (the widest reading, sound for a proof), the judge fails
                // closed (the local stack never lets through what AWS might refuse).
                'implicit-deny'
              : 'allow';
          if (decision !== expected)
            disagreements.push(
              `${name} / ${r.id}: judge ${decision} on ${JSON.stringify(request)}`,
            );
          if (judge(template, request) === 'allow' && r.id !== 'no-shared-key')
            refusedByTemplate.push(
              `${name} / ${r.id}: the template allows ${JSON.stringify(request)}`,
            );
        }
      }
    }
    expect(disagreements).toEqual([]);
    // And the real policy refuses each breaking request (a shared key needs both requests allowed).
    expect(refusedByTemplate).toEqual([]);
  });
});

describe('IAM semantics the encoding must get right', () => {
  it(
    'an explicit Deny wins over an Allow',
    async () => {
      const denyScan: IamStatement = {
        Effect: 'Deny',
        Action: 'dynamodb:Scan',
        Resource: '*',
      };
      const policy = { ...(MUTANTS['Scan added'] as IamPolicyDocument) };
      const report = await proveTenantIsolation(
        { ...policy, Statement: [...statements(policy), denyScan] },
        { tableArn: PROOF_TABLE_ARN, solver },
      );
      expect(report.results.find((r) => r.id === 'no-scan')?.status).toBe('proven');
    },
    SLOW,
  );

  it(
    'NotAction and NotResource: a Deny of everything but the keyed actions on the table',
    async () => {
      const broad: IamStatement = {
        Effect: 'Allow',
        Action: 'dynamodb:*',
        Resource: '*',
        Condition: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [`TENANT#\${aws:PrincipalTag/${TENANT_TAG}}`],
          },
        },
      };
      const fence: IamStatement[] = [
        { Effect: 'Deny', NotAction: [...KEYED_ACTIONS], Resource: '*' },
        { Effect: 'Deny', Action: '*', NotResource: PROOF_TABLE_ARN },
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { Null: { 'dynamodb:LeadingKeys': 'true' } },
        },
      ];
      const open = await prove({ Version: '2012-10-17', Statement: [broad] });
      expect(open.results.find((r) => r.id === 'keyed-actions-only')?.status).toBe('violated');
      const fenced = await prove({ Version: '2012-10-17', Statement: [broad, ...fence] });
      expect(fenced.proven).toBe(true);
    },
    SLOW,
  );

  it(
    'without Version 2012-10-17 policy variables are literal text: even an untagged principal reaches them',
    async () => {
      const { Version: _, ...unversioned } = template;
      const untagged = ISOLATION_PROPERTIES.filter((p) => p.id === 'untagged-gets-nothing');
      const report = await proveTenantIsolation(unversioned, { ...options, properties: untagged });
      const [request] = report.results[0]?.counterexample?.requests ?? [];
      expect(
        request?.leadingKeys?.every((k) => k.includes(`\${aws:PrincipalTag/${TENANT_TAG}}`)),
      ).toBe(true);
    },
    SLOW,
  );
});
