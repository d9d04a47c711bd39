/**
 * IAM string patterns as SMT formulas: `StringLike`'s `*` (any sequence, empty included) and `?`
 * (exactly one character), `StringEquals`' literal text, and policy variables (`${aws:PrincipalTag/x}`)
 * whose value is a symbolic string.
 *
 * Z3's string solver decides ground regular expressions well, but not much beyond, and the encoding
 * is shaped by what it answers in seconds rather than never (all measured here, z3-solver 5.2):
 * - a variable inside a regular expression (`(str.to_re tag)`) ran for over ten minutes;
 * - `"TENANT#"++a++"#"++x = "TENANT#"++b++"#"++y` with `a`, `b` free of `#` and `a ≠ b` — the heart of
 *   "no key is shared by two tenants" — timed out, and so did every mix of `str.prefixof` with an
 *   equation under a disjunction;
 * - the same questions asked over the value's `#`-separated *fields* (`str.indexof` of each `#`,
 *   `str.substr` between them) answer in about a second: two tenants reaching one key must equal the
 *   same field of it, which is plain congruence.
 *
 * So a pattern is matched field by field while it is anchored (no wildcard yet) and its variables are
 * known to hold no `#` (the tenant alphabet, the user-id assumption); the rest, from the field where a
 * wildcard or another variable appears, is matched as a glob: split at its `*`s, the first segment a
 * prefix, the last a suffix, the ones between found left to right with `str.indexof` (leftmost
 * placement is complete). Every formula is a function of the value — no existential positions — so it
 * stays exact under negation (Deny, NotAction, `StringNotLike`, a property's "outside the partitions").
 */
import { and, plus, str, type Term, TRUE } from './smt.js';

/** A pattern token before variables are resolved. */
export type Token =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'one' }
  | { readonly kind: 'var'; readonly key: string; readonly fallback?: string };

/** A token once variables are resolved: literal text, a symbolic string, `*` or `?`. */
export type Piece =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'term'; readonly term: Term; readonly separatorFree?: boolean }
  | { readonly kind: 'star' }
  | { readonly kind: 'one' };

/** The field separator of the table's keys (`TENANT#<t>#…`); tenant ids never contain it. */
export const SEPARATOR = '#';

/**
 * What a policy variable stands for: a symbolic string, a key the request never carries (the
 * variable has no value, as IAM defines it), or a key this prover does not model.
 */
export type VariableValue =
  | { readonly kind: 'term'; readonly term: Term; readonly separatorFree?: boolean }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unmodeled' };

/** Resolves a lowercased context key name. */
export type Variables = (key: string) => VariableValue;

/**
 * Split a pattern into tokens. With `variables` (a `2012-10-17` document), `${key}` and
 * `${key, 'default'}` are variables and `${*}` `${?}` `${$}` the escaped characters; otherwise `${…}`
 * is literal text. A `${…}` that is not a well-formed variable makes the whole pattern `undefined`.
 */
export function tokenize(source: string, variables: boolean): Token[] | undefined {
  const tokens: Token[] = [];
  let text = '';
  const flush = () => {
    if (text !== '') tokens.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const end = source.indexOf('}', i);
    if (c === '*' || c === '?') {
      flush();
      tokens.push({ kind: c === '*' ? 'star' : 'one' });
    } else if (variables && c === '$' && source[i + 1] === '{' && end > 0) {
      const inner = source.slice(i + 2, end);
      i = end;
      if (inner === '*' || inner === '?' || inner === '$') {
        text += inner;
        continue;
      }
      const m = /^\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$/.exec(inner);
      if (!m?.[1]) return undefined;
      flush();
      const fallback = m[2]?.replace(/''/g, "'");
      tokens.push({
        kind: 'var',
        key: m[1].toLowerCase(),
        ...(fallback === undefined ? {} : { fallback }),
      });
    } else text += c;
  }
  flush();
  return tokens;
}

/**
 * Substitute variables. `absent` when a variable has no value and no default (IAM: a positive
 * condition then does not match, a resource matches nothing); `unmodeled` when one is not modeled.
 */
