/**
 * A pure evaluator of IAM identity-based policies, as much of IAM as tenant isolation needs, judged the
 * way IAM judges it:
 *
 * - An explicit Deny wins; otherwise some Allow must match; otherwise implicit deny.
 * - A statement matches when its Action (or NotAction), Resource (or NotResource) and every Condition
 *   match. Actions compare case-insensitively with `*`/`?` wildcards; resources are ARNs compared per
 *   colon-separated segment (a wildcard never spans a `:`), case-sensitively.
 * - Conditions: operators AND, keys within an operator AND, values within a key OR. Supported: the
 *   String family (`StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`,
 *   `StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`) with the `ForAllValues:` /
 *   `ForAnyValue:` set qualifiers and the `IfExists` suffix, and `Null`. Condition key names are
 *   case-insensitive, values case-sensitive.
 * - `ForAllValues` over an absent or empty key is TRUE — which is why a Scan (no leading keys) would
 *   pass a LeadingKeys condition and must simply never be granted. `ForAnyValue` over one is false.
 * - Policy variables (`${aws:PrincipalTag/x}`, any single-valued context key, `${key, 'default'}`,
 *   escapes `${*}` `${?}` `${$}`) only in a `Version: 2012-10-17` document, only in Resource and
 *   condition values. A substituted value is literal text, never a wildcard. A variable with no value
 *   makes a positive operator's condition not match (the statement does not take effect), while a
 *   negated operator matches it, and a resource that contains it matches nothing — as IAM documents.
 *
 * Fail closed where IAM's behaviour is not documented: a single-valued operator applied to a
 * multivalued key, or an operator this module does not implement, makes the condition
 * *indeterminate*: an Allow statement then does not apply and a Deny statement does.
 *
 * No I/O, no clock: the proxy feeds it the request context.
 */
import { IamPolicyError } from './errors.js';

/** The only policy language version in which `${…}` is a variable; in any other it is literal text. */
export const POLICY_VERSION = '2012-10-17';

type OneOrMany<T> = T | readonly T[];
export type IamConditionValue = string | number | boolean;

export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: OneOrMany<string>;
  readonly NotAction?: OneOrMany<string>;
  readonly Resource?: OneOrMany<string>;
  readonly NotResource?: OneOrMany<string>;
  /** operator → condition key → value(s). */
  readonly Condition?: Readonly<
    Record<string, Readonly<Record<string, OneOrMany<IamConditionValue>>>>
  >;
}

export interface IamPolicyDocument {
  readonly Version?: string;
  readonly Id?: string;
  readonly Statement: OneOrMany<IamStatement>;
}

/** A string is a single-valued context key; an array a multivalued one (judged with set qualifiers). */
export type IamContextValue = string | readonly string[];

export interface IamRequest {
  /** `service:Action`, e.g. `dynamodb:GetItem`. */
  readonly action: string;
  /** The resource ARN, or `*` for actions without resource-level permissions (ListTables). */
  readonly resource: string;
  /** The request context by condition key (names are case-insensitive); absent keys are left out. */
  readonly context?: Readonly<Record<string, IamContextValue>>;
}

export const IamDecision = {
  allow: 'allow',
  explicitDeny: 'explicit-deny',
  implicitDeny: 'implicit-deny',
} as const;
export type IamDecision = (typeof IamDecision)[keyof typeof IamDecision];

export interface IamEvaluation {
  readonly decision: IamDecision;
  /** The statement that decided (its Sid, else `Statement[i]`); absent for an implicit deny. */
  readonly statement?: string;
}

export interface IamEvaluator {
  evaluate(request: IamRequest): IamEvaluation;
}

/** `{ 'aws:PrincipalTag/<k>': v }` for session tags: what `${aws:PrincipalTag/k}` resolves from. */
export function principalTagContext(
  tags: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v]));
}

// ---------------------------------------------------------------------------------------------
// Patterns: literal text, `*`, `?` and variables, compiled once; variables resolved per request.

const STAR = 0;
const ONE = 1;
type Unit = string | typeof STAR | typeof ONE; // a string unit is one literal code point

