/**
 * The pool's password policy (`Policies.PasswordPolicy`, Cognito's default when the template sets
 * none: 8 characters, upper and lower case, a number and a symbol), enforced wherever a password is
 * set — cognito-local stores any password, `abc` included.
 *
 * Answers are InvalidPasswordException with Cognito's messages, one violation per answer (captured
 * from apps handling them: "Password did not conform with policy: Password not long enough",
 * "…: Password must have uppercase characters", "…lowercase…", "…numeric…", "…symbol…";
 * AdminCreateUser says "Password did not conform with password policy: …"). Which violation Cognito
 * names first when several apply is not documented; here length, then lower, upper, numbers,
 * symbols.
 */
import type { PasswordPolicy } from './data.js';
import { CognitoErrorType, CognitoServiceError } from './errors.js';

/** Cognito's default policy (also cognito-local's `USER_POOL_AWS_DEFAULTS`). */
export const DEFAULT_PASSWORD_POLICY: Required<PasswordPolicy> = Object.freeze({
  MinimumLength: 8,
  RequireUppercase: true,
  RequireLowercase: true,
  RequireNumbers: true,
  RequireSymbols: true,
});

/**
 * Cognito's special characters: ^ $ * . [ ] { } ( ) ? " ! @ # % & / \ , > < ' : ; | _ ~ ` = + -,
 * and a space that is neither leading nor trailing.
 */
const SYMBOL = /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+-]/;
const hasInnerSpace = (p: string) => / /.test(p.slice(1, -1));

/** The violation Cognito would name, or undefined when `password` satisfies the policy. */
export function passwordViolation(
  password: string,
  policy: PasswordPolicy | undefined,
): string | undefined {
  const p = { ...DEFAULT_PASSWORD_POLICY, ...policy };
  if ([...password].length < p.MinimumLength) return 'Password not long enough';
  if (p.RequireLowercase && !/[a-z]/.test(password))
    return 'Password must have lowercase characters';
  if (p.RequireUppercase && !/[A-Z]/.test(password))
    return 'Password must have uppercase characters';
  if (p.RequireNumbers && !/[0-9]/.test(password)) return 'Password must have numeric characters';
  if (p.RequireSymbols && !SYMBOL.test(password) && !hasInnerSpace(password))
    return 'Password must have symbol characters';
  return undefined;
}

/** Throws Cognito's InvalidPasswordException when `password` breaks the policy. */
export function assertPasswordConforms(
  password: string | undefined,
  policy: PasswordPolicy | undefined,
  prefix = 'Password did not conform with policy',
): void {
  if (password === undefined) return;
  const violation = passwordViolation(password, policy);
  if (violation)
    throw new CognitoServiceError(CognitoErrorType.invalidPassword, `${prefix}: ${violation}`);
}

/** AdminCreateUser's wording of the same answer. */
export const ADMIN_CREATE_USER_PREFIX = 'Password did not conform with password policy';
