/**
 * SMT-LIB 2 text: literals, connectives that simplify the trivial cases (so a policy without a
 * Deny does not leave `(not false)` noise in every query), and a reader for `(get-value …)` answers.
 * The prover writes text rather than building terms through z3-solver's high-level API because
 * that API does not expose the string theory (`str.substr`, `str.indexof`, `str.in_re`).
 */

/** An SMT-LIB term, as text. */
export type Term = string;

export const TRUE: Term = 'true';
export const FALSE: Term = 'false';

/**
 * A string literal. SMT-LIB 2.6 doubles `"`, and reads `\u{…}` as an escape: every character outside
 * printable ASCII, and the backslash itself, is written as one so no text can change meaning.
 */
export function str(text: string): Term {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '""';
    else if (code < 0x20 || code > 0x7e || ch === '\\') out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

export function int(n: number): Term {
  return n < 0 ? `(- ${-n})` : String(n);
}

export function and(...terms: Term[]): Term {
  if (terms.includes(FALSE)) return FALSE;
  const rest = terms.filter((t) => t !== TRUE);
  if (rest.length === 0) return TRUE;
  return rest.length === 1 ? (rest[0] as Term) : `(and ${rest.join(' ')})`;
}

export function or(...terms: Term[]): Term {
  if (terms.includes(TRUE)) return TRUE;
  const rest = terms.filter((t) => t !== FALSE);
  if (rest.length === 0) return FALSE;
  return rest.length === 1 ? (rest[0] as Term) : `(or ${rest.join(' ')})`;
}

export function not(term: Term): Term {
  if (term === TRUE) return FALSE;
  if (term === FALSE) return TRUE;
  return `(not ${term})`;
}

export function implies(a: Term, b: Term): Term {
  return or(not(a), b);
}

/** Integer sum; constant parts folded. */
export function plus(...terms: Term[]): Term {
  let constant = 0;
  const rest: Term[] = [];
  for (const t of terms) {
    if (/^\d+$/.test(t)) constant += Number(t);
    else rest.push(t);
  }
  if (constant !== 0 || rest.length === 0) rest.push(String(constant));
  return rest.length === 1 ? (rest[0] as Term) : `(+ ${rest.join(' ')})`;
}

/** A value read back from a model: a string, a Boolean or an integer. */
export type ModelValue = string | boolean | number;

/**
 * Read the answer of `(get-value (x y …))`: `((x "a") (y true) (n 2))` → a map by name. Strings are
 * decoded (`""` and `\u{…}`); anything else the prover never asks for is rejected.
 */
export function parseValues(text: string): Map<string, ModelValue> {
  const tokens = tokenizeSexp(text);
  let i = 0;
  const next = () => {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`unexpected end of solver output: ${text}`);
    return t;
  };
  const values = new Map<string, ModelValue>();
  if (next() !== '(') throw new Error(`not a get-value answer: ${text}`);
  while (tokens[i] === '(') {
    i++;
    const name = next();
    const value = readValue(next, () => tokens[i]);
    if (next() !== ')') throw new Error(`unexpected solver output near ${name}: ${text}`);
    values.set(name, value);
  }
  return values;
}

function readValue(next: () => string, peek: () => string | undefined): ModelValue {
  const t = next();
  if (t.startsWith('"')) return decodeString(t);
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^\d+$/.test(t)) return Number(t);
  if (t === '(' && peek() === '-') {
    next();
    const n = Number(next());
    next(); // ')'
    return -n;
  }
  throw new Error(`unsupported value in solver output: ${t}`);
}

function tokenizeSexp(text: string): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < text.length; ) {
    const c = text[i] as string;
    if (/\s/.test(c)) i++;
    else if (c === '(' || c === ')') tokens.push(text[i++] as string);
    else if (c === '"') {
      let j = i + 1;
      while (j < text.length && !(text[j] === '"' && text[j + 1] !== '"'))
        j += text[j] === '"' ? 2 : 1;
      tokens.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()"]/.test(text[j] as string)) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/** The text of a string literal (`"a""b"` → `a"b`, `\\u{…}` decoded). */
export function decodeString(token: string): string {
  return token
    .slice(1, -1)
    .replace(/""/g, '"')
    .replace(/\\u\{([0-9a-fA-F]{1,5})\}|\\u([0-9a-fA-F]{4})/g, (_, a?: string, b?: string) =>
      String.fromCodePoint(Number.parseInt(a ?? b ?? '0', 16)),
    );
}