type Token =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'one' }
  | { readonly kind: 'var'; readonly key: string; readonly fallback?: string }
  | { readonly kind: 'bad-var'; readonly source: string };

const VARIABLE = /^\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$/;

function tokenize(source: string, variables: boolean): Token[] {
  const tokens: Token[] = [];
  let text = '';
  const flush = () => {
    if (text !== '') tokens.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i] ?? '';
    if (c === '*' || c === '?') {
      flush();
      tokens.push({ kind: c === '*' ? 'star' : 'one' });
    } else if (variables && c === '$' && source[i + 1] === '{' && source.indexOf('}', i) > 0) {
      const end = source.indexOf('}', i);
      const inner = source.slice(i + 2, end);
      i = end;
      if (inner === '*' || inner === '?' || inner === '$') {
        text += inner; // the escapes: a literal character, never a wildcard
        continue;
      }
      flush();
      const m = VARIABLE.exec(inner);
      if (!m?.[1]) tokens.push({ kind: 'bad-var', source: `\${${inner}}` });
      else
        tokens.push({
          kind: 'var',
          key: m[1].toLowerCase(),
          ...(m[2] === undefined ? {} : { fallback: m[2].replace(/''/g, "'") }),
        });
    } else text += c;
  }
  flush();
  return tokens;
}

type Context = ReadonlyMap<string, IamContextValue>;

/** Substitute variables; undefined when one has no value (and no default). */
function resolve(tokens: readonly Token[], context: Context): Unit[] | undefined {
  const units: Unit[] = [];
  for (const t of tokens) {
    if (t.kind === 'star') units.push(STAR);
    else if (t.kind === 'one') units.push(ONE);
    else if (t.kind === 'text') units.push(...Array.from(t.text));
    else if (t.kind === 'bad-var') return undefined;
    else {
      const value = context.get(t.key);
      // Only a single-valued key can be a variable; a multivalued one has no single value.
      const text = typeof value === 'string' ? value : t.fallback;
      if (text === undefined) return undefined;
      units.push(...Array.from(text)); // literal: a tag holding `*` is not a wildcard
    }
  }
  return units;
}

/** Wildcard match by code point, greedy with backtracking to the last `*`: O(pattern × value). */
function globMatch(pattern: readonly Unit[], value: string, ignoreCase: boolean): boolean {
  const v = Array.from(ignoreCase ? value.toLowerCase() : value);
  const p = ignoreCase
    ? pattern.map((u) => (typeof u === 'string' ? u.toLowerCase() : u))
    : pattern;
  let pi = 0;
  let vi = 0;
  let starAt = -1;
  let starVi = 0;
  while (vi < v.length) {
    const u = p[pi];
    if (pi < p.length && (u === ONE || u === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && u === STAR) {
      starAt = pi++;
      starVi = vi;
    } else if (starAt >= 0) {
      pi = starAt + 1;
      vi = ++starVi;
    } else return false;
  }
  while (p[pi] === STAR) pi++;
  return pi === p.length;
}

/** For the Equals operators `*` and `?` are plain characters. */
const literal = (units: readonly Unit[]) =>
  units.map((u) => (u === STAR ? '*' : u === ONE ? '?' : u)).join('');

// ---------------------------------------------------------------------------------------------
// Actions and resources.

type ActionMatcher = (action: string) => boolean;

function compileAction(pattern: string): ActionMatcher {
  const units = resolve(tokenize(pattern, false), new Map()) ?? [];
  return (action) => globMatch(units, action, true);
}

type ResourceMatcher = (resource: string, context: Context) => boolean;

/** Split tokens at the first five literal colons: the six segments of an ARN. */
function arnSegments(tokens: readonly Token[]): Token[][] {
  const segments: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind !== 'text' || segments.length === 6) {
      segments[segments.length - 1]?.push(t);
      continue;
    }
    const parts = t.text.split(':');
    parts.forEach((part, i) => {
      if (i > 0) {
        if (segments.length < 6) segments.push([]);
        else part = `:${part}`;
      }
      if (part !== '') segments[segments.length - 1]?.push({ kind: 'text', text: part });
    });
  }
  return segments;
}

