/**
 * An IAM identity policy as one SMT formula over a symbolic request: "IAM allows this request".
 * The semantics are IAM's, as sam/local/isolation/iam.ts judges them:
 *
 * - explicit Deny wins, then some Allow, else implicit deny;
 * - Action / NotAction: case-insensitive `*`/`?` patterns (the request's action is lowercase);
 * - Resource / NotResource: `*`, or an ARN matched segment by segment (a wildcard never spans `:`);
 * - conditions: operators AND, keys AND, values OR (NOR for the negated operators);
 *   `StringEquals`, `StringLike` and their `Not` forms, `ForAllValues:` / `ForAnyValue:`, `IfExists`
 *   and `Null`, over principal tags (single-valued) and `dynamodb:LeadingKeys` (multivalued);
 * - policy variables in Resource and condition values (`2012-10-17` documents only): a substituted
 *   value is literal text; a variable without value makes a positive condition false (whatever the
 *   set operator), drops out of a negated one, and makes a resource match nothing.
 *
 * What it cannot model exactly it over-approximates, so a proof stays sound (it can only miss a
 * *proof*, never a leak): an unmodeled part of an Allow statement is taken as matching, of a Deny
 * statement as not matching. Every such place is listed in `approximations`. One of them is IAM's
 * undocumented corner, a bare operator (no set qualifier) over a multivalued key: an Allow reads it as
 * "some value satisfies it" — the widest of the readings in use — and a Deny as never matching.
 */
import type { IamPolicyDocument, IamStatement } from '../local/isolation/index.js';
import {
  anchoredFields,
  equalsFormula,
  isLikeModeled,
  likeFormula,
  literalLike,
  type Piece,
  resolvePieces,
  type Token,
  tokenize,
  type Value,
  type Variables,
} from './patterns.js';
import { and, FALSE, implies, not, or, type Term, TRUE } from './smt.js';

const POLICY_VERSION = '2012-10-17';
export const LEADING_KEYS = 'dynamodb:leadingkeys';

/** A request IAM judges, with symbolic parts. */
export interface SymbolicRequest {
  /** The action, lowercase (IAM compares actions case-insensitively). */
  readonly action: Term;
  readonly resource: SymbolicResource;
  /** `dynamodb:LeadingKeys` as slots: the set is the values of the present slots (none: absent). */
  readonly leadingKeys: readonly KeySlot[];
  /** Principal tags by lowercased tag key; a tag not listed is absent from the request. */
  readonly principalTags: Readonly<Record<string, TagValue>>;
}

/** A principal tag's value; `separatorFree` when it is known to hold no `#` (see patterns.ts). */
export interface TagValue {
  readonly term: Term;
  readonly separatorFree: boolean;
}

/** `*` (a call without resource-level permissions) or an ARN's six colon-separated segments. */
export interface SymbolicResource {
  /** Boolean: the resource is `*`, not an ARN. */
  readonly star: Term;
  /** The six segments; the first five hold no `:`. */
  readonly segments: readonly Term[];
}

export interface KeySlot {
  /** Boolean: the slot holds a member of the set. */
  readonly present: Term;
  /** The key, by its `#`-separated fields (patterns.ts). */
  readonly value: Value;
}

export interface PolicyFormula {
  /** True exactly when IAM allows the request (over-approximated where `approximations` says). */
  readonly allowed: Term;
  /** Each place the policy was over-approximated, e.g. `Statement[1].Condition: …`. */
  readonly approximations: readonly string[];
}

type OneOrMany<T> = T | readonly T[];
const many = <T>(v: OneOrMany<T> | undefined): readonly T[] =>
  v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T];

/** What the statement parts can fall back on: the effect decides which way is the safe one. */
interface Scope {
  readonly effect: 'Allow' | 'Deny';
  readonly at: string;
  readonly variables: boolean;
  readonly request: SymbolicRequest;
  /** Records an approximation and returns the safe value for this statement. */
  approximate(why: string): Term;
}

/**
 * The policy's decision for `request`: `and(or(allows), not(or(denies)))`.
 * Statements whose `Effect` is anything but `"Allow"` deny, as the judge fails closed.
 */
