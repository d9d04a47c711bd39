/**
 * Tenant isolation as properties of the tenant role's policy, each stated as "no request IAM allows
 * breaks it" and checked by asking Z3 for a request that is allowed *and* breaks it: `unsat` proves
 * the property for every tenant id of the alphabet, every user id and every key; `sat` comes with a
 * concrete counterexample.
 *
 * The request model (assumptions stated where they are made):
 * - principal tags `tenant_id` (the authorizer's alphabet, `[A-Za-z0-9_-]{1,64}`) and `user_id` (any
 *   non-empty string — a Cognito `sub` is a UUID, the proof does not need that); no other tag;
 * - keyed item actions (GetItem, BatchGetItem, Query, PutItem, UpdateItem, DeleteItem, BatchWriteItem,
 *   ConditionCheckItem; transactions are authorized per item as these) always carry their partition
 *   keys in `dynamodb:LeadingKeys`: exactly one, or for the two Batch actions one or more;
 * - any other action (Scan, PartiQL*, DescribeTable, other services…) with any key set, empty included;
 * - item actions on the table ARN; the index and resource properties quantify over any ARN.
 */
import type { IamPolicyDocument } from '../local/isolation/index.js';
import { encodePolicy, type SymbolicRequest, type TagValue } from './iam-encoding.js';
import {
  type KeyFields,
  keyFieldsConstraints,
  likeFormula,
  type Piece,
  SEPARATOR_FREE_REGEX,
  type Value,
} from './patterns.js';
import { and, decodeString, FALSE, type ModelValue, not, or, str, type Term } from './smt.js';

export const TENANT_TAG = 'tenant_id';
export const USER_TAG = 'user_id';

/**
 * The authorizer's tenant alphabet (authorizer/tenant.ts `TENANT_ID_PATTERN`, `^[A-Za-z0-9_-]{1,64}$`):
 * a ground regular expression and a length bound. `re.+` with `str.len` rather than `(_ re.loop 1 64)`:
 * the same set, and one query went from 10 s to 0.2 s.
 */
export function tenantAlphabet(t: Term): Term {
  return `(and (<= (str.len ${t}) 64) (str.in_re ${t} (re.+ (re.union (re.range "A" "Z") (re.range "a" "z") (re.range "0" "9") (str.to_re "_") (str.to_re "-")))))`;
}

/** Strings without a character of [from, to], as a ground regex (a negated `str.contains` is slow). */
const without = (from: string, to: string) =>
  `(re.* (re.union (re.range "\\u{0}" ${str(String.fromCodePoint((from.codePointAt(0) as number) - 1))}) (re.range ${str(String.fromCodePoint((to.codePointAt(0) as number) + 1))} "\\u{2ffff}")))`;

export const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
] as const;
export const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;
export const KEYED_ACTIONS = [...READ_ACTIONS, ...WRITE_ACTIONS] as const;
const BATCH_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'];
const NAMED_ACTIONS = [...KEYED_ACTIONS, 'dynamodb:Scan', 'dynamodb:PartiQLSelect'];

/** One concrete request of a counterexample, in the shape the IAM judge takes. */
export interface ConcreteRequest {
  readonly principalTags: Readonly<Record<string, string>>;
  readonly action: string;
  readonly resource: string;
  /** Absent when the request carries no leading key. */
  readonly leadingKeys?: readonly string[];
}

export interface Counterexample {
  /** Every request here is allowed by the policy; together they break the property. */
  readonly requests: readonly ConcreteRequest[];
  /** The breach in one sentence: who, which action, which key or resource. */
  readonly summary: string;
}

export interface ProofContext {
  readonly policy: IamPolicyDocument;
  readonly tableArn: string;
  /** `dynamodb:LeadingKeys` slots per request (see `leadingKeySlots`). */
  readonly slots: number;
  /** `#`-separated fields each key exposes (see `KeyFields` in patterns.ts). */
  readonly keyFields: number;
}

/** The properties' own key patterns compare up to field 2 (`TENANT#<t>#…`). */
export const PROPERTY_KEY_FIELDS = 3;

/** One property: its id, its statement, and the query whose solutions are its counterexamples. */
export interface IsolationProperty {
  readonly id: string;
  readonly statement: string;
  build(
    query: Query,
    context: ProofContext,
  ): (values: ReadonlyMap<string, ModelValue>) => Counterexample;
}

