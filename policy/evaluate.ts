/**
 * Compiled role + action → decision. Default deny, deny overrides allow, and the decision names what
 * decided it. Cost depends on the action's segment count (≤ 9 Set lookups), not on the role's size.
 */
import type { CompiledRole } from './compile.js';
import { grantingPatterns } from './grammar.js';

/**
 * Why a decision came out as it did: `allowed`; `explicit-deny` (a deny pattern matched; deny
 * overrides allow); `no-match` (no allow pattern matched); `unknown-role` (no such role).
 */
export type DecisionReason = 'allowed' | 'explicit-deny' | 'no-match' | 'unknown-role';

/** The answer of {@link evaluate} for one action. */
export interface Decision {
  readonly effect: 'allow' | 'deny';
  readonly reason: DecisionReason;
  /** The pattern that decided, for `allowed` and `explicit-deny`. */
  readonly matched?: string;
}

const NO_MATCH: Decision = Object.freeze({ effect: 'deny', reason: 'no-match' });
const UNKNOWN_ROLE: Decision = Object.freeze({ effect: 'deny', reason: 'unknown-role' });

/**
 * Decide whether `role` may perform `action`. A missing role (`undefined`) denies everything.
 * Role data problems are caught by `compileRole`; a malformed `action` is a programming error at the
 * call site, so it throws `PolicyValidationError` rather than quietly denying.
 */
export function evaluate(role: CompiledRole | undefined, action: string): Decision {
  const patterns = grantingPatterns(action);
  if (role === undefined) return UNKNOWN_ROLE;
  // One Map probe per granting pattern (≤ 9); indexed loops and precompiled, frozen decisions keep a
  // check allocation-free. Any explicit deny wins, then the most specific allow.
  const { decisions } = role;
  let allowed: Decision | undefined;
  for (let i = 0; i < patterns.length; i++) {
    const d = decisions.get(patterns[i] as string);
    if (d === undefined) continue;
    if (d.effect === 'deny') return d;
    allowed ??= d;
  }
  return allowed ?? NO_MATCH;
}