export function encodePolicy(policy: IamPolicyDocument, request: SymbolicRequest): PolicyFormula {
  const approximations: string[] = [];
  const variables = policy.Version === POLICY_VERSION;
  const allows: Term[] = [];
  const denies: Term[] = [];
  many(policy.Statement).forEach((s, i) => {
    const effect = s.Effect === 'Allow' ? 'Allow' : 'Deny';
    const at = s.Sid ?? `Statement[${i}]`;
    const scope: Scope = {
      effect,
      at,
      variables,
      request,
      approximate(why) {
        approximations.push(`${at}: ${why}`);
        return effect === 'Allow' ? TRUE : FALSE;
      },
    };
    (effect === 'Allow' ? allows : denies).push(statementFormula(s, scope));
  });
  return { allowed: and(or(...allows), not(or(...denies))), approximations };
}

/** A statement applies when its action, resource and every condition match. */
function statementFormula(s: IamStatement, scope: Scope): Term {
  return and(actionFormula(s, scope), resourceFormula(s, scope), ...conditionFormulas(s, scope));
}

/** Action / NotAction: any pattern matches the lowercase action (patterns lowercased). */
function actionFormula(s: IamStatement, scope: Scope): Term {
  const patterns = many(s.NotAction ?? s.Action);
  const matches = or(
    ...patterns.map((p) => (p === '*' ? TRUE : literalLike(scope.request.action, p.toLowerCase()))),
  );
  return s.NotAction !== undefined ? not(matches) : matches;
}

/** Resource / NotResource. An unmodeled pattern approximates the whole clause (never inside a `not`). */
function resourceFormula(s: IamStatement, scope: Scope): Term {
  const patterns = many(s.NotResource ?? s.Resource);
  const formulas = patterns.map((p) => resourcePatternFormula(p, scope));
  if (formulas.includes(undefined)) return scope.approximate('a Resource pattern is not modeled');
  const matches = or(...(formulas as Term[]));
  return s.NotResource !== undefined ? not(matches) : matches;
}

/** One Resource pattern: `*`, or six ARN segments each matched as `StringLike` (undefined: unmodeled). */
function resourcePatternFormula(pattern: string, scope: Scope): Term | undefined {
  if (pattern === '*') return TRUE;
  const tokens = tokenize(pattern, scope.variables);
  if (tokens === undefined) return FALSE;
  const segments = arnSegments(tokens);
  if (segments.length !== 6) return FALSE;
  const { resource } = scope.request;
  const parts: Term[] = [not(resource.star)];
  for (const [i, segment] of segments.entries()) {
    const pieces = resolvePieces(segment, variablesOf(scope.request));
    if (pieces === 'unmodeled') return undefined;
    if (pieces === 'absent') return FALSE; // IAM: such a resource matches nothing
    const formula = likeFormula(resource.segments[i] as Term, pieces);
    if (formula === undefined) return undefined;
    parts.push(formula);
  }
  return and(...parts);
}

/** Split tokens at the first five literal colons, as IAM splits an ARN (the rest stays in the sixth). */
export function arnSegments(tokens: readonly Token[]): Token[][] {
  const segments: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind !== 'text' || segments.length === 6) {
      segments[segments.length - 1]?.push(t);
      continue;
    }
    t.text.split(':').forEach((part, i) => {
      let text = part;
      if (i > 0) {
        if (segments.length < 6) segments.push([]);
        else text = `:${part}`;
      }
      if (text !== '') segments[segments.length - 1]?.push({ kind: 'text', text });
    });
  }
  return segments;
}

/** Policy variables: principal tags only (a multivalued key is never a variable: no value). */
function variablesOf(request: SymbolicRequest): Variables {
  return (key) => {
    const tag = /^aws:principaltag\/(.+)$/.exec(key)?.[1];
    if (tag !== undefined) {
      const value = request.principalTags[tag];
      return value === undefined ? { kind: 'absent' } : { kind: 'term', ...value };
    }
    if (key === LEADING_KEYS) return { kind: 'absent' };
    return { kind: 'unmodeled' };
  };
}

// ---------------------------------------------------------------------------------------------
// Conditions.

