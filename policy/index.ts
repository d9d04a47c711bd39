/**
 * `tenantgate/policy`: a pure engine for tenant-defined roles. No AWS SDK, no I/O, no clock.
 * Compile a role once (`compileRole`), check actions in constant time (`evaluate`), and enumerate the
 * patterns that grant an action (`grantingPatterns`) for DynamoDB condition expressions, and decide
 * whether one role holds every permission of another (`coverage`) so no one grants more than they hold.
 */
export {
  BuiltInRoleId,
  type CompiledRole,
  compileRole,
  isReservedRoleId,
  MAX_NAME_LENGTH,
  MAX_PATTERNS,
  RESERVED_ROLE_IDS,
  ROLE_ID_PATTERN,
  type RoleDocument,
} from './compile.js';
export { type Coverage, type CoverageGap, coverage } from './coverage.js';
export { PolicyError, type PolicyIssue, PolicyValidationError } from './errors.js';
export { type Decision, type DecisionReason, evaluate } from './evaluate.js';
export {
  ANY,
  actionProblem,
  assertAction,
  grantingPatterns,
  isAction,
  isPattern,
  MAX_LENGTH,
  MAX_SEGMENTS,
} from './grammar.js';
