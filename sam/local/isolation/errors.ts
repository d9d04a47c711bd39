/**
 * Errors of the local tenant-isolation layer (`sam/local/isolation/`). A refused DynamoDB call is not
 * an error here: it is an answer (`AccessDeniedException`) the proxy sends, and a counted decision.
 */
import { SamError } from '../../errors.js';

/** Base of every error the isolation layer raises. */
export class IsolationError extends SamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IsolationError';
  }
}

/** `startIsolationProxy` options are invalid; lists every problem at once, raised before listening. */
export class IsolationConfigError extends IsolationError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super(`invalid isolation proxy configuration:\n- ${issues.join('\n- ')}`, options);
    this.name = 'IsolationConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * An IAM policy document the evaluator cannot judge faithfully (bad shape, an unsupported condition
 * operator, a resource that is not an ARN). Raised once, when the evaluator is created.
 */
export class IamPolicyError extends IsolationError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid or unsupported IAM policy:\n- ${issues.join('\n- ')}`);
    this.name = 'IamPolicyError';
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * The key schema of a table could not be read from DynamoDB Local (not "table missing", which is
 * answered as DynamoDB does). The proxy fails closed: the call is answered with a 500, never forwarded.
 */
export class KeySchemaUnavailableError extends IsolationError {
  readonly table: string;
  constructor(table: string, options?: { cause?: unknown }) {
    super(`could not read the key schema of table ${table}`, options);
    this.name = 'KeySchemaUnavailableError';
    this.table = table;
  }
}

/**
 * A tenant call the proxy answers itself, with this DynamoDB error (HTTP 400), instead of forwarding
 * it: the body is not an unambiguous JSON object, or the call names a table, index or member that is
 * not there — DynamoDB would refuse it too, and the proxy cannot judge its keys.
 */
export class RequestRejectedError extends IsolationError {
  /** The DynamoDB error name, e.g. `ValidationException`. */
  readonly errorType: string;
  constructor(errorType: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RequestRejectedError';
    this.errorType = errorType;
  }
}