export function resolvePieces(
  tokens: readonly Token[],
  variables: Variables,
): Piece[] | 'absent' | 'unmodeled' {
  const pieces: Piece[] = [];
  for (const t of tokens) {
    if (t.kind !== 'var') {
      pieces.push(t);
      continue;
    }
    const value = variables(t.key);
    if (value.kind === 'unmodeled') return 'unmodeled';
    if (value.kind === 'term') pieces.push(value);
    else if (t.fallback !== undefined) pieces.push({ kind: 'text', text: t.fallback });
    else return 'absent';
  }
  return pieces;
}

/** A `*`-free run of pieces: its length and the formula "it sits at `offset` of `value`". */
function lengthOf(segment: readonly Piece[]): Term {
  return plus(
    ...segment.map((p) =>
      p.kind === 'text'
        ? String(Array.from(p.text).length)
        : p.kind === 'term'
          ? `(str.len ${p.term})`
          : '1',
    ),
  );
}

function sitsAt(value: Term, segment: readonly Piece[], offset: Term): Term {
  const parts: Term[] = [];
  let at = offset;
  for (const p of segment) {
    const len = lengthOf([p]);
    if (p.kind === 'text') parts.push(`(= (str.substr ${value} ${at} ${len}) ${str(p.text)})`);
    if (p.kind === 'term') parts.push(`(= (str.substr ${value} ${at} ${len}) ${p.term})`);
    at = plus(at, len);
  }
  return and(...parts);
}

/** The segment as one string term; only for segments without `?`. */
function concat(segment: readonly Piece[]): Term {
  const parts = segment.map((p) =>
    p.kind === 'text' ? str(p.text) : p.kind === 'term' ? p.term : '',
  );
  if (parts.length === 0) return '""';
  return parts.length === 1 ? (parts[0] as Term) : `(str.++ ${parts.join(' ')})`;
}

/** Whether `likeFormula` covers the pattern: no `?` in a segment between two `*`s. */
export function isLikeModeled(pieces: readonly Piece[]): boolean {
  const kinds = pieces.map((p) => p.kind);
  const first = kinds.indexOf('star');
  return first < 0 || !kinds.slice(first, kinds.lastIndexOf('star')).includes('one');
}

/**
 * `value` matches the `StringLike` pattern. Returns `undefined` for the one shape this encoding does
 * not cover: a `?` in a segment between two `*`s (no leftmost `str.indexof` for it).
 */
export function likeFormula(value: Term, pieces: readonly Piece[]): Term | undefined {
  const units = splitSeparators(pieces);
  const parts: Term[] = [];
  let field = 0;
  let current: Piece[] = [];
  for (const [i, u] of units.entries()) {
    if (u === SEPARATOR_UNIT && current.every(isFieldPiece)) {
      parts.push(`(>= ${separatorAt(value, field + 1)} 0)`);
      parts.push(`(= ${fieldUpTo(value, field)} ${concat(current)})`);
      field++;
      current = [];
    } else if (u !== SEPARATOR_UNIT && isFieldPiece(u)) current.push(u);
    else {
      // A wildcard or a variable that may hold `#`: the rest, from this field's start, as a glob.
      const rest = [...current, ...units.slice(i).map(asPiece)];
      const glob = globFormula(field === 0 ? value : restFrom(value, field), rest);
      return glob === undefined ? undefined : and(...parts, glob);
    }
  }
  if (field === 0) return `(= ${value} ${concat(current)})`;
  return and(
    ...parts,
    `(< ${separatorAt(value, field + 1)} 0)`,
    `(= ${restFrom(value, field)} ${concat(current)})`,
  );
}

const SEPARATOR_UNIT: unique symbol = Symbol('separator');
type Unit = Piece | typeof SEPARATOR_UNIT;

/** Text pieces split at each separator, which becomes a unit of its own. */
function splitSeparators(pieces: readonly Piece[]): Unit[] {
  return pieces.flatMap((p): Unit[] => {
    if (p.kind !== 'text' || !p.text.includes(SEPARATOR)) return [p];
    return p.text.split(SEPARATOR).flatMap((text, i): Unit[] => {
      const units: Unit[] = i > 0 ? [SEPARATOR_UNIT] : [];
      if (text) units.push({ kind: 'text', text });
      return units;
    });
  });
}

const asPiece = (u: Unit): Piece => (u === SEPARATOR_UNIT ? { kind: 'text', text: SEPARATOR } : u);

/** Literal text, or a variable known to hold no separator: what a field can be compared with. */
const isFieldPiece = (p: Piece): boolean =>
  p.kind === 'text' || (p.kind === 'term' && p.separatorFree === true);

