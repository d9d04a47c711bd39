/** The control plane's input limits, at their edges: every value a request carries is bounded here. */
import { describe, expect, it } from 'vitest';
import {
  isEmail,
  isRefreshToken,
  isUserId,
  isVersion,
  MAX_EMAIL_LENGTH,
  MAX_REFRESH_TOKEN_LENGTH,
  MAX_VERSION,
} from '../../tenants/index.js';

describe('limits', () => {
  it.each([
    ['a Cognito sub', '3f2a1c9e-0b7d-4e55-9a51-2c0d7f7b8a11', true],
    ['128 characters', 'u'.repeat(128), true],
    ['129 characters', 'u'.repeat(129), false],
    ['empty', '', false],
    ['a key part', 'USER#u1', false],
    ['an email', 'ann@example.com', false],
    ['a trailing newline', 'u1\n', false],
    ['a number', 42, false],
  ])('user id: %s → %s', (_name, value, ok) => {
    expect(isUserId(value)).toBe(ok);
  });

  it.each([
    ['plain', 'ann@example.com', true],
    ['at the limit', `${'a'.repeat(MAX_EMAIL_LENGTH - 12)}@example.com`, true],
    ['over the limit', `${'a'.repeat(MAX_EMAIL_LENGTH - 11)}@example.com`, false],
    ['no @', 'ann.example.com', false],
    ['no domain dot', 'ann@example', false],
    ['a space', 'ann smith@example.com', false],
    ['two @', 'ann@b@example.com', false],
    ['text around it', 'x ann@example.com', false],
    ['not a string', { email: 'ann@example.com' }, false],
  ])('email: %s → %s', (_name, value, ok) => {
    expect(isEmail(value)).toBe(ok);
  });

  it.each([
    ['a JWE-like token', 'eyJjdHkiOiJKV1QifQ.abc-def_ghi.x', true],
    ['at the limit', 'r'.repeat(MAX_REFRESH_TOKEN_LENGTH), true],
    ['over the limit', 'r'.repeat(MAX_REFRESH_TOKEN_LENGTH + 1), false],
    ['empty', '', false],
    ['a space', 'abc def', false],
    ['a line break at the end', 'abc\n', false],
    ['not a string', 7, false],
  ])('refresh token: %s → %s', (_name, value, ok) => {
    expect(isRefreshToken(value)).toBe(ok);
  });

  it.each([
    [1, true],
    [MAX_VERSION, true],
    [MAX_VERSION + 1, false],
    [0, false],
    [-1, false],
    [1.5, false],
    [Number.NaN, false],
    ['1', false],
  ])('version %j → %s', (value, ok) => {
    expect(isVersion(value)).toBe(ok);
  });
});

// Survivors of the tenants/ mutation run on main: a regex tests String(value), so a one-element array
// (from a JSON body) would pass every pattern without the typeof in front of it.
describe('a one-element array is not a string', () => {
  it('isEmail, isRefreshToken and isUserId refuse one; isVersion refuses a numeric string', () => {
    expect(isEmail(['ann@example.com'])).toBe(false);
    expect(isRefreshToken(['abc.def'])).toBe(false);
    expect(isUserId(['0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0'])).toBe(false);
    expect(isVersion('3')).toBe(false);
  });
});
