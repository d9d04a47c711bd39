/**
 * Policy checks per role size: evaluate() must stay flat from 10 to 1,000 patterns, and compile must
 * stay linear. Medians of batches; peers (CASL, cedar-wasm, casbin) belong to the full benchmark.
 */
import { compileRole, evaluate } from '../policy/index.js';

export interface PolicyEvalResult {
  readonly patterns: number;
  readonly evaluateNanos: number;
  readonly compileMicros: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export function runPolicyEval(sizes = [10, 100, 1000]): PolicyEvalResult[] {
  return sizes.map((n) => {
    const allow = Array.from({ length: n }, (_, i) => `res${i}:${i % 3 === 0 ? '*' : 'read'}`);
    const deny = Array.from({ length: Math.ceil(n / 10) }, (_, i) => `res${i * 7}:delete`);
    const doc = { tenantId: 't', roleId: 'r', name: 'R', allow, deny, version: 1 };
    const compileSamples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const s = process.hrtime.bigint();
      compileRole(doc);
      compileSamples.push(Number(process.hrtime.bigint() - s) / 1000);
    }
    const role = compileRole(doc);
    const actions = Array.from(
      { length: 64 },
      (_, i) => `res${(i * 37) % (n * 2)}:${['read', 'write', 'delete'][i % 3]}`,
    );
    let sink = 0;
    const samples: number[] = [];
    for (let b = 0; b < 60; b++) {
      const s = process.hrtime.bigint();
      for (let k = 0; k < 20_000; k++)
        if (evaluate(role, actions[k & 63] ?? '').effect === 'allow') sink++;
      samples.push(Number(process.hrtime.bigint() - s) / 20_000);
    }
    if (sink < 0) console.log(sink);
    return {
      patterns: n,
      evaluateNanos: median(samples.slice(10)),
      compileMicros: median(compileSamples),
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(runPolicyEval());
