/** The control plane's errors. */
import type { DecisionReason } from '../policy/index.js';

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
 * Why an action was refused: a policy decision's reason, or `invalid-role` when the stored role item is
 * not of the shape we write (e.g. `allow` not a list) and was refused for that alone.
 */
export type PermissionDeniedReason = Exclude<DecisionReason, 'allowed'> | 'invalid-role';

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
