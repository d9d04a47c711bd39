/** Errors of the local API Gateway (`sam/local/gateway/`). */
import { SamError } from '../../errors.js';

/** Base of every error the local gateway raises. */
export class LocalApiError extends SamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalApiError';
  }
}

/** `startLocalApi` options are invalid; lists every problem at once, raised before listening. */
export class LocalApiConfigError extends LocalApiError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid local API configuration:\n- ${issues.join('\n- ')}`);
    this.name = 'LocalApiConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * A Lambda (authorizer or function) returned something API Gateway would not accept. The gateway
 * answers as AWS does (500 for an authorizer, 502/500 for a function) and logs this error.
 */
export class InvalidLambdaResponseError extends LocalApiError {
  readonly source: 'authorizer' | 'function';
  constructor(source: 'authorizer' | 'function', message: string) {
    super(message);
    this.name = 'InvalidLambdaResponseError';
    this.source = source;
  }
}
