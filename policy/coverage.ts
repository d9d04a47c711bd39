/**
 * Coverage: does one role hold every permission another role grants? This is the rule that keeps a
 * delegated administrator from granting more than they hold ("no one grants more than they hold").
 *
 * Exact, not approximate: `target` is covered by `holder` iff every action `target` allows, `holder`
 * allows too (deny overrides allow in both). The target's own denies count, so a role that allows
 * `aircraft:*` and denies `aircraft:delete` is within a holder of the same shape.
 *
 * Why a finite check is exact over an infinite action universe: a pattern's wildcard segments can take
 * a value no pattern of either role mentions (a "fresh" segment), and an action with fresh segments is
 * matched by a pattern only if that pattern covers the whole piece it came from. So a set of patterns
 * contains a pattern piece iff ONE of them covers it — at most 2^n + 1 candidates, each a Set lookup —
 * and a gap, when there is one, has a witness: the piece with fresh segments.
 *
 * Cost: per target allow pattern, ≤ 3 pieces × (≤ 9 lookups + one pass over the holder's denies of the
 * same length). Roles of 1,000 patterns each are the worst case (a few hundred ms); typical roles of
 * tens of patterns take microseconds. Admin operations only, never a request's hot path.
 */
import type { CompiledRole } from './compile.js';
import { ANY, MAX_SEGMENTS } from './grammar.js';

/** What a target grants that the holder does not hold. */
export interface CoverageGap {
  readonly covered: false;
  /** The target's pattern (as written) that reaches beyond the holder. */
  readonly pattern: string;
  /** `not-granted`: no pattern of the holder's allows it; `denied`: one of the holder's denies hits it. */
  readonly reason: 'not-granted' | 'denied';
  /** An action the target allows and the holder does not: a concrete example for the refusal. */
  readonly example: string;
  /** For `denied`: the holder's deny pattern. */
  readonly matched?: string;
}

/** The answer of {@link coverage}: covered, or the first gap. */
export type Coverage = { readonly covered: true } | CoverageGap;

const COVERED: Coverage = Object.freeze({ covered: true });

/** A pattern piece: a fixed number of segments, each a literal or `*`. */
type Piece = readonly string[];

/** `*` matches actions of every length: it stands for one all-wildcard piece per length. */
const ANY_PIECES: readonly Piece[] = Array.from({ length: MAX_SEGMENTS }, (_, i) =>
  Array<string>(i + 1).fill(ANY),
);

const piecesOf = (pattern: string): readonly Piece[] =>
  pattern === ANY ? ANY_PIECES : [pattern.split(':')];

/**
 * Every written pattern that covers `piece`: each subset of its literal segments replaced by `*`, and
 * `*` alone (a 1-segment all-wildcard piece joins to `*` too).
 */
function coveringPatterns(piece: Piece): string[] {
  const literals = piece.flatMap((s, i) => (s === ANY ? [] : [i]));
  const out: string[] = [];
  for (let mask = 0; mask < 1 << literals.length; mask++) {
    const segments = [...piece];
    literals.forEach((at, bit) => {
      if (mask & (1 << bit)) segments[at] = ANY;
    });
    out.push(segments.join(':'));
  }
  out.push(ANY);
  return out;
}

const coveredBy = (patterns: ReadonlySet<string>, piece: Piece) =>
  coveringPatterns(piece).some((p) => patterns.has(p));

/** The actions both pieces match, as a piece; undefined when none (different lengths or literals). */
function meet(a: Piece, b: Piece): Piece | undefined {
  if (a.length !== b.length) return undefined;
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== ANY && y !== ANY && x !== y) return undefined;
    out.push(x === ANY ? y : x);
  }
  return out;
}

/** A segment that no pattern of either role mentions, so it matches only wildcards. */
function freshSegment(roles: readonly CompiledRole[]): string {
  const used = new Set<string>();
  for (const role of roles)
    for (const p of [...role.allow, ...role.deny]) for (const s of p.split(':')) used.add(s);
  let n = 0;
  while (used.has(`x${n}`)) n++;
  return `x${n}`;
}

const example = (piece: Piece, fresh: string) =>
  piece.map((s) => (s === ANY ? fresh : s)).join(':');

/**
 * Whether `holder` holds every permission `target` grants. Without a holder (a missing role) nothing
 * is held, so any target that allows anything is refused. The first gap found is returned, in the
 * order of the target's allow list.
 */
export function coverage(holder: CompiledRole | undefined, target: CompiledRole): Coverage {
  const allows = holder?.allowSet ?? new Set<string>();
  const denies = (holder?.deny ?? []).flatMap((p) =>
    piecesOf(p).map((piece) => [p, piece] as const),
  );
  let fresh: string | undefined;
  const gap = (
    pattern: string,
    reason: CoverageGap['reason'],
    piece: Piece,
    matched?: string,
  ): CoverageGap => {
    fresh ??= freshSegment(holder ? [holder, target] : [target]);
    return Object.freeze({
      covered: false,
      pattern,
      reason,
      example: example(piece, fresh),
      ...(matched === undefined ? {} : { matched }),
    });
  };
  for (const pattern of target.allow) {
    for (const piece of piecesOf(pattern)) {
      // Wholly denied by the target itself: grants nothing.
      if (coveredBy(target.denySet, piece)) continue;
      if (!coveredBy(allows, piece)) return gap(pattern, 'not-granted', piece);
      for (const [denyPattern, denyPiece] of denies) {
        const both = meet(piece, denyPiece);
        if (both !== undefined && !coveredBy(target.denySet, both))
          return gap(pattern, 'denied', both, denyPattern);
      }
    }
  }
  return COVERED;
}
