import { describe, expect, it } from 'vitest';
import { readAuthorizerConfig } from '../../sam/config.js';
import { EnvConfigError } from '../../sam/errors.js';

const base = {
  USER_POOL_ID: 'us-east-1_Pool1',
  USER_POOL_CLIENT_IDS: 'client-a, client-b',
  IDENTITY_POOL_ID: 'us-east-1:00000000-0000-0000-0000-000000000000',
  DEVELOPER_PROVIDER_NAME: 'login.tenantgate',
};

describe('readAuthorizerConfig', () => {
  it('reads a minimal environment with defaults, frozen', () => {
    const config = readAuthorizerConfig(base);
    expect(config).toMatchObject({
      userPools: [{ userPoolId: 'us-east-1_Pool1', clientIds: ['client-a', 'client-b'] }],
      identityPoolId: base.IDENTITY_POOL_ID,
      developerProviderName: 'login.tenantgate',
      openIdTokenSeconds: 3600,
      mode: 'pooled',
      tenantClaim: 'custom:tenant_id',
      roleClaim: 'custom:role',
      resultTtlSeconds: 300,
      clockSkewSeconds: 60,
      refreshMarginSeconds: 900,
      policyScope: 'api',
      httpApiResponse: 'simple',
      serviceName: 'tenantgate',
      dependencyTimeoutMs: 1000,
      logLevel: 'INFO',
      metricsDisabled: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.region).toBeUndefined();
    expect(config.dynamodbEndpoint).toBeUndefined();
    expect(config.hostBaseDomain).toBeUndefined();
  });

  it('reads every variable', () => {
    const config = readAuthorizerConfig({
      ...base,
      TENANT_MODE: 'pooled',
      TENANT_CLAIM: 'custom:org',
      ROLE_CLAIM: 'custom:r',
      OPENID_TOKEN_SECONDS: '900',
      RESULT_TTL_SECONDS: '60',
      CLOCK_SKEW_SECONDS: '30',
      REFRESH_MARGIN_SECONDS: '600',
      POLICY_SCOPE: 'method',
      HOST_CHECK: 'subdomain',
      HOST_BASE_DOMAIN: 'example.com',
      TENANTLESS_ROUTES: 'POST /tenants, GET /me/tenants',
      HTTP_API_RESPONSE: 'iam',
      DEPENDENCY_TIMEOUT_MS: '1500',
    });
    expect(config).toMatchObject({
      dependencyTimeoutMs: 1500,
      tenantClaim: 'custom:org',
      openIdTokenSeconds: 900,
      resultTtlSeconds: 60,
      policyScope: 'method',
      hostBaseDomain: 'example.com',
      tenantlessRoutes: ['POST /tenants', 'GET /me/tenants'],
      httpApiResponse: 'iam',
    });
  });

  it('reads several pools as JSON (siloed)', () => {
    const config = readAuthorizerConfig({
      IDENTITY_POOL_ID: base.IDENTITY_POOL_ID,
      DEVELOPER_PROVIDER_NAME: base.DEVELOPER_PROVIDER_NAME,
      TENANT_MODE: 'siloed',
      USER_POOLS: JSON.stringify([
        { userPoolId: 'us-east-1_A', clientIds: ['a'], tenantId: 'acme' },
        { userPoolId: 'eu-west-1_B', clientIds: ['b'], tenantId: 'beta' },
      ]),
    });
    expect(config.userPools).toHaveLength(2);
    expect(config.userPools[1]).toEqual({
      userPoolId: 'eu-west-1_B',
      clientIds: ['b'],
      tenantId: 'beta',
    });
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      readAuthorizerConfig({
        RESULT_TTL_SECONDS: 'five',
        DEPENDENCY_TIMEOUT_MS: '10000',
        POLICY_SCOPE: 'everything',
        HOST_CHECK: 'subdomain',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvConfigError);
    const issues = (error as EnvConfigError).issues.join('\n');
    for (const name of [
      'USER_POOL_ID',
      'USER_POOL_CLIENT_IDS',
      'IDENTITY_POOL_ID',
      'DEVELOPER_PROVIDER_NAME',
      'RESULT_TTL_SECONDS',
      'POLICY_SCOPE',
      'HOST_BASE_DOMAIN',
      'DEPENDENCY_TIMEOUT_MS',
    ]) {
      expect(issues).toContain(name);
    }
  });

  it('rejects malformed USER_POOLS', () => {
    expect(() => readAuthorizerConfig({ ...base, USER_POOLS: '{' })).toThrow(/USER_POOLS/);
    expect(() => readAuthorizerConfig({ ...base, USER_POOLS: '[{"userPoolId":1}]' })).toThrow(
      /USER_POOLS\[0\]/,
    );
  });

  it('reuses membership answers 60 s by default, less when asked, never more (the revocation bound)', () => {
    expect(readAuthorizerConfig(base).membershipTtlMs).toBe(60_000);
    expect(readAuthorizerConfig({ ...base, MEMBERSHIP_CACHE_SECONDS: '0' }).membershipTtlMs).toBe(
      0,
    );
    expect(() => readAuthorizerConfig({ ...base, MEMBERSHIP_CACHE_SECONDS: '61' })).toThrow(
      /MEMBERSHIP_CACHE_SECONDS must be at most 60/,
    );
  });

  it('reads what the authorizer’s own logs, metrics and membership read need', () => {
    const config = readAuthorizerConfig({
      ...base,
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POWERTOOLS_METRICS_DISABLED: 'TRUE',
      AWS_LAMBDA_FUNCTION_NAME: 'stack-AuthorizerFunction-1',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8001',
      MEMBERSHIP_CHECK: 'on',
      TABLE_NAME: 'T',
    });
    expect(config).toMatchObject({
      logLevel: 'DEBUG',
      metricsDisabled: true,
      functionName: 'stack-AuthorizerFunction-1',
      region: 'eu-west-1',
      dynamodbEndpoint: 'http://127.0.0.1:8001', // the DynamoDB-specific one wins, as in the SDK
      membershipTable: 'T',
    });
  });

  it('needs a region for the membership read, and a known log level', () => {
    expect(() =>
      readAuthorizerConfig({ ...base, MEMBERSHIP_CHECK: 'on', TABLE_NAME: 'T' }),
    ).toThrow(/AWS_REGION is required when MEMBERSHIP_CHECK or SHARE_OPENID_TOKENS is on/);
    expect(() => readAuthorizerConfig({ ...base, POWERTOOLS_LOG_LEVEL: 'chatty' })).toThrow(
      /POWERTOOLS_LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR/,
    );
  });

  it('shares OpenID tokens through the table only when asked (SHARE_OPENID_TOKENS=on)', () => {
    expect(readAuthorizerConfig(base).openIdTokenTable).toBeUndefined();
    expect(
      readAuthorizerConfig({
        ...base,
        SHARE_OPENID_TOKENS: 'on',
        TABLE_NAME: 'T',
        AWS_REGION: 'us-east-1',
      }).openIdTokenTable,
    ).toBe('T');
    expect(() => readAuthorizerConfig({ ...base, SHARE_OPENID_TOKENS: 'on' })).toThrow(
      /TABLE_NAME is required when SHARE_OPENID_TOKENS=on[\s\S]*AWS_REGION is required/,
    );
    expect(() => readAuthorizerConfig({ ...base, SHARE_OPENID_TOKENS: 'yes' })).toThrow(
      /SHARE_OPENID_TOKENS must be one of on, off/,
    );
  });
});
