/**
 * The authorizer's one error hierarchy. Every error the authorizer raises is an `AuthorizerError`;
 * `authorize.ts` maps the subclasses to API Gateway's fixed outcomes:
 * `TokenRejectedError` → 401 (`Unauthorized`), infrastructure errors → thrown (500).
 * A permission refusal is never an error: it is a Deny value.
 */
export class AuthorizerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthorizerError';
  }
}

/** Options or environment were invalid. Lists every problem at once, raised at factory time only. */
export class AuthorizerConfigError extends AuthorizerError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super(`invalid authorizer configuration:\n- ${issues.join('\n- ')}`, options);
    this.name = 'AuthorizerConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/** Why a token was refused. Safe to log: it never contains the token. */
export const TokenRejectReason = {
  missing: 'missing',
  malformed: 'malformed',
  signature: 'invalid-signature',
  algorithm: 'invalid-algorithm',
  expired: 'expired',
  notYetValid: 'not-yet-valid',
  issuer: 'invalid-issuer',
  audience: 'invalid-audience',
  tokenUse: 'invalid-token-use',
  claims: 'invalid-claims',
  unknownKey: 'unknown-key',
} as const;
export type TokenRejectReason = (typeof TokenRejectReason)[keyof typeof TokenRejectReason];

/** The token is absent or not a valid ID token of a trusted pool and client: API Gateway 401. */
export class TokenRejectedError extends AuthorizerError {
  readonly reason: TokenRejectReason;
  constructor(reason: TokenRejectReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenRejectedError';
    this.reason = reason;
  }
}

/** The signing keys could not be fetched (and none valid are cached): fail closed with a 500. */
export class JwksUnavailableError extends AuthorizerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksUnavailableError';
  }
}

/** Cognito Identity did not hand out credentials (after bounded retries): fail closed with a 500. */
export class CredentialsUnavailableError extends AuthorizerError {
  /** The Cognito Identity operation that failed, e.g. `GetOpenIdTokenForDeveloperIdentity`. */
  readonly operation: string;
  constructor(operation: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialsUnavailableError';
    this.operation = operation;
  }
}

/**
 * A dependency (JWKS endpoint, Cognito Identity, the membership read) did not answer within its time
 * limit. Raised so that a stalled dependency costs one time limit, not the whole function timeout
 * with requests piling up behind it; surfaces as the cause of the stage's own error (→ 500).
 */
export class DependencyTimeoutError extends AuthorizerError {
  /** What was waited for, e.g. `GetCredentialsForIdentity` or `JWKS`. */
  readonly dependency: string;
  /** The limit that was applied, in milliseconds. */
  readonly timeoutMs: number;
  constructor(dependency: string, timeoutMs: number) {
    super(`${dependency} did not answer within ${timeoutMs} ms`);
    this.name = 'DependencyTimeoutError';
    this.dependency = dependency;
    this.timeoutMs = timeoutMs;
  }
}

/** The membership check hook failed to answer: fail closed with a 500. */
export class MembershipCheckError extends AuthorizerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MembershipCheckError';
  }
}

/** A protected Lambda received no, or a malformed, tenant context from the authorizer. */
export class TenantContextError extends AuthorizerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TenantContextError';
  }
}
