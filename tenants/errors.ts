/** The control plane's errors. */
import type { DecisionReason } from '../policy/index.js';

/** The base of every error `tenantgate/tenants` raises; `name` tells the subclasses apart. */
export class TenantsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TenantsError';
  }
}

/** Invalid factory options, every problem listed at once (thrown when the factory runs, never later). */
export class TenantsConfigError extends TenantsError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid tenants configuration:\n- ${issues.join('\n- ')}`);
    this.name = 'TenantsConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * Why an action was refused: a policy decision's reason; `invalid-role` when the stored role item is
 * not of the shape we write (e.g. `allow` not a list) and was refused for that alone; or one of the
 * rules that keep anyone from granting more than they hold: `exceeds-own-role` (a role involved grants
 * something the caller's role does not, see `RightsExceededError`), `admin-only` (making, changing or
 * removing an admin), `own-role` (changing one's own role, which only an admin may).
 */
export type PermissionDeniedReason =
  | Exclude<DecisionReason, 'allowed'>
  | 'invalid-role'
  | 'exceeds-own-role'
  | 'admin-only'
  | 'own-role';

/** The caller's role does not permit the action (a 403). */
export class PermissionDeniedError extends TenantsError {
  readonly action: string;
  readonly reason: PermissionDeniedReason;
  /** The deny pattern that decided, for `explicit-deny`. */
  readonly matched?: string;
  constructor(
    action: string,
    reason: PermissionDeniedReason,
    options?: { matched?: string; cause?: unknown },
  ) {
    const by = options?.matched === undefined ? '' : ` by ${options.matched}`;
    super(`permission denied for ${action} (${reason}${by})`, { cause: options?.cause });
    this.name = 'PermissionDeniedError';
    this.action = action;
    this.reason = reason;
    if (options?.matched !== undefined) this.matched = options.matched;
  }
}

/**
 * A role involved in the request grants more than the caller's own role (a 403 with reason
 * `exceeds-own-role`): `pattern` is the first pattern of that role outside the caller's rights, and
 * `example` an action it grants that the caller does not hold. `gap` tells whether no pattern of the
 * caller's role grants it (`not-granted`) or one of its denies hits it (`denied`, by `matched`).
 */
export class RightsExceededError extends PermissionDeniedError {
  readonly roleId: string;
  readonly pattern: string;
  readonly example: string;
  readonly gap: 'not-granted' | 'denied';
  constructor(
    action: string,
    detail: {
      roleId: string;
      pattern: string;
      example: string;
      gap: 'not-granted' | 'denied';
      matched?: string;
    },
  ) {
    super(
      action,
      'exceeds-own-role',
      detail.matched === undefined ? {} : { matched: detail.matched },
    );
    this.name = 'RightsExceededError';
    this.message = `permission denied for ${action}: role ${detail.roleId} grants ${detail.pattern} (e.g. ${detail.example}), which your role ${detail.gap === 'denied' ? `denies by ${detail.matched}` : 'does not grant'}`;
    this.roleId = detail.roleId;
    this.pattern = detail.pattern;
    this.example = detail.example;
    this.gap = detail.gap;
  }
}

/** A write lost a race: the item exists already, or its version is not the one expected (a 409). */
export class RoleConflictError extends TenantsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RoleConflictError';
  }
}

/** No such role in the tenant (a 404). */
export class RoleNotFoundError extends TenantsError {
  constructor(tenantId: string, roleId: string, options?: { cause?: unknown }) {
    super(`role ${roleId} not found in tenant ${tenantId}`, options);
    this.name = 'RoleNotFoundError';
  }
}

/**
 * A built-in role (`admin`, `member`) cannot be created, deleted or, for `admin`, changed through the
 * roles store: they exist from tenant creation, and an editable `admin` would let a tenant lock itself
 * out of its own role management (a 403 at the API).
 */
export class ReservedRoleError extends TenantsError {
  readonly roleId: string;
  readonly operation: 'create' | 'update' | 'delete';
  constructor(roleId: string, operation: 'create' | 'update' | 'delete') {
    super(`role ${roleId} is built in: it cannot be ${operation}d through the roles store`);
    this.name = 'ReservedRoleError';
    this.roleId = roleId;
    this.operation = operation;
  }
}

/** A request names something that does not exist: tenant, member, user (a 404). */
export class NotFoundError extends TenantsError {
  readonly kind: 'tenant' | 'member' | 'user' | 'aircraft';
  constructor(kind: NotFoundError['kind'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotFoundError';
    this.kind = kind;
  }
}

/**
 * A write conflicts with the current state (a 409): already a member with another role, a stale
 * version, a role still assigned, the tenant's last admin leaving or being demoted, or a role the
 * decision was made on (the caller's or the one granted) changed before the write (`role-changed`).
 */
export class ConflictError extends TenantsError {
  readonly reason:
    | 'already-member'
    | 'stale-version'
    | 'role-in-use'
    | 'last-admin'
    | 'already-exists'
    | 'role-changed';
  constructor(reason: ConflictError['reason'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConflictError';
    this.reason = reason;
  }
}

/**
 * The caller may not act on this tenant at all (a 403): switching to a tenant that is not among the
 * caller's `cognito:groups`, or acting on tenant data without an active tenant.
 */
export class TenantAccessError extends TenantsError {
  readonly reason: 'not-in-groups' | 'no-active-tenant';
  constructor(reason: TenantAccessError['reason'], message: string) {
    super(message);
    this.name = 'TenantAccessError';
    this.reason = reason;
  }
}

/** Input that fails validation, every problem listed with its field (a 400). */
export class InvalidInputError extends TenantsError {
  readonly issues: readonly { readonly field: string; readonly message: string }[];
  constructor(issues: readonly { field: string; message: string }[]) {
    super(`invalid input:\n- ${issues.map((i) => `${i.field}: ${i.message}`).join('\n- ')}`);
    this.name = 'InvalidInputError';
    this.issues = Object.freeze(issues.map((i) => Object.freeze({ ...i })));
  }
}

/**
 * Cognito refused the refresh token (expired, revoked, or of another client). The server-side change
 * is done; the client signs in again to get tokens that carry it (a 401 naming that).
 */
export class RefreshTokenError extends TenantsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RefreshTokenError';
  }
}

/**
 * Some of a guarded write's own writes failed their conditions (the permission check passed); nothing
 * was written. `failed` indexes the request's `writes`, with the item as it was where it was asked for.
 */
export class WriteConditionError extends TenantsError {
  readonly failed: readonly {
    readonly index: number;
    readonly item?: Readonly<Record<string, unknown>>;
  }[];
  constructor(
    failed: readonly { index: number; item?: Record<string, unknown> }[],
    options?: { cause?: unknown },
  ) {
    super(`write condition failed at ${failed.map((f) => f.index).join(', ')}`, options);
    this.name = 'WriteConditionError';
    this.failed = Object.freeze(failed.map((f) => Object.freeze({ ...f })));
  }
  /** Whether the write at `index` failed its condition. */
  has(index: number): boolean {
    return this.failed.some((f) => f.index === index);
  }
}
