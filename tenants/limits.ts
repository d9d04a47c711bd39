/**
 * Input limits of the control plane, in one place. Every id, token and string a request carries is
 * bounded here and refused with a 400 (or a 404 for path ids) before it reaches DynamoDB or Cognito:
 * DynamoDB refuses a sort key over 1,024 bytes with a ValidationException (a 500 if it got that far),
 * and an unbounded string is work and storage an attacker chooses.
 */

/** A user id as Cognito issues it (`sub`, a UUID); a safe superset, never an email or a key part. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** Whether `value` is a user id (`sub`) the control plane accepts. */
export const isUserId = (value: unknown): value is string =>
  typeof value === 'string' && USER_ID_PATTERN.test(value);

/** RFC 5321's practical limit for an address. */
export const MAX_EMAIL_LENGTH = 254;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Whether `value` is an email address within {@link MAX_EMAIL_LENGTH}. */
export const isEmail = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= MAX_EMAIL_LENGTH && EMAIL.test(value);

/**
 * Cognito's refresh tokens are ~1.8 KB (an encrypted JWT); 8 KB leaves room for longer pools' tokens
 * and refuses a 300 KB body before any Cognito call.
 */
export const MAX_REFRESH_TOKEN_LENGTH = 8_192;
const REFRESH_TOKEN = /^[A-Za-z0-9_.-]+$/;
/** Whether `value` looks like a refresh token within {@link MAX_REFRESH_TOKEN_LENGTH}. */
export const isRefreshToken = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length > 0 &&
  value.length <= MAX_REFRESH_TOKEN_LENGTH &&
  REFRESH_TOKEN.test(value);

/** Optimistic versions: well inside a safe integer, so `version + 1` is exact. */
export const MAX_VERSION = 1_000_000_000;
/** Whether `value` is an optimistic version from 1 to {@link MAX_VERSION}. */
export const isVersion = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_VERSION;
