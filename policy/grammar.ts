/**
 * Actions and patterns. An action is 1 to 3 segments joined by `:` (`aircraft:update`,
 * `billing:invoice:read`), a segment `[a-z0-9][a-z0-9_-]*`. In a pattern a whole segment may be `*`
 * (any one segment), and `*` alone matches every action. Nothing else is a wildcard.
 */
import { type PolicyIssue, PolicyValidationError } from './errors.js';

/** Most `:`-separated segments in an action or pattern (`billing:invoice:read`). */
export const MAX_SEGMENTS = 3;
/** Longest action or pattern, in characters. */
export const MAX_LENGTH = 128;
/** The pattern that matches every action. */
export const ANY = '*';

const SEGMENT = /^[a-z0-9][a-z0-9_-]*$/;

/** Why `value` is not a valid action (or pattern, with `wildcards`), or undefined when it is. */
export function actionProblem(value: unknown, wildcards = false): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_LENGTH) return `must be at most ${MAX_LENGTH} characters`;
  // `*` alone needs no case of its own: it is one segment, and a whole-segment `*` passes below.
  const segments = value.split(':');
  if (segments.length > MAX_SEGMENTS)
    return `must have at most ${MAX_SEGMENTS} segments separated by ":"`;
  for (const segment of segments) {
    if (wildcards && segment === ANY) continue;
    if (!SEGMENT.test(segment)) {
      return wildcards
        ? `segment "${segment}" must be "*" or match [a-z0-9][a-z0-9_-]*`
        : `segment "${segment}" must match [a-z0-9][a-z0-9_-]*`;
    }
  }
  return undefined;
}

/** Whether `value` is a concrete action (no wildcard): 1–3 segments of `[a-z0-9][a-z0-9_-]*`. */
export const isAction = (value: unknown): value is string => actionProblem(value) === undefined;
/** Whether `value` is an allow/deny pattern: an action where a whole segment may be `*`, or `*` alone. */
export const isPattern = (value: unknown): value is string =>
  actionProblem(value, true) === undefined;

/**
 * A value for an error message. Never throws: `JSON.stringify` does on a BigInt or a cycle, and a bad
 * value must become a `PolicyValidationError`, not a TypeError.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** @throws PolicyValidationError naming the action and what is wrong with it. */
export function assertAction(value: unknown, field = 'action'): asserts value is string {
  const problem = actionProblem(value);
  if (problem !== undefined) {
    const issue: PolicyIssue = { field, value, message: `${describeValue(value)} ${problem}` };
    throw new PolicyValidationError([issue]);
  }
}

/**
 * Granting patterns are memoised per action: an application has a small, fixed vocabulary of actions,
 * so after the first check an evaluation is one Map lookup plus at most 9 Set lookups. Bounded so a
 * caller feeding unbounded distinct actions cannot grow memory.
 */
const memo = new Map<string, readonly string[]>();
const MEMO_LIMIT = 10_000;

function popcount(m: number): number {
  let c = 0;
  for (let x = m; x; x &= x - 1) c++;
  return c;
}

/**
 * Per segment count n, the masks of segments to replace by `*`, fewest first (exact grant first), in a
 * fixed order; built once at load. For n = 1 the all-`*` mask is `*` itself, added last anyway.
 * Masks of equal count stay in ascending order with no tie-break: `sort` is stable (ES2019) and they
 * arrive ascending (a tie-break `|| a - b` was redundant; mutation testing showed it decided nothing).
 */
const MASKS: readonly (readonly number[])[] = Array.from({ length: MAX_SEGMENTS + 1 }, (_, n) =>
  Array.from({ length: 1 << n }, (_, m) => m)
    .filter((m) => n > 1 || m === 0)
    .sort((a, b) => popcount(a) - popcount(b)),
);

/**
 * Every pattern that matches `action`, most specific first: each subset of its segments replaced by
 * `*`, then `*` alone — at most 2^n + 1 patterns for n segments.
 * @throws PolicyValidationError when `action` is not a valid action.
 */
export function grantingPatterns(action: string): readonly string[] {
  const known = memo.get(action);
  if (known !== undefined) return known;
  assertAction(action);
  const segments = action.split(':');
  const patterns: string[] = [];
  for (const mask of MASKS[segments.length] ?? []) {
    patterns.push(segments.map((s, i) => (mask & (1 << i) ? ANY : s)).join(':'));
  }
  patterns.push(ANY);
  const frozen = Object.freeze(patterns);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(action, frozen);
  return frozen;
}
