/**
 * `npm run prove`: prove tenant isolation for the tenant role's policy as template.yaml declares it.
 * Exit code 0 when every property is proven, 1 when one is violated (its counterexample printed),
 * 2 when the policy cannot be read or Z3 cannot decide.
 *
 * The table ARN is a stand-in: the policy names the table only through `!GetAtt Table.Arn`, so the
 * proof does not depend on the account, region or table name a deployment gets.
 */
import { tenantRolePolicy } from '../local/isolation/index.js';
import { loadTemplate, TEMPLATE_PATH } from '../template.js';
import { PROOF_TABLE_ARN, type ProofReport, proveTenantIsolation } from './index.js';

/** The report as text: one line per property, the counterexample under a violated one. */
export function formatReport(report: ProofReport): string {
  const lines = report.results.map((r) => {
    const head = `${r.status === 'proven' ? 'PROVEN  ' : 'VIOLATED'} ${r.id.padEnd(24)} ${Math.round(r.milliseconds).toString().padStart(6)} ms  ${r.statement}`;
    return r.counterexample
      ? `${head}\n         counterexample: ${r.counterexample.summary}`
      : head;
  });
  const notes = report.approximations.length
    ? [
        `over-approximated (sound, may give spurious counterexamples):`,
        ...report.approximations.map((a) => `  - ${a}`),
      ]
    : ['encoded exactly (no over-approximation)'];
  return [
    ...lines,
    `${report.leadingKeySlots} dynamodb:LeadingKeys slot(s) per request; ${notes.join('\n')}`,
    `${report.proven ? 'all properties proven' : 'NOT proven'} in ${(report.milliseconds / 1000).toFixed(1)} s`,
  ].join('\n');
}

async function main(): Promise<number> {
  const policy = tenantRolePolicy(loadTemplate(), PROOF_TABLE_ARN);
  console.log(
    `tenant isolation of TenantDataRole (${TEMPLATE_PATH}), ${await z3Version()}, Node ${process.version}`,
  );
  const report = await proveTenantIsolation(policy, { tableArn: PROOF_TABLE_ARN });
  console.log(formatReport(report));
  return report.proven ? 0 : 1;
}

async function z3Version(): Promise<string> {
  const { createRequire } = await import('node:module');
  const pkg = createRequire(import.meta.url)('z3-solver/package.json') as { version: string };
  return `z3-solver ${pkg.version}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 2;
    },
  );
}