const splitArn = (arn: string): string[] => {
  const parts = arn.split(':');
  return parts.length < 6 ? parts : [...parts.slice(0, 5), parts.slice(5).join(':')];
};

function compileResource(pattern: string, variables: boolean): ResourceMatcher {
  if (pattern === '*') return () => true;
  const segments = arnSegments(tokenize(pattern, variables));
  return (resource, context) => {
    const actual = splitArn(resource);
    if (actual.length !== 6 || segments.length !== 6) return false;
    return segments.every((tokens, i) => {
      const units = resolve(tokens, context);
      // A variable with no value: "the resource … will not match any resource".
      return units !== undefined && globMatch(units, actual[i] ?? '', false);
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Conditions.

type Outcome = 'match' | 'no-match' | 'indeterminate';

const BASE_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'Null',
] as const;
type BaseOperator = (typeof BASE_OPERATORS)[number];

interface ParsedOperator {
  readonly set?: 'ForAllValues' | 'ForAnyValue';
  readonly base: BaseOperator;
  readonly ifExists: boolean;
}

function parseOperator(operator: string): ParsedOperator | undefined {
  const m = /^(?:(ForAllValues|ForAnyValue):)?(.+?)(IfExists)?$/i.exec(operator);
  const base = BASE_OPERATORS.find((b) => b.toLowerCase() === m?.[2]?.toLowerCase());
  if (!m || !base) return undefined;
  if (base === 'Null' && (m[1] || m[3])) return undefined; // IAM has no ForAllValues:Null/NullIfExists
  const set = m[1]?.toLowerCase() === 'forallvalues' ? 'ForAllValues' : 'ForAnyValue';
  return { ...(m[1] ? { set } : {}), base, ifExists: m[3] !== undefined };
}

type ConditionMatcher = (context: Context) => Outcome;

function compileCondition(
  operator: string,
  key: string,
  values: readonly string[],
  variables: boolean,
): ConditionMatcher {
  const op = parseOperator(operator);
  if (!op) return () => 'indeterminate';
  const keyName = key.toLowerCase();
  if (op.base === 'Null') {
    const wanted = values.map((v) => v.toLowerCase());
    return (context) => {
      const value = context.get(keyName);
      const absent = value === undefined || (typeof value !== 'string' && value.length === 0);
      return wanted.includes(String(absent)) ? 'match' : 'no-match';
    };
  }
  const negated = op.base.startsWith('StringNot');
  const like = op.base.endsWith('Like');
  const ignoreCase = op.base.endsWith('IgnoreCase');
  const patterns = values.map((v) => tokenize(v, variables));
  return (context) => {
    const resolved = patterns.map((p) => resolve(p, context));
    // A variable with no value: positive operators do not match, negated ones do (IAM docs,
    // "Policy variables with no value"); for a negated operator it simply drops out.
    if (!negated && resolved.includes(undefined)) return 'no-match';
    const usable = resolved.filter((r): r is Unit[] => r !== undefined);
    const positive = (v: string) =>
      usable.some((units) =>
        like
          ? globMatch(units, v, false)
          : ignoreCase
            ? literal(units).toLowerCase() === v.toLowerCase()
            : literal(units) === v,
      );
    const holds = (v: string) => (negated ? !positive(v) : positive(v));
    const value = context.get(keyName);
    const present = value !== undefined && (typeof value === 'string' || value.length > 0);
    if (!present && op.ifExists) return 'match';
    const verdict = (b: boolean): Outcome => (b ? 'match' : 'no-match');
    if (op.set === 'ForAllValues') {
      return verdict(!present || (typeof value === 'string' ? [value] : value).every(holds));
    }
    if (op.set === 'ForAnyValue') {
      return verdict(present && (typeof value === 'string' ? [value] : value).some(holds));
    }
    if (value === undefined) return verdict(negated); // absent: only a negated operator matches
    if (typeof value !== 'string') return 'indeterminate'; // multivalued key without a set qualifier
    return verdict(holds(value));
  };
}

// ---------------------------------------------------------------------------------------------
// Statements and policies.

interface CompiledStatement {
  readonly id: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly ActionMatcher[];
  readonly notAction: boolean;
  readonly resources: readonly ResourceMatcher[];
  readonly notResource: boolean;
  readonly conditions: readonly ConditionMatcher[];
}

const many = <T>(v: OneOrMany<T> | undefined): readonly T[] =>
  v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T];

const statementsOf = (policy: IamPolicyDocument): readonly IamStatement[] => many(policy.Statement);

function compileStatement(s: IamStatement, index: number, variables: boolean): CompiledStatement {
  return {
    id: s.Sid ?? `Statement[${index}]`,
    // Anything but an exact "Allow" denies: an unvalidated document fails closed.
    effect: s.Effect === 'Allow' ? 'Allow' : 'Deny',
    actions: many(s.NotAction ?? s.Action).map(compileAction),
    notAction: s.NotAction !== undefined,
    resources: many(s.NotResource ?? s.Resource).map((r) => compileResource(r, variables)),
    notResource: s.NotResource !== undefined,
    conditions: Object.entries(s.Condition ?? {}).flatMap(([operator, keys]) =>
      isRecord(keys)
        ? Object.entries(keys).map(([key, values]) =>
            compileCondition(operator, key, many(values).map(String), variables),
          )
        : [(): Outcome => 'indeterminate'],
    ),
  };
}

function judge(s: CompiledStatement, request: IamRequest, context: Context): Outcome {
  if (s.actions.some((m) => m(request.action)) === s.notAction) return 'no-match';
  if (s.resources.some((m) => m(request.resource, context)) === s.notResource) return 'no-match';
  let outcome: Outcome = 'match';
  for (const condition of s.conditions) {
    const o = condition(context);
    if (o === 'no-match') return 'no-match';
    if (o === 'indeterminate') outcome = 'indeterminate';
  }
  return outcome;
}

const contextMap = (context: IamRequest['context']): Context =>
  new Map(Object.entries(context ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/**
 * Validate a policy document for this evaluator: the shape IAM accepts for an identity policy, and
 * nothing this evaluator would judge unfaithfully. Returns every issue found (empty when usable).
 */
export function validateIamPolicy(policy: unknown): string[] {
  const issues: string[] = [];
  if (!isRecord(policy)) return ['the policy must be an object with a Statement'];
  if (policy.Version !== undefined && typeof policy.Version !== 'string')
    issues.push('Version must be a string');
  const statements = policy.Statement;
  const list = Array.isArray(statements) ? statements : [statements];
  if (statements === undefined || list.length === 0) issues.push('Statement must not be empty');
  const variables = policy.Version === POLICY_VERSION;
  list.forEach((s: unknown, i) => {
    const at = `Statement[${i}]`;
    if (!isRecord(s)) {
      issues.push(`${at} must be an object`);
      return;
    }
    for (const field of Object.keys(s)) {
      if (!STATEMENT_FIELDS.has(field))
        issues.push(`${at}.${field} is not supported in an identity policy`);
    }
    if (s.Sid !== undefined && typeof s.Sid !== 'string') issues.push(`${at}.Sid must be a string`);
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
      issues.push(`${at}.Effect must be "Allow" or "Deny"`);
    const pair = (a: 'Action' | 'Resource', b: 'NotAction' | 'NotResource') => {
      if ((s[a] === undefined) === (s[b] === undefined))
        issues.push(`${at} needs exactly one of ${a} and ${b}`);
      const field = s[a] === undefined ? b : a;
      const values = s[field] === undefined ? [] : [s[field]].flat();
      if (s[field] !== undefined && (values.length === 0 || !values.every(isNonEmptyString)))
        issues.push(`${at}.${field} must be a non-empty string or list of them`);
      return { field, values: values.filter(isNonEmptyString) };
    };
    const actions = pair('Action', 'NotAction');
    for (const a of actions.values) {
      if (a !== '*' && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(a))
        issues.push(`${at}.${actions.field}: "${a}" is not "service:Action" or "*"`);
    }
    const resources = pair('Resource', 'NotResource');
    for (const r of resources.values) {
      if (r !== '*' && (!r.startsWith('arn:') || arnSegments(tokenize(r, variables)).length < 6))
        issues.push(`${at}.${resources.field}: "${r}" is not an ARN or "*"`);
      issues.push(...variableIssues(r, variables, `${at}.${resources.field}`));
    }
    if (s.Condition !== undefined) issues.push(...conditionIssues(s.Condition, variables, at));
  });
  if (!variables && JSON.stringify(policy).includes('${'))
    issues.push(
      `policy variables need Version "${POLICY_VERSION}"; without it IAM reads \${…} as literal text`,
    );
  return issues;
}

const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';

function variableIssues(source: string, variables: boolean, at: string): string[] {
  return tokenize(source, variables)
    .filter((t) => t.kind === 'bad-var')
    .map((t) => `${at}: unparsable policy variable ${t.kind === 'bad-var' ? t.source : ''}`);
}

function conditionIssues(condition: unknown, variables: boolean, at: string): string[] {
  if (!isRecord(condition)) return [`${at}.Condition must be an object`];
  const issues: string[] = [];
  for (const [operator, keys] of Object.entries(condition)) {
    const op = parseOperator(operator);
    if (!op) issues.push(`${at}.Condition: operator "${operator}" is not supported`);
    if (!isRecord(keys) || Object.keys(keys).length === 0) {
      issues.push(`${at}.Condition.${operator} must map condition keys to values`);
      continue;
    }
    for (const [key, raw] of Object.entries(keys)) {
      const values = [raw].flat() as unknown[];
      const where = `${at}.Condition.${operator}.${key}`;
      if (
        values.length === 0 ||
        !values.every((v) => ['string', 'number', 'boolean'].includes(typeof v))
      )
        issues.push(`${where} must be a value or a non-empty list of values`);
      if (op?.base === 'Null' && !values.every((v) => /^(true|false)$/i.test(String(v))))
        issues.push(`${where}: Null takes "true" or "false"`);
      for (const v of values) issues.push(...variableIssues(String(v), variables, where));
    }
  }
  return issues;
}

/**
 * Compile a policy once (patterns tokenized, operators parsed); `evaluate` then costs a few pattern
 * matches per statement. Throws `IamPolicyError` listing every issue `validateIamPolicy` finds.
 */
export function createIamEvaluator(policy: IamPolicyDocument): IamEvaluator {
  const issues = validateIamPolicy(policy);
  if (issues.length > 0) throw new IamPolicyError(issues);
  return compile(policy);
}

function compile(policy: IamPolicyDocument): IamEvaluator {
  const variables = policy.Version === POLICY_VERSION;
  const statements = statementsOf(policy).map((s, i) => compileStatement(s, i, variables));
  const denies = statements.filter((s) => s.effect === 'Deny');
  const allows = statements.filter((s) => s.effect === 'Allow');
  return {
    evaluate(request) {
      const context = contextMap(request.context);
      // Deny first, and an indeterminate Deny counts: failing closed is denying.
      const deny = denies.find((s) => judge(s, request, context) !== 'no-match');
      if (deny) return { decision: IamDecision.explicitDeny, statement: deny.id };
      const allow = allows.find((s) => judge(s, request, context) === 'match');
      if (allow) return { decision: IamDecision.allow, statement: allow.id };
      return { decision: IamDecision.implicitDeny };
    },
  };
}

/**
 * One-off evaluation without validation: anything unsupported is judged fail-closed (indeterminate).
 * Prefer `createIamEvaluator` for repeated use and to learn about unsupported constructs up front.
 */
export function evaluateIamPolicy(policy: IamPolicyDocument, request: IamRequest): IamEvaluation {
  return compile(policy).evaluate(request);
}