/** Declarations and assertions of one SMT query. */
export class Query {
  readonly lines: string[] = [];
  readonly approximations = new Set<string>();

  declare(name: string, sort: 'String' | 'Bool' | 'Int'): Term {
    this.lines.push(`(declare-const ${name} ${sort})`);
    return name;
  }

  assert(term: Term): void {
    this.lines.push(`(assert ${term})`);
  }

  /** Assert that the policy allows `request`. */
  allowed(policy: IamPolicyDocument, request: SymbolicRequest): void {
    const { allowed, approximations } = encodePolicy(policy, request);
    for (const a of approximations) this.approximations.add(a);
    this.assert(allowed);
  }

  script(): string {
    return this.lines.join('\n');
  }
}

// ---------------------------------------------------------------------------------------------
// Principals and requests.

interface Principal {
  readonly tags: Record<string, TagValue>;
  readonly tenant?: Term;
}

/**
 * A principal as the authorizer mints it: a tenant id of the alphabet, and a user id that is any
 * non-empty string without `#` (a Cognito `sub` is a UUID). Neither holds `#`, which is what lets
 * patterns be matched field by field (patterns.ts).
 */
function principal(q: Query, name: string, withTenant = true): Principal {
  const user = q.declare(`${name}_user`, 'String');
  q.assert(`(> (str.len ${user}) 0)`);
  q.assert(`(str.in_re ${user} ${SEPARATOR_FREE_REGEX})`);
  const userTag = { term: user, separatorFree: true };
  if (!withTenant) return { tags: { [USER_TAG]: userTag } };
  const tenant = q.declare(`${name}_tenant`, 'String');
  q.assert(tenantAlphabet(tenant));
  return {
    tags: { [TENANT_TAG]: { term: tenant, separatorFree: true }, [USER_TAG]: userTag },
    tenant,
  };
}

const oneOf = (term: Term, values: readonly string[]) =>
  or(...values.map((v) => `(= ${term} ${str(v.toLowerCase())})`));

/** Split an ARN at its first five colons. */
const arnParts = (arn: string) => {
  const parts = arn.split(':');
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
};

/** A key declared by its fields (see `KeyFields`). */
function declareKey(q: Query, name: string, depth: number): KeyFields {
  const key: KeyFields = {
    separators: q.declare(`${name}_seps`, 'Int'),
    fields: Array.from({ length: depth }, (_, i) => q.declare(`${name}_f${i}`, 'String')),
    rest: q.declare(`${name}_rest`, 'String'),
  };
  for (const c of keyFieldsConstraints(key)) q.assert(c);
  return key;
}

/**
 * Key slots: a keyed item action carries at least one key (slot 0), and only the Batch actions
 * more than one; any other action any set, empty included. `first`: slot 0 holds this key (declared
 * once for two requests that share it).
 */
function keySlots(q: Query, name: string, ctx: ProofContext, action: Term, first?: KeyFields) {
  const list = Array.from({ length: ctx.slots }, (_, i) => ({
    present: q.declare(`${name}_in${i}`, 'Bool'),
    value: i === 0 && first ? first : declareKey(q, `${name}_key${i}`, ctx.keyFields),
  }));
  q.assert(`(=> ${oneOf(action, KEYED_ACTIONS)} ${list[0]?.present})`);
  const single = oneOf(
    action,
    KEYED_ACTIONS.filter((a) => !BATCH_ACTIONS.includes(a)),
  );
  for (const s of list.slice(1)) q.assert(`(=> ${single} (not ${s.present}))`);
  return list;
}

/** A keyed item action on the table itself; `first`: its first key, when shared with another. */
function keyedRequest(
  q: Query,
  name: string,
  p: Principal,
  ctx: ProofContext,
  first?: KeyFields,
): SymbolicRequest {
  const action = q.declare(`${name}_action`, 'String');
  q.assert(oneOf(action, KEYED_ACTIONS));
  return {
    action,
    resource: { star: FALSE, segments: arnParts(ctx.tableArn).map(str) },
    leadingKeys: keySlots(q, name, ctx, action, first),
    principalTags: p.tags,
  };
}