type Base = 'StringEquals' | 'StringNotEquals' | 'StringLike' | 'StringNotLike' | 'Null';

interface Operator {
  readonly set?: 'ForAllValues' | 'ForAnyValue';
  readonly base: Base;
  readonly ifExists: boolean;
}

const BASES: readonly Base[] = [
  'StringEquals',
  'StringNotEquals',
  'StringLike',
  'StringNotLike',
  'Null',
];

/** `ForAllValues:StringLikeIfExists` → its parts; undefined for an operator not modeled. */
export function parseOperator(operator: string): Operator | undefined {
  const m = /^(?:(ForAllValues|ForAnyValue):)?(.+?)(IfExists)?$/i.exec(operator);
  const base = BASES.find((b) => b.toLowerCase() === m?.[2]?.toLowerCase());
  if (!m || !base || (base === 'Null' && (m[1] || m[3]))) return undefined;
  const set = m[1]?.toLowerCase() === 'forallvalues' ? 'ForAllValues' : 'ForAnyValue';
  return { ...(m[1] ? { set } : {}), base, ifExists: m[3] !== undefined };
}

/** The value of a condition key in the request: one term, a set of slots, absent, or unmodeled. */
type KeyValue =
  | { readonly kind: 'single'; readonly term: Term }
  | { readonly kind: 'multi'; readonly slots: readonly KeySlot[] }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unmodeled' };

function keyValue(key: string, request: SymbolicRequest): KeyValue {
  if (key === LEADING_KEYS) return { kind: 'multi', slots: request.leadingKeys };
  const v = variablesOf(request)(key);
  return v.kind === 'term' ? { kind: 'single', term: v.term } : v;
}

function conditionFormulas(s: IamStatement, scope: Scope): Term[] {
  return Object.entries(s.Condition ?? {}).flatMap(([operator, keys]) =>
    typeof keys === 'object' && keys !== null && !Array.isArray(keys)
      ? Object.entries(keys).map(([key, values]) =>
          conditionFormula(operator, key.toLowerCase(), many(values).map(String), scope),
        )
      : [scope.approximate(`Condition ${operator}: not a map of keys to values`)],
  );
}

/** One operator over one key and its values. */
function conditionFormula(operator: string, key: string, values: string[], scope: Scope): Term {
  const op = parseOperator(operator);
  const where = `Condition ${operator} ${key}`;
  if (!op) return scope.approximate(`${where}: operator not modeled`);
  const value = keyValue(key, scope.request);
  if (value.kind === 'unmodeled') return scope.approximate(`${where}: key not modeled`);
  if (op.base === 'Null') return nullFormula(value, values);
  const holds = valueTest(op.base, values, scope);
  if (holds === 'unmodeled') return scope.approximate(`${where}: a value is not modeled`);
  if (holds === 'no-match') return FALSE;
  const negated = op.base.startsWith('StringNot');
  const present = presence(value);
  const formula = setFormula(op, value, holds, negated, scope, where);
  return op.ifExists ? or(not(present), formula) : formula;
}

/** Whether the key is in the request at all (a set with at least one member). */
function presence(value: KeyValue): Term {
  if (value.kind === 'single') return TRUE;
  if (value.kind === 'multi') return or(...value.slots.map((s) => s.present));
  return FALSE;
}

/** `Null`: "true" matches an absent key, "false" a present one; values OR. */
function nullFormula(value: KeyValue, values: readonly string[]): Term {
  const present = presence(value);
  return or(
    ...values.map((v) =>
      v.toLowerCase() === 'true' ? not(present) : v.toLowerCase() === 'false' ? present : FALSE,
    ),
  );
}

/**
 * The per-value test of a string operator: a function from a value term to a formula, or
 * `no-match` (a positive operator with a variable that has no value), or `unmodeled`.
 */
