/**
 * Policy checks against peers given equivalent rules: @casl/ability (compiled rules), casbin
 * (model + policy lines) and Cedar (cedar-wasm, policies preparsed once). The workload is 2-segment
 * actions `res<i>:<verb>`; a role of n patterns allows `res<i>:*` (every third) or `res<i>:read`, and
 * denies `res<7j>:delete`. Every engine must reach the same decision as ours on the whole workload
 * before anything is timed.
 */
import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { preparsePolicySet, statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import { newEnforcer, newModel } from 'casbin';
import { compileRole, evaluate } from '../policy/index.js';

export interface PeerResult {
  readonly engine: string;
  readonly patterns: number;
  readonly nanosPerCheck: number;
}

const VERBS = ['read', 'write', 'delete'] as const;

function workload(n: number) {
  const allow: string[] = [];
  for (let i = 0; i < n; i++) allow.push(i % 3 === 0 ? `res${i}:*` : `res${i}:read`);
  const deny: string[] = [];
  for (let j = 0; j < Math.ceil(n / 10); j++) deny.push(`res${j * 7}:delete`);
  const checks = Array.from({ length: 300 }, (_, k) => ({
    res: `res${(k * 37) % (n * 2)}`,
    verb: VERBS[k % 3] ?? 'read',
  }));
  return { allow, deny, checks };
}

const split = (p: string) => {
  const [res = '', verb = ''] = p.split(':');
  return { res, verb };
};

function time(run: (k: number) => boolean, iterations: number): number {
  let sink = 0;
  // Warm-up by time, not count: the engine timed first was still running unoptimised code during its
  // samples (V8 compiles in the background, slowly on 2 busy cores): ours read 383–759 ns at 10
  // patterns that way, ~100 ns once warm. 300 ms of calls first, then the samples.
  const until = performance.now() + 300;
  for (let k = 0; k < iterations * 2 || performance.now() < until; k++) if (run(k)) sink++;
  const samples: number[] = [];
  for (let b = 0; b < 15; b++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < iterations; k++) if (run(k)) sink++;
    samples.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  if (sink < 0) console.log(sink);
  return [...samples].sort((a, b) => a - b)[7] ?? 0;
}

export async function runPolicyPeers(sizes = [10, 100, 1000]): Promise<PeerResult[]> {
  const results: PeerResult[] = [];
  for (const n of sizes) {
    const { allow, deny, checks } = workload(n);
    const ours = compileRole({ tenantId: 't', roleId: 'r', name: 'R', allow, deny, version: 1 });
    // Callers pass action literals ('aircraft:update'), so the strings exist before the check, as
    // CASL's (action, subject) pairs do.
    const actions = checks.map((c) => `${c.res}:${c.verb}`);
    const oursCheck = (k: number) =>
      evaluate(ours, actions[k % actions.length] ?? '').effect === 'allow';

    const { can, cannot, build } = new AbilityBuilder(createMongoAbility);
    for (const p of allow) {
      const { res, verb } = split(p);
      can(verb === '*' ? 'manage' : verb, res);
    }
    for (const p of deny) {
      const { res, verb } = split(p);
      cannot(verb, res); // later inverted rules take precedence: deny overrides
    }
    const ability = build();
    const caslCheck = (k: number) => {
      const c = checks[k % checks.length];
      return ability.can(c?.verb ?? '', c?.res ?? '');
    };

    const model = newModel(`
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act, eft
[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
[matchers]
m = r.sub == p.sub && r.obj == p.obj && (p.act == "*" || r.act == p.act)
`);
    const enforcer = await newEnforcer(model);
    for (const p of allow) await enforcer.addPolicy('r', split(p).res, split(p).verb, 'allow');
    for (const p of deny) await enforcer.addPolicy('r', split(p).res, split(p).verb, 'deny');
    const casbinCheck = (k: number) => {
      const c = checks[k % checks.length];
      return enforcer.enforceSync('r', c?.res, c?.verb);
    };

    const cedarText = [
      ...allow.map((p) => {
        const { res, verb } = split(p);
        return verb === '*'
          ? `permit(principal, action, resource == Res::"${res}");`
          : `permit(principal, action == Action::"${verb}", resource == Res::"${res}");`;
      }),
      ...deny.map(
        (p) =>
          `forbid(principal, action == Action::"${split(p).verb}", resource == Res::"${split(p).res}");`,
      ),
    ].join('\n');
    const psetId = `role-${n}`;
    const parsed = preparsePolicySet(psetId, { staticPolicies: cedarText });
    if (parsed.type !== 'success') throw new Error(`cedar parse failed: ${JSON.stringify(parsed)}`);
    const cedarCheck = (k: number) => {
      const c = checks[k % checks.length];
      const answer = statefulIsAuthorized({
        principal: { type: 'User', id: 'u' },
        action: { type: 'Action', id: c?.verb ?? '' },
        resource: { type: 'Res', id: c?.res ?? '' },
        context: {},
        preparsedPolicySetId: psetId,
        entities: [],
      });
      return answer.type === 'success' && answer.response.decision === 'allow';
    };

    // Same decisions first: a timing of engines that disagree would compare different work.
    let allowed = 0;
    for (let k = 0; k < checks.length; k++) {
      const expected = oursCheck(k);
      if (expected) allowed++;
      for (const [name, check] of [
        ['CASL', caslCheck],
        ['casbin', casbinCheck],
        ['cedar', cedarCheck],
      ] as const) {
        if (check(k) !== expected)
          throw new Error(`${name} disagrees at n=${n} on ${JSON.stringify(checks[k])}`);
      }
    }
    if (allowed === 0 || allowed === checks.length) throw new Error('degenerate workload');

    // A discarded round for ours and CASL first: in the full run, ours — timed first in this fresh
    // process — read 756 ns at 10 patterns and 39 at 100, while the in-process policy bench read 50:
    // V8 was still compiling (cedar-wasm's module tiers up in the background after the decision check
    // above) on two busy cores. Timing each again after that keeps the comparison to warm code.
    time(oursCheck, 20_000);
    time(caslCheck, 20_000);
    results.push(
      { engine: 'tenantgate', patterns: n, nanosPerCheck: time(oursCheck, 20_000) },
      { engine: '@casl/ability', patterns: n, nanosPerCheck: time(caslCheck, 20_000) },
      { engine: 'casbin', patterns: n, nanosPerCheck: time(casbinCheck, n >= 1000 ? 200 : 2000) },
      { engine: 'cedar-wasm', patterns: n, nanosPerCheck: time(cedarCheck, n >= 1000 ? 100 : 500) },
    );
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runPolicyPeers();
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(results));
  else console.table(results);
}
