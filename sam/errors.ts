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
