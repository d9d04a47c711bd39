/** The control plane's errors. */
export class TenantsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TenantsError';
  }
}

/** The caller's role does not permit the action (a 403). */
export class PermissionDeniedError extends TenantsError {
  readonly action: string;
  /** The policy decision's reason when known (`explicit-deny`, `no-match`, `unknown-role`). */
  readonly reason: string;
  constructor(action: string, reason = 'denied', options?: { cause?: unknown }) {
    super(`permission denied for ${action} (${reason})`, options);
    this.name = 'PermissionDeniedError';
    this.action = action;
    this.reason = reason;
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
