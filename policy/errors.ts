/** The policy engine's errors. A decision is never an error: only invalid input is. */
export class PolicyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyError';
  }
}

/** One problem with one field of a role document or action string. */
export interface PolicyIssue {
  readonly field: string;
  readonly index?: number;
  readonly value?: unknown;
  readonly message: string;
}

/** Invalid role document, pattern or action. Lists every problem, each naming its field. */
export class PolicyValidationError extends PolicyError {
  readonly issues: readonly PolicyIssue[];
  constructor(issues: readonly PolicyIssue[]) {
    const lines = issues.map(
      (i) => `${i.field}${i.index === undefined ? '' : `[${i.index}]`}: ${i.message}`,
    );
    super(`invalid policy input:\n- ${lines.join('\n- ')}`);
    this.name = 'PolicyValidationError';
    this.issues = Object.freeze(issues.map((i) => Object.freeze({ ...i })));
  }
}