/** Position of the value's n-th separator (n ≥ 1), or -1. Meaningful when the (n-1)-th exists. */
function separatorAt(value: Term, n: number): Term {
  const from = n === 1 ? '0' : `(+ ${separatorAt(value, n - 1)} 1)`;
  return `(str.indexof ${value} ${str(SEPARATOR)} ${from})`;
}

const fieldStart = (value: Term, field: number): Term =>
  field === 0 ? '0' : `(+ ${separatorAt(value, field)} 1)`;

/** The value's field `field`, when a separator follows it. */
function fieldUpTo(value: Term, field: number): Term {
  const start = fieldStart(value, field);
  return `(str.substr ${value} ${start} (- ${separatorAt(value, field + 1)} ${start}))`;
}

/** The value from field `field` to its end. */
function restFrom(value: Term, field: number): Term {
  const start = fieldStart(value, field);
  return `(str.substr ${value} ${start} (- (str.len ${value}) ${start}))`;
}

/** `value` matches the glob (`*`, `?`); undefined for a `?` between two `*`s. */
function globFormula(value: Term, pieces: readonly Piece[]): Term | undefined {
  const segments: Piece[][] = [[]];
  for (const p of pieces) {
    if (p.kind === 'star') segments.push([]);
    else segments[segments.length - 1]?.push(p);
  }
  const first = segments[0] as Piece[];
  if (segments.length === 1) {
    if (!hasOne(first)) return `(= ${value} ${concat(first)})`;
    return and(`(= (str.len ${value}) ${lengthOf(first)})`, sitsAt(value, first, '0'));
  }
  const last = segments[segments.length - 1] as Piece[];
  const middle = segments.slice(1, -1).filter((s) => s.length > 0);
  if (middle.some(hasOne)) return undefined;
  const len = `(str.len ${value})`;
  const lastStart = `(- ${len} ${lengthOf(last)})`;
  const parts: Term[] = [
    first.length && last.length ? `(>= ${len} ${plus(lengthOf(first), lengthOf(last))})` : TRUE,
    first.length === 0
      ? TRUE
      : hasOne(first)
        ? sitsAt(value, first, '0')
        : `(str.prefixof ${concat(first)} ${value})`,
    last.length === 0
      ? TRUE
      : hasOne(last)
        ? and(`(>= ${len} ${lengthOf(last)})`, sitsAt(value, last, lastStart))
        : `(str.suffixof ${concat(last)} ${value})`,
  ];
  let from: Term = lengthOf(first);
  for (const segment of middle) {
    const at = `(str.indexof ${value} ${concat(segment)} ${from})`;
    from = plus(at, lengthOf(segment));
    parts.push(`(>= ${at} 0)`, `(<= ${from} ${lastStart})`);
  }
  return and(...parts);
}

const hasOne = (segment: readonly Piece[]) => segment.some((p) => p.kind === 'one');

/** `value` equals the pattern read literally (`StringEquals`: `*` and `?` are plain characters). */
export function equalsFormula(value: Term, pieces: readonly Piece[]): Term {
  const literal = pieces.map(
    (p): Piece =>
      p.kind === 'star'
        ? { kind: 'text', text: '*' }
        : p.kind === 'one'
          ? { kind: 'text', text: '?' }
          : p,
  );
  return likeFormula(value, literal) as Term; // no wildcard left: never undefined
}

/** A fully literal `StringLike` pattern (actions): the same encoding, no variables. */
export function literalLike(value: Term, pattern: string): Term {
  const tokens = tokenize(pattern, false) ?? [];
  const formula = likeFormula(value, tokens as Piece[]);
  if (formula !== undefined) return formula;
  // `?` between stars in a literal pattern: a ground regular expression, which Z3 decides well.
  return `(str.in_re ${value} ${groundRegex(tokens)})`;
}

function groundRegex(tokens: readonly Token[]): Term {
  const parts = tokens.map((t) =>
    t.kind === 'star'
      ? '(re.* re.allchar)'
      : t.kind === 'one'
        ? 're.allchar'
        : `(str.to_re ${str(t.kind === 'text' ? t.text : '')})`,
  );
  return parts.length === 0 ? '(str.to_re "")' : `(re.++ ${parts.join(' ')} (str.to_re ""))`;
}
