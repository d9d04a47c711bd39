/**
 * IAM string patterns as SMT formulas: `StringLike`'s `*` (any sequence, empty included) and `?`
 * (exactly one character), `StringEquals`' literal text, and policy variables (`${aws:PrincipalTag/x}`)
 * whose value is a symbolic string.
 *
 * Z3's string solver decides ground regular expressions and simple word equations well, but not much
 * beyond, and this encoding is shaped by what it answered in seconds rather than never (z3-solver 5.2,
 * measured here):
 * - a variable inside a regular expression (`(str.to_re tag)`) ran for over ten minutes;
 * - `"TENANT#"++a++"#"++x = "TENANT#"++b++"#"++y` with `a`, `b` free of `#` and `a ≠ b` — the heart of
 *   "no key is shared by two tenants" — timed out, as did `str.prefixof` mixed with equations;
 * - fields cut out of an opaque key with `str.indexof`/`str.substr` proved quickly but took tens of
 *   seconds, or timed out, to *find* counterexamples.
 *
 * So a DynamoDB key is not an opaque string here: it is declared by its `#`-separated fields
 * (`KeyFields`: the number of separators, the first fields — each free of `#` — and the rest). Any
 * string has exactly one such form, so nothing is lost; and a pattern anchored at the start (no
 * wildcard yet) whose variables hold no `#` (the tenant alphabet, the user-id assumption) becomes
 * equations between fields and pattern parts: two tenants reaching one key must equal the same field.
 * From the field where a wildcard (or a variable that may hold `#`) appears, the rest is matched as a
 * glob: split at its `*`s, the first segment a prefix, the last a suffix, the ones between found left
 * to right with `str.indexof` (leftmost placement is complete). Every formula is a function of the
 * value — no existential positions — so it stays exact under negation (Deny, NotAction,
 * `StringNotLike`, a property's "outside the partitions").
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

/** The field separator of the table's keys (`TENANT#<t>#…`); tenant ids never contain it. */
export const SEPARATOR = '#';

/**
 * A key by its `#`-separated fields: `separators` (Int, capped at `fields.length`) says how many
 * there are; with fewer than `fields.length` the key is `fields[0]#…#fields[separators]`, with as many
 * it is `fields[0]#…#fields[last]#rest`. Fields hold no `#`; `rest` is any string. Unused fields and
 * `rest` are empty, so equal keys have equal parts.
 */
export interface KeyFields {
  readonly separators: Term;
  readonly fields: readonly Term[];
  readonly rest: Term;
}

/**
 * Strings without the separator, as a ground regular expression. Z3 takes this far better than
 * `(not (str.contains f "#"))`, which needed seconds to accept one 30-character constant.
 */
export const SEPARATOR_FREE_REGEX =
  '(re.* (re.union (re.range "\\u{0}" "\\u{22}") (re.range "\\u{24}" "\\u{2ffff}")))';

/** What a pattern is matched against: a string term, or a key by its fields. */
export type Value = Term | KeyFields;

/** The constraints that make `key` the field form of one string (see `KeyFields`). */
export function keyFieldsConstraints(key: KeyFields): Term[] {
  const depth = key.fields.length;
  return [
    `(<= 0 ${key.separators} ${depth})`,
    ...key.fields.map((f) => `(str.in_re ${f} ${SEPARATOR_FREE_REGEX})`),
    ...key.fields.slice(1).map((f, i) => `(=> (< ${key.separators} ${i + 1}) (= ${f} ""))`),
    `(=> (< ${key.separators} ${depth}) (= ${key.rest} ""))`,
  ];
}

/** The key from field `from` on, as one string term (`from` 0: the whole key). */
export function keyFrom(key: KeyFields, from: number): Term {
  const depth = key.fields.length;
  const join = (parts: Term[]) =>
    parts.length === 1 ? (parts[0] as Term) : `(str.++ ${parts.join(' "#" ')})`;
  let term = join([...key.fields.slice(from), key.rest]);
  for (let n = depth - 1; n >= from; n--)
    term = `(ite (= ${key.separators} ${n}) ${join(key.fields.slice(from, n + 1) as Term[])} ${term})`;
  return term;
}

/** The deepest field a pattern compares before its first wildcard: how many fields keys need. */
export function anchoredFields(tokens: readonly Token[]): number {
  let separators = 0;
  for (const t of tokens) {
    if (t.kind === 'star' || t.kind === 'one') break;
    if (t.kind === 'text') separators += t.text.split(SEPARATOR).length - 1;
  }
  return separators + 1;
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
export function likeFormula(value: Value, pieces: readonly Piece[]): Term | undefined {
  if (typeof value === 'string') return globFormula(value, pieces);
  const depth = value.fields.length;
  const units = splitSeparators(pieces);
  const parts: Term[] = [];
  let field = 0;
  let current: Piece[] = [];
  for (const [i, u] of units.entries()) {
    if (u !== SEPARATOR_UNIT && isFieldPiece(u)) {
      current.push(u);
      continue;
    }
    if (u === SEPARATOR_UNIT && field + 1 < depth) {
      parts.push(
        `(>= ${value.separators} ${field + 1})`,
        `(= ${value.fields[field]} ${concat(current)})`,
      );
      field++;
      current = [];
      continue;
    }
    const tail = units.slice(i);
    if (u !== SEPARATOR_UNIT && u.kind === 'star' && tail.length === 1) {
      // A trailing `*`: the field starts with the separator-free text before it; the rest is free.
      const prefix = current.length
        ? `(str.prefixof ${concat(current)} ${value.fields[field]})`
        : TRUE;
      return and(...parts, prefix);
    }
    // A wildcard, a variable that may hold `#`, or deeper than the fields: the rest as a glob.
    const glob = globFormula(keyFrom(value, field), [...current, ...tail.map(asPiece)]);
    return glob === undefined ? undefined : and(...parts, glob);
  }
  return and(
    ...parts,
    `(= ${value.separators} ${field})`,
    `(= ${value.fields[field]} ${concat(current)})`,
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
export function equalsFormula(value: Value, pieces: readonly Piece[]): Term {
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
