/** Role document → frozen compiled role. Validation lists every bad entry; cost is linear in patterns. */
import { type PolicyIssue, PolicyValidationError } from './errors.js';
import type { Decision } from './evaluate.js';
import { actionProblem, describeValue } from './grammar.js';

/** A role as tenant admins define it and as it is stored. */
export interface RoleDocument {
  readonly tenantId: string;
  readonly roleId: string;
  readonly name: string;
  readonly allow: readonly string[];
  readonly deny?: readonly string[];
  readonly version: number;
}

/** A validated role, ready for constant-time checks. */
export interface CompiledRole {
  readonly tenantId: string;
  readonly roleId: string;
  readonly name: string;
  readonly version: number;
  /** Distinct patterns in first-seen order (what was validated, for storage). */
  readonly allow: readonly string[];
  readonly deny: readonly string[];
  readonly allowSet: ReadonlySet<string>;
  readonly denySet: ReadonlySet<string>;
  /** Pattern → the frozen decision it yields, built once so a check allocates nothing. */
  readonly decisions: ReadonlyMap<string, Decision>;
}

/**
 * The per-role memo of action → decision (see `evaluate`). A symbol key, not enumerable and not in
 * {@link CompiledRole}: it is a cache, not part of what a role is, so equality, JSON and the public
 * type stay as they were.
 */
export const DECISION_MEMO: unique symbol = Symbol('tenantgate.decisionMemo');
/** A compiled role as `compileRole` makes it: with its memo. */
export interface MemoisedRole extends CompiledRole {
  readonly [DECISION_MEMO]?: Map<string, Decision>;
}

/** Most patterns per list: keeps a role item well under DynamoDB's 400 KB and compile under ~1 ms. */
export const MAX_PATTERNS = 1000;
/** Role ids: lower-case letters, digits, `_` and `-`, 1 to 64 characters, not starting with `_`/`-`. */
export const ROLE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Longest role display name, in characters. */
export const MAX_NAME_LENGTH = 128;
/**
 * The built-in roles every tenant gets at creation. Their ids are reserved: `compileRole` accepts them
 * (they are ordinary roles to the engine), but the roles store refuses to create or delete them, and to
 * change `admin`, so a tenant can neither shadow them nor lock itself out.
 */
export const BuiltInRoleId = { admin: 'admin', member: 'member' } as const;
/** The built-in role ids (`admin`, `member`): the roles store refuses to create or delete them. */
export const RESERVED_ROLE_IDS: readonly string[] = Object.freeze(Object.values(BuiltInRoleId));
/** Whether `roleId` is one of {@link RESERVED_ROLE_IDS}. */
export const isReservedRoleId = (roleId: string) => RESERVED_ROLE_IDS.includes(roleId);

/** The authorizer's tenant id rule (policy/ cannot import it: layers); a test keeps the two equal. */
const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

function checkPatterns(field: 'allow' | 'deny', value: unknown, issues: PolicyIssue[]): string[] {
  if (!Array.isArray(value)) {
    issues.push({ field, value, message: 'must be an array of patterns' });
    return [];
  }
  if (value.length > MAX_PATTERNS) {
    // One issue, not one per entry: a million-entry list must not become a million-issue error.
    issues.push({
      field,
      message: `must hold at most ${MAX_PATTERNS} patterns, has ${value.length}`,
    });
    return [];
  }
  const seen = new Set<string>();
  // An indexed loop, not forEach: forEach skips the holes of a sparse array, which must be reported.
  for (let index = 0; index < value.length; index++) {
    const pattern: unknown = value[index];
    const problem = actionProblem(pattern, true);
    if (problem !== undefined)
      issues.push({
        field,
        index,
        value: pattern,
        message: `${describeValue(pattern)} ${problem}`,
      });
    else seen.add(pattern as string);
  }
  return [...seen];
}

/**
 * Validate a role document and compile it. Every problem is listed in one `PolicyValidationError`,
 * each with its field (and index for list entries), so an admin UI can show them all at once.
 */
export function compileRole(doc: unknown): CompiledRole {
  const issues: PolicyIssue[] = [];
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null)
    issues.push({ field: 'role', value: doc, message: 'must be an object' });
  if (typeof d.tenantId !== 'string' || !TENANT_ID_PATTERN.test(d.tenantId)) {
    issues.push({
      field: 'tenantId',
      value: d.tenantId,
      message: 'must match [A-Za-z0-9_-]{1,64}',
    });
  }
  if (typeof d.roleId !== 'string' || !ROLE_ID_PATTERN.test(d.roleId)) {
    issues.push({
      field: 'roleId',
      value: d.roleId,
      message: 'must match [a-z0-9][a-z0-9_-]{0,63}',
    });
  }
  if (typeof d.name !== 'string' || d.name.trim() === '' || d.name.length > MAX_NAME_LENGTH) {
    issues.push({
      field: 'name',
      value: d.name,
      message: `must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`,
    });
  }
  if (typeof d.version !== 'number' || !Number.isSafeInteger(d.version) || d.version < 0) {
    issues.push({ field: 'version', value: d.version, message: 'must be a non-negative integer' });
  }
  const allow = checkPatterns('allow', d.allow, issues);
  const deny = d.deny === undefined ? [] : checkPatterns('deny', d.deny, issues);
  if (issues.length > 0) throw new PolicyValidationError(issues);
  const role = {
    tenantId: d.tenantId as string,
    roleId: d.roleId as string,
    name: d.name as string,
    version: d.version as number,
    allow: Object.freeze(allow),
    deny: Object.freeze(deny),
    allowSet: new Set(allow),
    denySet: new Set(deny),
    decisions: compileDecisions(allow, deny),
  };
  Object.defineProperty(role, DECISION_MEMO, { value: new Map<string, Decision>() });
  return Object.freeze(role);
}

/** Deny entries are written last so that a pattern both allowed and denied decides deny. */
function compileDecisions(
  allow: readonly string[],
  deny: readonly string[],
): ReadonlyMap<string, Decision> {
  const decisions = new Map<string, Decision>();
  for (const p of allow)
    decisions.set(p, Object.freeze({ effect: 'allow', reason: 'allowed', matched: p }));
  for (const p of deny)
    decisions.set(p, Object.freeze({ effect: 'deny', reason: 'explicit-deny', matched: p }));
  return decisions;
}