function valueTest(
  base: Exclude<Base, 'Null'>,
  values: readonly string[],
  scope: Scope,
): ((v: Value) => Term) | 'no-match' | 'unmodeled' {
  const negated = base.startsWith('StringNot');
  const like = base.endsWith('Like');
  const patterns: Piece[][] = [];
  for (const source of values) {
    const tokens = tokenize(source, scope.variables);
    const pieces =
      tokens === undefined ? 'absent' : resolvePieces(tokens, variablesOf(scope.request));
    if (pieces === 'unmodeled') return 'unmodeled';
    if (pieces === 'absent') {
      if (!negated) return 'no-match';
      continue; // a negated operator: the value drops out
    }
    patterns.push(pieces);
  }
  if (like && !patterns.every(isLikeModeled)) return 'unmodeled';
  return (v) => {
    const positive = or(
      ...patterns.map((p) => (like ? (likeFormula(v, p) as Term) : equalsFormula(v, p))),
    );
    return negated ? not(positive) : positive;
  };
}

/** Set semantics: one value, `ForAllValues`, `ForAnyValue`, or a bare operator over a set. */
function setFormula(
  op: Operator,
  value: KeyValue,
  holds: (v: Value) => Term,
  negated: boolean,
  scope: Scope,
  where: string,
): Term {
  if (value.kind === 'absent') {
    // ForAllValues over nothing is true, ForAnyValue false; a bare operator: only negated ones match.
    return op.set === 'ForAllValues'
      ? TRUE
      : op.set === 'ForAnyValue'
        ? FALSE
        : negated
          ? TRUE
          : FALSE;
  }
  if (value.kind === 'single') return holds(value.term);
  if (value.kind !== 'multi') return FALSE;
  const { slots } = value;
  const forAll = and(...slots.map((s) => implies(s.present, holds(s.value))));
  const forAny = or(...slots.map((s) => and(s.present, holds(s.value))));
  if (op.set === 'ForAllValues') return forAll;
  if (op.set === 'ForAnyValue') return forAny;
  // A bare operator over a multivalued key: IAM documents no meaning for it (see the module TSDoc).
  const reading = scope.effect === 'Allow' ? forAny : FALSE;
  scope.approximate(
    `${where}: bare operator on a multivalued key, read as ${scope.effect === 'Allow' ? '"some value matches"' : '"never matches"'}`,
  );
  return or(and(not(presence(value)), negated ? TRUE : FALSE), reading);
}

/**
 * How many `dynamodb:LeadingKeys` slots a request needs so that bounded sets lose no counterexample.
 *
 * Why it suffices: take any request IAM allows that breaks a property through one key `k`. Keep `k`;
 * for the Allow statement that matched, keep one witness per existential condition on the key
 * (`ForAnyValue`, or a bare operator, read existentially); for each Deny statement, one value that
 * falsifies each of its universal conditions (`ForAllValues`). Everything else can go: universal
 * conditions of the Allow still hold on a subset, existential conditions of a Deny stay false on a
 * subset, and `Null` only sees whether the set is empty, which keeping `k` (or one value) preserves.
 * The smaller request is still allowed and still breaks the property: 1 + those counts slots suffice.
 */
export function leadingKeySlots(policy: IamPolicyDocument): number {
  let slots = 1;
  for (const s of many(policy.Statement)) {
    for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
      const op = parseOperator(operator);
      if (!op || op.base === 'Null') continue;
      const onKeys = Object.keys(keys ?? {}).filter((k) => k.toLowerCase() === LEADING_KEYS).length;
      const existential = op.set === 'ForAnyValue' || op.set === undefined;
      if (s.Effect === 'Allow' ? existential : op.set === 'ForAllValues') slots += onKeys;
    }
  }
  return slots;
}

/**
 * How many `#`-separated fields key slots expose: the deepest field any `dynamodb:LeadingKeys`
 * pattern of the policy compares before its first wildcard (see `KeyFields` in patterns.ts).
 */
export function leadingKeyFields(policy: IamPolicyDocument): number {
  let fields = 1;
  const variables = policy.Version === POLICY_VERSION;
  for (const s of many(policy.Statement)) {
    for (const keys of Object.values(s.Condition ?? {})) {
      for (const [key, values] of Object.entries(keys ?? {})) {
        if (key.toLowerCase() !== LEADING_KEYS) continue;
        for (const v of many(values)) {
          const tokens = tokenize(String(v), variables);
          if (tokens) fields = Math.max(fields, anchoredFields(tokens));
        }
      }
    }
  }
  return fields;
}
