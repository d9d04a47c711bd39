import { describe, expect, it } from 'vitest';
import { readAllowedOrigins, readControlPlaneConfig } from '../../sam/config.js';
import { EnvConfigError } from '../../sam/errors.js';

const issuesOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvConfigError);
    return (error as EnvConfigError).issues;
  }
  throw new Error('expected an EnvConfigError');
};

describe('readControlPlaneConfig', () => {
  it('reads a table-only function with defaults, frozen', () => {
    const config = readControlPlaneConfig({ TABLE_NAME: ' tenantgate ' });
    expect(config).toEqual({
      tableName: 'tenantgate',
      tenantClaim: 'custom:tenant_id',
      roleClaim: 'custom:role',
      roleCacheTtlMs: 30_000,
      serviceName: 'tenantgate',
      allowedOrigins: [],
      dependencyTimeoutMs: 1000,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { tableName: string }).tableName = 'other';
    }).toThrow(TypeError);
  });

  it('reads a Cognito function and every override', () => {
    const config = readControlPlaneConfig(
      {
        TABLE_NAME: 'T',
        USER_POOL_ID: 'us-east-1_Pool1',
        USER_POOL_CLIENT_ID: 'client1',
        TENANT_CLAIM: 'custom:org',
        ROLE_CLAIM: 'custom:r',
        ROLE_CACHE_TTL_SECONDS: '0',
        POWERTOOLS_SERVICE_NAME: 'members',
        ALLOWED_ORIGINS: 'https://app.example.com, http://127.0.0.1:3002',
        DEPENDENCY_TIMEOUT_MS: '2500',
      },
      true,
    );
    expect(config).toEqual({
      tableName: 'T',
      userPoolId: 'us-east-1_Pool1',
      clientId: 'client1',
      tenantClaim: 'custom:org',
      roleClaim: 'custom:r',
      roleCacheTtlMs: 0,
      serviceName: 'members',
      allowedOrigins: ['https://app.example.com', 'http://127.0.0.1:3002'],
      dependencyTimeoutMs: 2500,
    });
  });

  it('requires TABLE_NAME (blank counts as missing)', () => {
    expect(issuesOf(() => readControlPlaneConfig({}))).toEqual(['TABLE_NAME is required']);
    expect(issuesOf(() => readControlPlaneConfig({ TABLE_NAME: '  ' }))).toEqual([
      'TABLE_NAME is required',
    ]);
  });

  it('requires the user pool and client only for functions that call Cognito', () => {
    expect(() => readControlPlaneConfig({ TABLE_NAME: 'T' }, false)).not.toThrow();
    expect(issuesOf(() => readControlPlaneConfig({ TABLE_NAME: 'T' }, true))).toEqual([
      'USER_POOL_ID is required',
      'USER_POOL_CLIENT_ID is required',
    ]);
  });

  it('lists every problem at once', () => {
    const issues = issuesOf(() =>
      readControlPlaneConfig({ USER_POOL_ID: ' ', ROLE_CACHE_TTL_SECONDS: 'soon' }, true),
    );
    expect(issues).toEqual([
      'TABLE_NAME is required',
      'USER_POOL_ID is required',
      'USER_POOL_CLIENT_ID is required',
      'ROLE_CACHE_TTL_SECONDS must be an integer from 0 to 300, got "soon"',
    ]);
    expect(Object.isFrozen(issues)).toBe(true);
  });

  it.each(['-1', '301', '1.5', 'NaN', '1e9', 'thirty'])(
    'refuses ROLE_CACHE_TTL_SECONDS=%s',
    (v) => {
      expect(
        issuesOf(() => readControlPlaneConfig({ TABLE_NAME: 'T', ROLE_CACHE_TTL_SECONDS: v })),
      ).toEqual([`ROLE_CACHE_TTL_SECONDS must be an integer from 0 to 300, got "${v}"`]);
    },
  );

  it.each([
    ['', 30_000],
    [' 45 ', 45_000],
    ['300', 300_000],
  ])('ROLE_CACHE_TTL_SECONDS=%j → %i ms', (v, ms) => {
    expect(
      readControlPlaneConfig({ TABLE_NAME: 'T', ROLE_CACHE_TTL_SECONDS: v }).roleCacheTtlMs,
    ).toBe(ms);
  });

  it.each(['99', '3001', '1.5', 'soon'])('refuses DEPENDENCY_TIMEOUT_MS=%s', (v) => {
    expect(
      issuesOf(() => readControlPlaneConfig({ TABLE_NAME: 'T', DEPENDENCY_TIMEOUT_MS: v })),
    ).toEqual([`DEPENDENCY_TIMEOUT_MS must be an integer from 100 to 3000 (ms), got "${v}"`]);
  });

  it('falls back to the default claim names when they are blank', () => {
    const config = readControlPlaneConfig({ TABLE_NAME: 'T', TENANT_CLAIM: ' ', ROLE_CLAIM: '' });
    expect(config.tenantClaim).toBe('custom:tenant_id');
    expect(config.roleClaim).toBe('custom:role');
  });

  it('reads process.env by default', () => {
    const saved = process.env.TABLE_NAME;
    process.env.TABLE_NAME = 'from-process-env';
    try {
      expect(readControlPlaneConfig().tableName).toBe('from-process-env');
    } finally {
      if (saved === undefined) delete process.env.TABLE_NAME;
      else process.env.TABLE_NAME = saved;
    }
  });
});

describe('readAllowedOrigins', () => {
  it('takes origins exactly as browsers send them, frozen; none when unset or blank', () => {
    const origins = readAllowedOrigins({
      ALLOWED_ORIGINS: 'https://app.example.com,http://localhost:5173,https://[::1]:8443',
    });
    expect(origins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
      'https://[::1]:8443',
    ]);
    expect(Object.isFrozen(origins)).toBe(true);
    expect(readAllowedOrigins({})).toEqual([]);
    expect(readAllowedOrigins({ ALLOWED_ORIGINS: ' , ' })).toEqual([]);
  });

  it('refuses a wildcard, null, paths and non-canonical spellings, every one at once', () => {
    expect(
      issuesOf(() =>
        readAllowedOrigins({
          ALLOWED_ORIGINS:
            '*,null,https://app.example.com/,https://App.example.com,https://a.example.com:443,https://a.example.com/app,ftp://files.example.com,app.example.com',
        }),
      ),
    ).toEqual([
      'ALLOWED_ORIGINS: "*" is not an origin (http(s)://host[:port], never * or null)',
      'ALLOWED_ORIGINS: "null" is not an origin (http(s)://host[:port], never * or null)',
      'ALLOWED_ORIGINS: "https://app.example.com/" is not an origin (write it as https://app.example.com)',
      'ALLOWED_ORIGINS: "https://App.example.com" is not an origin (write it as https://app.example.com)',
      'ALLOWED_ORIGINS: "https://a.example.com:443" is not an origin (write it as https://a.example.com)',
      'ALLOWED_ORIGINS: "https://a.example.com/app" is not an origin (write it as https://a.example.com)',
      'ALLOWED_ORIGINS: "ftp://files.example.com" is not an origin (http(s)://host[:port], never * or null)',
      'ALLOWED_ORIGINS: "app.example.com" is not an origin (http(s)://host[:port], never * or null)',
    ]);
  });

  it('a control-plane function refuses a bad list at init, with its other problems', () => {
    expect(issuesOf(() => readControlPlaneConfig({ ALLOWED_ORIGINS: '*' }))).toEqual([
      'TABLE_NAME is required',
      'ALLOWED_ORIGINS: "*" is not an origin (http(s)://host[:port], never * or null)',
    ]);
  });
});
