/**
 * A pure evaluator of IAM identity policies, as much as tenant isolation needs: explicit Deny wins,
 * then an Allow whose Action, Resource and every Condition match, else implicit deny. Policy variables
 * `${aws:PrincipalTag/x}` are substituted from the session's tags; an unresolvable variable makes its
 * condition false, as IAM does. `ForAllValues` over an empty set is true — which is exactly why a
 * Scan (no leading keys) must never be granted.
 */

export interface IamStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<
    Record<string, Readonly<Record<string, string | readonly string[]>>>
  >;
}

export interface IamPolicy {
  readonly Statement: readonly IamStatement[];
}

export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** Condition keys: single values as one-element arrays. */
  readonly context: Readonly<Record<string, readonly string[]>>;
  readonly principalTags: Readonly<Record<string, string>>;
}

export type IamDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

const list = (v: string | readonly string[]): readonly string[] =>
  typeof v === 'string' ? [v] : v;

/** IAM glob: `*` any run of characters, `?` one character; everything else literal. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

/**
 * Substitute policy variables. Returns undefined when a variable cannot be resolved (the condition
 * then fails). In a `Like` pattern, escapes keep `*`, `?`, `$` literal; tag values themselves are
 * inserted verbatim — so a tag holding `*` would become a wildcard, which is why tenant ids exclude it.
 */
export function substitute(
  text: string,
  tags: Readonly<Record<string, string>>,
): string | undefined {
  let unresolved = false;
  const out = text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    if (name === '*' || name === '?' || name === '$') return name;
    const tag = /^aws:PrincipalTag\/(.+)$/.exec(name)?.[1];
    const value = tag === undefined ? undefined : tags[tag];
    if (value === undefined) unresolved = true;
    return value ?? '';
  });
  return unresolved ? undefined : out;
}

function conditionHolds(
  operator: string,
  key: string,
  expected: readonly string[],
  request: IamRequest,
): boolean {
  const values = request.context[key];
  const patterns = expected
    .map((e) => substitute(e, request.principalTags))
    .filter((p): p is string => p !== undefined);
  const [qualifier, op] = operator.includes(':')
    ? (operator.split(':') as [string, string])
    : ['', operator];
  const one = (v: string) =>
    patterns.some((p) =>
      op === 'StringLike' ? globMatch(p, v) : op === 'StringEquals' ? p === v : false,
    );
  if (!['StringLike', 'StringEquals'].includes(op)) return false; // unsupported: fail closed
  if (qualifier === 'ForAllValues') return (values ?? []).every(one);
  if (qualifier === 'ForAnyValue') return (values ?? []).some(one);
  if (values === undefined || values.length !== 1) return false;
  return one(values[0] ?? '');
}

function statementMatches(s: IamStatement, request: IamRequest): boolean {
  if (!list(s.Action).some((a) => globMatch(a, request.action, true))) return false;
  if (!list(s.Resource).some((r) => globMatch(r, request.resource))) return false;
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      if (!conditionHolds(operator, key, list(expected), request)) return false;
    }
  }
  return true;
}

export function evaluateIam(policy: IamPolicy, request: IamRequest): IamDecision {
  if (policy.Statement.some((s) => s.Effect === 'Deny' && statementMatches(s, request)))
    return 'explicit-deny';
  return policy.Statement.some((s) => s.Effect === 'Allow' && statementMatches(s, request))
    ? 'allow'
    : 'implicit-deny';
}
