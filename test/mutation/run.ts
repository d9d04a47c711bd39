/**
 * `npm run mutate -- [group…] [--full]`: StrykerJS over the security core, one group at a time (policy,
 * authorizer, tenants; all three by default), then the share of mutants killed per file and per group from the
 * JSON reports in reports/mutation/ (git-ignored). Exits non-zero when a group is under 90%.
 * Not part of CI. See test/MUTATION.md for the figures and the survivors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const GROUPS = ['policy', 'authorizer', 'tenants'] as const;
const BREAK = 90;
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Report {
  files: Record<string, { mutants: { status: string }[] }>;
}

/** Stryker's mutation score: killed (incl. timeouts) over every mutant that ran or had no test. */
export function score(statuses: readonly string[]) {
  const count = (s: string) => statuses.filter((x) => x === s).length;
  const detected = count('Killed') + count('Timeout');
  const undetected = count('Survived') + count('NoCoverage');
  const total = detected + undetected;
  return { detected, undetected, total, percent: total === 0 ? 100 : (100 * detected) / total };
}

const line = (name: string, s: ReturnType<typeof score>) =>
  `${name.padEnd(28)} ${s.percent.toFixed(1).padStart(6)}%  ${String(s.detected).padStart(4)} killed  ${String(s.undetected).padStart(3)} survived`;

// `--full` ignores the incremental file, as a fresh clone does: an incremental run reuses results of
// whatever run wrote that file, while the figures in test/MUTATION.md are to be reproduced from scratch.
const full = process.argv.includes('--full');
const requested = process.argv.slice(2).filter((a) => a !== '--full');
const unknown = requested.filter((g) => !(GROUPS as readonly string[]).includes(g));
if (unknown.length > 0) {
  console.error(`unknown group(s): ${unknown.join(', ')}; groups are ${GROUPS.join(', ')}`);
  process.exit(2);
}
const groups = requested.length > 0 ? requested : [...GROUPS];

const started = Date.now();
const summary: string[] = [];
let failed = false;
for (const group of groups) {
  const t0 = Date.now();
  const args = ['stryker', 'run', `test/mutation/stryker.${group}.config.mjs`];
  spawnSync('npx', full ? [...args, '--force'] : args, {
    cwd: root,
    stdio: 'inherit',
  });
  const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
  const file = `${root}reports/mutation/${group}.json`;
  if (!existsSync(file)) {
    summary.push(`${group}: no report (Stryker failed, see above)`);
    failed = true;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  const all: string[] = [];
  summary.push(`${group} (${minutes} min)`);
  for (const [path, { mutants }] of Object.entries(report.files).sort()) {
    const statuses = mutants.map((m) => m.status);
    all.push(...statuses);
    summary.push(`  ${line(path, score(statuses))}`);
  }
  const total = score(all);
  summary.push(`  ${line(`${group}/ (all)`, total)}`);
  if (total.percent < BREAK) failed = true;
}
console.log(`\nmutation scores (${((Date.now() - started) / 60_000).toFixed(1)} min in all)`);
console.log(summary.join('\n'));
process.exit(failed ? 1 : 0);
