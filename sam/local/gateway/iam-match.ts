/**
 * IAM policy evaluation as API Gateway applies a Lambda authorizer's policy to a request's method
 * ARN: an applicable Deny wins, then an applicable Allow, else the request is implicitly denied.
 * Pure: no I/O, no clock, so a cached policy can be re-evaluated against every new ARN.
 *
 * Wildcards follow the IAM Resource element rules
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html):
 * `*` and `?` work within the colon-separated ARN segments, a `*` that ends a segment may run across
 * colons, and inside the resource segment (`apiId/stage/METHOD/path…`) `*` also spans `/`.
 * Actions compare case-insensitively, resources case-sensitively.
 */
import { InvalidLambdaResponseError } from './errors.js';

/** The only action API Gateway checks a Lambda authorizer's policy for. */
export const INVOKE_ACTION = 'execute-api:Invoke';

export type PolicyDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

export interface PolicyStatement {
  readonly effect: 'Allow' | 'Deny';
  /** `Action` patterns, or `NotAction` patterns when `notAction` is set. */
  readonly actions: readonly string[];
  readonly notAction: boolean;
  /** `Resource` patterns, or `NotResource` patterns when `notResource` is set. */
  readonly resources: readonly string[];
  readonly notResource: boolean;
  /** A `Condition` block we cannot evaluate locally: see `statementApplies`. */
  readonly hasCondition: boolean;
}

export interface PolicyDocument {
  readonly statements: readonly PolicyStatement[];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringList = (value: unknown): string[] | undefined => {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    return value as string[];
  }
  return undefined;
};

const invalid = (message: string) =>
  new InvalidLambdaResponseError('authorizer', `policyDocument: ${message}`);

/** Read one of `key` / `Not<key>`; exactly one must be present, a string or non-empty string list. */
function readPair(statement: Record<string, unknown>, key: string, index: number) {
  const positive = statement[key];
  const negative = statement[`Not${key}`];
  if ((positive === undefined) === (negative === undefined)) {
    throw invalid(`Statement[${index}] needs exactly one of ${key} and Not${key}`);
  }
  const list = stringList(positive ?? negative);
  if (list === undefined) {
    throw invalid(`Statement[${index}].${positive === undefined ? 'Not' : ''}${key} is invalid`);
  }
  return { list, negated: positive === undefined };
}

/**
 * Validate an authorizer's `policyDocument`. `Statement` may be one statement or a list.
 * @throws InvalidLambdaResponseError when API Gateway would reject the document (a 500).
 */
export function parsePolicyDocument(document: unknown): PolicyDocument {
  if (!isRecord(document)) throw invalid('must be an object');
  const raw = document.Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? undefined : [raw];
  if (list === undefined) throw invalid('has no Statement');
  const statements = list.map((statement: unknown, index): PolicyStatement => {
    if (!isRecord(statement)) throw invalid(`Statement[${index}] must be an object`);
    const effect = statement.Effect;
    if (effect !== 'Allow' && effect !== 'Deny') {
      throw invalid(`Statement[${index}].Effect must be Allow or Deny`);
    }
    const actions = readPair(statement, 'Action', index);
    const resources = readPair(statement, 'Resource', index);
    return Object.freeze({
      effect,
      actions: Object.freeze(actions.list),
      notAction: actions.negated,
      resources: Object.freeze(resources.list),
      notResource: resources.negated,
      hasCondition: statement.Condition !== undefined,
    });
  });
  return Object.freeze({ statements: Object.freeze(statements) });
}

type Token =
  | { kind: 'char'; char: string }
  | { kind: 'one'; colon: boolean } // `?`: one character; `colon` = may be a colon
  | { kind: 'many'; colon: boolean }; // `*`: any run; `colon` = may include colons

/** Run the tokens over `text` (dynamic programming over text positions: O(pattern × text)). */
function runTokens(tokens: readonly Token[], text: string): boolean {
  const n = text.length;
  let reachable = new Uint8Array(n + 1);
  reachable[0] = 1;
  for (const token of tokens) {
    const next = new Uint8Array(n + 1);
    let any = false;
    if (token.kind === 'many') {
      let open = 0;
      for (let j = 0; j <= n; j++) {
        if (j > 0 && !token.colon && text[j - 1] === ':') open = 0;
        if (reachable[j]) open = 1;
        next[j] = open;
        any ||= open === 1;
      }
    } else {
      for (let j = 0; j < n; j++) {
        if (!reachable[j]) continue;
        const c = text[j];
        const ok = token.kind === 'char' ? c === token.char : token.colon || c !== ':';
        if (ok) {
          next[j + 1] = 1;
          any = true;
        }
      }
    }
    if (!any) return false;
    reachable = next;
  }
  return reachable[n] === 1;
}

/**
 * Does an IAM resource pattern cover `arn`? Before the sixth ARN segment `*` and `?` stop at colons,
 * except a `*` that ends its segment, which IAM lets run across colon boundaries (so
 * `arn:aws:execute-api:*` covers every API). In the resource segment both may match anything,
 * `/` included: `api/stage/*` covers every method and path of the stage.
 */
export function matchesResource(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const tokens: Token[] = [];
  let colons = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    const inResource = colons >= 5;
    if (c === '*') {
      const endsSegment = i === pattern.length - 1 || pattern[i + 1] === ':';
      tokens.push({ kind: 'many', colon: inResource || endsSegment });
    } else if (c === '?') {
      tokens.push({ kind: 'one', colon: inResource });
    } else {
      if (c === ':') colons++;
      tokens.push({ kind: 'char', char: c });
    }
  }
  return runTokens(tokens, arn);
}

/** Does an IAM action pattern (`execute-api:Invoke`, `execute-api:*`, `*`) cover `action`? */
export function matchesAction(pattern: string, action: string): boolean {
  const tokens: Token[] = [...pattern.toLowerCase()].map((c) =>
    c === '*'
      ? { kind: 'many', colon: true }
      : c === '?'
        ? { kind: 'one', colon: true }
        : { kind: 'char', char: c },
  );
  return runTokens(tokens, action.toLowerCase());
}

/**
 * Does the statement apply to the request? A `Condition` cannot be evaluated here (no request keys),
 * so we fail closed: a conditional Deny applies, a conditional Allow does not.
 */
function statementApplies(statement: PolicyStatement, action: string, arn: string): boolean {
  const actionHit = statement.actions.some((p) => matchesAction(p, action));
  const resourceHit = statement.resources.some((p) => matchesResource(p, arn));
  const applies = actionHit !== statement.notAction && resourceHit !== statement.notResource;
  if (!applies) return false;
  return statement.hasCondition ? statement.effect === 'Deny' : true;
}

/** Evaluate a policy for invoking `arn`: explicit Deny, then Allow, else implicit deny. */
export function evaluatePolicy(
  policy: PolicyDocument,
  arn: string,
  action: string = INVOKE_ACTION,
): PolicyDecision {
  let allowed = false;
  for (const statement of policy.statements) {
    if (!statementApplies(statement, action, arn)) continue;
    if (statement.effect === 'Deny') return 'explicit-deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}