/** Any lowercase action on any resource (`*` or an ARN), with any set of leading keys. */
function anyRequest(q: Query, name: string, p: Principal, ctx: ProofContext): SymbolicRequest {
  const action = q.declare(`${name}_action`, 'String');
  q.assert(`(str.in_re ${action} ${without('A', 'Z')})`);
  const star = q.declare(`${name}_star`, 'Bool');
  const segments = Array.from({ length: 6 }, (_, i) => q.declare(`${name}_arn${i}`, 'String'));
  for (const s of segments.slice(0, 5)) q.assert(`(str.in_re ${s} ${without(':', ':')})`);
  return {
    action,
    resource: { star, segments },
    leadingKeys: keySlots(q, name, ctx, action),
    principalTags: p.tags,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading a counterexample back.

const text = (values: ReadonlyMap<string, ModelValue>, name: string) =>
  String(values.get(name) ?? '');

/** A key from the model values of its fields. */
function keyText(values: ReadonlyMap<string, ModelValue>, key: KeyFields): string {
  const separators = Number(values.get(key.separators) ?? 0);
  const fields = key.fields.slice(0, separators + 1).map((f) => text(values, f));
  return [...fields, ...(separators === key.fields.length ? [text(values, key.rest)] : [])].join(
    '#',
  );
}

function concrete(values: ReadonlyMap<string, ModelValue>, r: SymbolicRequest): ConcreteRequest {
  const lower = text(values, r.action);
  const action = NAMED_ACTIONS.find((a) => a.toLowerCase() === lower) ?? lower;
  const star = r.resource.star === FALSE ? false : values.get(r.resource.star) === true;
  const resource = star
    ? '*'
    : r.resource.segments
        .map((s) => (s.startsWith('"') ? decodeString(s) : text(values, s)))
        .join(':');
  const keys = r.leadingKeys
    .filter((s) => values.get(s.present) === true)
    .map((s) => keyText(values, s.value as KeyFields));
  const tags = Object.fromEntries(
    Object.entries(r.principalTags).map(([k, v]) => [k, text(values, v.term)]),
  );
  return {
    principalTags: tags,
    action,
    resource,
    ...(keys.length ? { leadingKeys: [...new Set(keys)] } : {}),
  };
}

/** "tenant "a" (user "u") is allowed dynamodb:GetItem on <arn> with leading keys […]". */
function show(r: ConcreteRequest): string {
  const tenant = r.principalTags[TENANT_TAG];
  const who =
    tenant === undefined ? 'a principal without tenant tag' : `tenant ${JSON.stringify(tenant)}`;
  const keys = r.leadingKeys
    ? `with leading keys ${JSON.stringify(r.leadingKeys)}`
    : 'without leading keys';
  return `${who} (user ${JSON.stringify(r.principalTags[USER_TAG])}) is allowed ${r.action} on ${r.resource} ${keys}`;
}

// ---------------------------------------------------------------------------------------------
// The properties.

/**
 * `key` matches a pattern of literal text, `${t}` (a tenant id) and a trailing `*`. The properties
 * are written with the same encoding as the policy: mixing encodings is what Z3 cannot decide.
 */
function keyLike(key: Value, t: Term | undefined, ...parts: (string | typeof TENANT)[]): Term {
  const pieces = parts.flatMap((p): Piece[] =>
    p === TENANT
      ? [{ kind: 'term', term: t as Term, separatorFree: true }]
      : p === '*'
        ? [{ kind: 'star' }]
        : [{ kind: 'text', text: p }],
  );
  return likeFormula(key, pieces) as Term;
}
const TENANT: unique symbol = Symbol('tenant');

/** `key` lies in tenant `t`'s partitions: `TENANT#t`, `TENANT#t#…`, and for reads `CONTROL#t`. */
function inPartitions(key: Value, t: Term, action: Term): Term {
  return or(
    keyLike(key, t, 'TENANT#', TENANT),
    keyLike(key, t, 'TENANT#', TENANT, '#', '*'),
    and(oneOf(action, READ_ACTIONS), keyLike(key, t, 'CONTROL#', TENANT)),
  );
}

/** A property over one request of one principal: `breaks` says how the request breaks it. */
function single(
  id: string,
  statement: string,
  kind: 'keyed' | 'any',
  breaks: (r: SymbolicRequest, p: Principal, ctx: ProofContext) => Term,
  options: { readonly keyLabel?: string; readonly withTenant?: boolean } = {},
): IsolationProperty {
  return {
    id,
    statement,
    build(q, ctx) {
      const p = principal(q, 'p', options.withTenant ?? true);
      const r = (kind === 'keyed' ? keyedRequest : anyRequest)(q, 'r', p, ctx);
      q.allowed(ctx.policy, r);
      q.assert(breaks(r, p, ctx));
      return (values) => {
        const c = concrete(values, r);
        const key = options.keyLabel
          ? `; key ${JSON.stringify(keyText(values, firstKey(r)))} ${options.keyLabel}`
          : '';
        return { requests: [c], summary: `${show(c)}${key}` };
      };
    },
  };
}

const firstKey = (r: SymbolicRequest) => r.leadingKeys[0]?.value as KeyFields;

/** The resource is the table's ARN with the given sixth segment condition. */
const onTable = (
  r: SymbolicRequest,
  ctx: ProofContext,
  last: (segment: Term, table: string) => Term,
) => {
  const table = arnParts(ctx.tableArn);
  return and(
    not(r.resource.star),
    ...r.resource.segments.slice(0, 5).map((s, i) => `(= ${s} ${str(table[i] ?? '')})`),
    last(r.resource.segments[5] as Term, table[5] ?? ''),
  );
};

/** The isolation properties, in report order. */
export const ISOLATION_PROPERTIES: readonly IsolationProperty[] = [
  single(
    'own-partitions-only',
    "a tenant's principal is allowed an item action on a key only in its own partitions: TENANT#<t>, TENANT#<t>#…, and for reads CONTROL#<t>",
    'keyed',
    (r, p) => not(inPartitions(firstKey(r), p.tenant as Term, r.action)),
    { keyLabel: 'is outside its partitions' },
  ),
  {
    id: 'no-shared-key',
    statement: 'no key is allowed to principals of two different tenants',
    build(q, ctx) {
      const a = principal(q, 'a');
      const b = principal(q, 'b');
      q.assert(`(not (= ${a.tenant} ${b.tenant}))`);
      const ra = keyedRequest(q, 'ra', a, ctx);
      const rb = keyedRequest(q, 'rb', b, ctx, firstKey(ra)); // the same key
      q.allowed(ctx.policy, ra);
      q.allowed(ctx.policy, rb);
      return (values) => {
        const requests = [concrete(values, ra), concrete(values, rb)];
        const key = keyText(values, firstKey(ra));
        return {
          requests,
          summary: `${requests.map(show).join('; and ')}: both reach key ${JSON.stringify(key)}`,
        };
      };
    },
  },
  single('no-scan', 'no Scan, on any resource', 'any', (r) => `(= ${r.action} "dynamodb:scan")`),
  single(
    'no-partiql',
    'no PartiQL action (dynamodb:PartiQL*), on any resource',
    'any',
    (r) => `(str.prefixof "dynamodb:partiql" ${r.action})`,
  ),
  single(
    'keyed-actions-only',
    'no action but the keyed item actions (no read without a leading key, no table-level action)',
    'any',
    (r) => not(oneOf(r.action, KEYED_ACTIONS)),
  ),
  single(
    'no-index',
    'nothing on an index of the table (<table ARN>/index/<any name>)',
    'any',
    (r, _, ctx) =>
      onTable(r, ctx, (s, table) =>
        and(
          `(str.prefixof ${str(`${table}/index/`)} ${s})`,
          `(> (str.len ${s}) ${`${table}/index/`.length})`,
        ),
      ),
  ),
  single(
    'table-only',
    'nothing on any resource but the table itself (another table, a stream, a backup, *)',
    'any',
    (r, _, ctx) => not(onTable(r, ctx, (s, table) => `(= ${s} ${str(table)})`)),
  ),
  single(
    'control-plane-read-only',
    'no write (PutItem, UpdateItem, DeleteItem, BatchWriteItem) of a CONTROL# or USER# key, of any tenant or user',
    'keyed',
    (r) =>
      and(
        oneOf(r.action, WRITE_ACTIONS),
        or(
          keyLike(firstKey(r), undefined, 'CONTROL#', '*'),
          keyLike(firstKey(r), undefined, 'USER#', '*'),
        ),
      ),
    { keyLabel: 'is written' },
  ),
  single(
    'no-user-profiles',
    'no action at all on a USER# key (user profiles)',
    'keyed',
    (r) => keyLike(firstKey(r), undefined, 'USER#', '*'),
    { keyLabel: 'is a user profile' },
  ),
  single(
    'untagged-gets-nothing',
    'a principal without a tenant_id tag is allowed nothing',
    'any',
    () => 'true',
    { withTenant: false },
  ),
];
