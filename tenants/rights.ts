/**
 * "No one grants more than they hold." Only `admin` is unbounded; anyone else may create or update a
 * role, assign one, or change or remove a member only when every permission involved is within their
 * own role (`coverage` in policy/, exact), may never make, change or remove an admin, and may not
 * change their own role. Without this, `members:*` delegated to a custom role lets its holders hand
 * out `*`, and `roles:update` lets them widen a role they hold.
 *
 * A decision is made on the roles as stored at that moment, so the guarded write that follows pins
 * their versions (`StoredRole.version`): a role edited in between fails the transaction instead of
 * letting a write through on a stale decision.
 */

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantContext } from '../authorizer/index.js';
import {
  BuiltInRoleId,
  type CompiledRole,
  coverage,
  PolicyValidationError,
  ROLE_ID_PATTERN,
} from '../policy/index.js';
import { PermissionDeniedError, RightsExceededError } from './errors.js';
import { controlPk, roleSk } from './keys.js';
import { compileRoleItem } from './roles-store.js';

/** A role as stored, compiled, with the version a guarded write pins. */
export interface StoredRole {
  readonly compiled: CompiledRole;
  readonly version: number;
}

export const isAdmin = (ctx: TenantContext) => ctx.role === BuiltInRoleId.admin;

/**
 * The role item as stored now (consistent read), compiled; undefined when there is none.
 * @throws PermissionDeniedError `invalid-role` for `action` when the stored item fails validation:
 * a corrupt role decides nothing (fail closed).
 */
export async function readStoredRole(
  client: DynamoDBDocumentClient,
  tableName: string,
  tenantId: string,
  roleId: string,
  action: string,
): Promise<StoredRole | undefined> {
  if (!ROLE_ID_PATTERN.test(roleId)) return undefined;
  const { Item } = await client.send(
    new GetCommand({
      TableName: tableName,
      Key: { PK: controlPk(tenantId), SK: roleSk(roleId) },
      ConsistentRead: true,
    }),
  );
  if (!Item) return undefined;
  try {
    const compiled = compileRoleItem(Item);
    return { compiled, version: compiled.version };
  } catch (error) {
    if (error instanceof PolicyValidationError)
      throw new PermissionDeniedError(action, 'invalid-role', { cause: error });
    throw error;
  }
}

/**
 * Throws unless the caller may hand out (or take away) `target`: an admin always may; nobody else may
 * touch `admin`, and anyone else must hold every permission `target` grants.
 * @param actor the caller's role as stored (undefined: none, so nothing is held).
 * @param target the role granted, taken or rewritten (undefined: it grants nothing).
 * @throws PermissionDeniedError `admin-only`, RightsExceededError.
 */
export function assertHolds(
  ctx: TenantContext,
  action: string,
  actor: StoredRole | undefined,
  target: { readonly roleId: string; readonly compiled: CompiledRole | undefined },
): void {
  if (isAdmin(ctx)) return;
  if (target.roleId === BuiltInRoleId.admin) throw new PermissionDeniedError(action, 'admin-only');
  if (target.compiled === undefined) return;
  const result = coverage(actor?.compiled, target.compiled);
  if (result.covered) return;
  throw new RightsExceededError(action, {
    roleId: target.roleId,
    pattern: result.pattern,
    example: result.example,
    gap: result.reason,
    ...(result.matched === undefined ? {} : { matched: result.matched }),
  });
}
