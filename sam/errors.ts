/** Errors of the composition root (`sam/`). */
export class SamError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SamError';
  }
}

/** The function's environment is incomplete or invalid; lists every problem at once. */
export class EnvConfigError extends SamError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid environment:\n- ${issues.join('\n- ')}`);
    this.name = 'EnvConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * DynamoDB refused or failed one of the authorizer's own calls (sam/dynamodb-json.ts: the membership
 * GetItem, the shared OpenID token's GetItem and PutItem). Carries DynamoDB's error name (`__type`)
 * and HTTP status; a failed membership read is a 500, a failed token lookup a mint.
 */
export class DynamoDbCallError extends SamError {
  /** DynamoDB's error name, e.g. `ResourceNotFoundException`, or `NetworkError`. */
  readonly errorType: string;
  /** The HTTP status, when a response came. */
  readonly status: number | undefined;
  constructor(
    errorType: string,
    status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DynamoDbCallError';
    this.errorType = errorType;
    this.status = status;
  }
}
