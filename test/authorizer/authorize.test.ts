import { describe, expect, it, vi } from 'vitest';
import { type AuthorizerOptions, createAuthorizer } from '../../authorizer/authorize.js';
import { readCallerContext, readTenantContext } from '../../authorizer/context.js';
import type { CredentialsProvider } from '../../authorizer/credentials.js';
import {
  AuthorizerConfigError,
  CredentialsUnavailableError,
  JwksUnavailableError,
  MembershipCheckError,
  TokenRejectedError,
} from '../../authorizer/errors.js';
import type { IamPolicyResponse, SimpleResponse } from '../../authorizer/events.js';
import type { Logger, VerifiedIdToken } from '../../authorizer/types.js';
import {
  ARN_PREFIX,
  httpV1Event,
  httpV2Event,
  methodArn,
  restRequestEvent,
  tokenEvent,
} from '../fixtures/events.js';

const POOL = 'us-east-1_Pool1';
const GOOD = 'good.token.sig';
const SECRET = 'SECRETsecretSECRETsecret';
const SESSION = 'SESSIONtokenSESSIONtoken';

const verifiedFor = (claims: Record<string, unknown>): VerifiedIdToken => ({
  payload: Object.freeze({ sub: 'user-1', ...claims }),
  userPoolId: POOL,
  providerName: `cognito-idp.us-east-1.amazonaws.com/${POOL}`,
  sub: 'user-1',
  exp: 2_000_000_000,
});

const member = {
  'custom:tenant_id': 'acme',
  'custom:role': 'pilot',
  'cognito:groups': ['acme', 'beta'],
};

function setup(
  claims: Record<string, unknown> = member,
  overrides: Partial<AuthorizerOptions> = {},
) {
  const verify = vi.fn(async (token: string) => {
    if (token !== GOOD) throw new TokenRejectedError('invalid-signature', 'bad signature');
    return verifiedFor(claims);
  });
  const get = vi.fn<CredentialsProvider['get']>(async () => ({
    identityId: 'us-east-1:identity-1',
    credentials: {
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: SECRET,
      sessionToken: SESSION,
      expiration: new Date(2_000_000_000_000),
    },
    cached: false,
  }));
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m, ...x) => lines.push(JSON.stringify([m, x])),
    info: (m, ...x) => lines.push(JSON.stringify([m, x])),
    warn: (m, ...x) => lines.push(JSON.stringify([m, x])),
    error: (m, ...x) => lines.push(JSON.stringify([m, x])),
  };
  const handler = createAuthorizer({
    userPools: [{ userPoolId: POOL, clientIds: ['client'] }],
    identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
    developerProviderName: 'login.tenantgate',
    verifier: { verify },
    credentials: { get },
    logger,
    ...overrides,
  });
  return { handler, verify, get, lines };
}

const statement = (r: unknown) => (r as IamPolicyResponse).policyDocument.Statement[0];

describe('outcomes', () => {
  it.each([
    ['TOKEN', tokenEvent],
    ['REQUEST', restRequestEvent],
    ['HTTP 1.0', httpV1Event],
  ])('%s without a token → Unauthorized, verifier not called', async (_n, build) => {
    const { handler, verify } = setup();
    await expect(handler(build({}))).rejects.toThrow(/^Unauthorized$/);
    expect(verify).not.toHaveBeenCalled();
  });

  it('a rejected token → Unauthorized (exact message API Gateway maps to 401)', async () => {
    const { handler, get } = setup();
    const error = await handler(tokenEvent({ token: 'forged' })).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('Unauthorized');
    expect(get).not.toHaveBeenCalled();
  });

  it('a member → Allow on the whole API stage, with the full context', async () => {
    const { handler, get } = setup();
    const r = (await handler(tokenEvent({ token: GOOD }))) as IamPolicyResponse;
    expect(r.principalId).toBe('user-1');
    expect(statement(r)).toEqual({
      Action: 'execute-api:Invoke',
      Effect: 'Allow',
      Resource: [`${ARN_PREFIX}/prod/*/*`],
    });
    // The tags come from the checked member, never from the raw token.
    expect(get).toHaveBeenCalledWith({
      providerName: `cognito-idp.us-east-1.amazonaws.com/${POOL}`,
      userId: 'user-1',
      tenantId: 'acme',
    });
    const ctx = readTenantContext({ requestContext: { authorizer: r.context } });
    expect(ctx).toMatchObject({
      tenantId: 'acme',
      userId: 'user-1',
      role: 'pilot',
      groups: ['acme', 'beta'],
      identityId: 'us-east-1:identity-1',
    });
    expect(ctx.credentials.sessionToken).toBe(SESSION);
    expect(r.context?.credentialsExpiration).toBe(new Date(2_000_000_000_000).toISOString());
  });

  it('policyScope method → Allow on the exact methodArn', async () => {
    const { handler } = setup(member, { policyScope: 'method' });
    const r = await handler(tokenEvent({ token: GOOD, path: '/aircraft/7' }));
    expect(statement(r)?.Resource).toEqual([methodArn('GET', '/aircraft/7')]);
  });

  it('tenant not in groups → Deny on the whole API with the reason, no credentials', async () => {
    const { handler, get } = setup({ 'custom:tenant_id': 'acme', 'cognito:groups': ['beta'] });
    const r = (await handler(restRequestEvent({ token: GOOD }))) as IamPolicyResponse;
    expect(statement(r)).toMatchObject({ Effect: 'Deny', Resource: [`${ARN_PREFIX}/prod/*/*`] });
    expect(r.context).toEqual({ denyReason: 'tenant-not-in-groups' });
    expect(get).not.toHaveBeenCalled();
  });

  it('host mismatch → Deny; matching host → Allow', async () => {
    const { handler } = setup(member, { hostBaseDomain: 'example.com' });
    const denied = await handler(restRequestEvent({ token: GOOD, host: 'beta.example.com' }));
    expect(statement(denied)?.Effect).toBe('Deny');
    const allowed = await handler(restRequestEvent({ token: GOOD, host: 'acme.example.com' }));
    expect(statement(allowed)?.Effect).toBe('Allow');
    const tokenOnly = await handler(tokenEvent({ token: GOOD }));
    expect(statement(tokenOnly)?.Effect).toBe('Deny');
  });

  it('JWKS unavailable → the error is thrown (500), never Allow', async () => {
    const { handler, verify } = setup();
    verify.mockRejectedValueOnce(new JwksUnavailableError('jwks down'));
    await expect(handler(tokenEvent({ token: GOOD }))).rejects.toBeInstanceOf(JwksUnavailableError);
  });

  it('Cognito Identity unavailable → thrown (500), never Allow', async () => {
    const { handler, get } = setup();
    get.mockRejectedValueOnce(new CredentialsUnavailableError('GetId', 'throttled'));
    await expect(handler(tokenEvent({ token: GOOD }))).rejects.toBeInstanceOf(
      CredentialsUnavailableError,
    );
  });
});

describe('event shapes', () => {
  it('HTTP API 2.0 simple responses', async () => {
    const { handler } = setup();
    const r = (await handler(httpV2Event({ token: GOOD }))) as SimpleResponse;
    expect(r.isAuthorized).toBe(true);
    const ctx = readTenantContext({ requestContext: { authorizer: { lambda: r.context } } });
    expect(ctx.tenantId).toBe('acme');
    const denied = (await setup({ 'custom:tenant_id': 'x', 'cognito:groups': [] }).handler(
      httpV2Event({ token: GOOD }),
    )) as SimpleResponse;
    expect(denied).toEqual({
      isAuthorized: false,
      context: { denyReason: 'tenant-not-in-groups' },
    });
  });

  it('HTTP API 2.0 with IAM responses → policy on the route ARN stage', async () => {
    const { handler } = setup(member, { httpApiResponse: 'iam' });
    const r = await handler(httpV2Event({ token: GOOD }));
    expect(statement(r)).toMatchObject({
      Effect: 'Allow',
      Resource: [`${ARN_PREFIX}/$default/*/*`],
    });
  });

  it('HTTP API 1.0 → IAM policy', async () => {
    const r = await setup().handler(httpV1Event({ token: GOOD }));
    expect(statement(r)?.Effect).toBe('Allow');
  });

  it('an IAM-response event without a valid ARN → Unauthorized, not a guessed resource', async () => {
    const { handler } = setup();
    await expect(
      handler({ type: 'TOKEN', authorizationToken: GOOD, methodArn: 'nonsense' }),
    ).rejects.toThrow('Unauthorized');
  });
});

describe('tenant-less tokens', () => {
  it('get the same Allow on the tenant-less routes only, without credentials, on any route', async () => {
    const { handler, get } = setup({ 'cognito:groups': [] });
    for (const path of ['/tenants', '/aircraft']) {
      const r = (await handler(
        tokenEvent({ token: GOOD, method: 'POST', path }),
      )) as IamPolicyResponse;
      expect(statement(r)).toEqual({
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: [
          `${ARN_PREFIX}/prod/POST/tenants`,
          `${ARN_PREFIX}/prod/GET/me/tenants`,
          `${ARN_PREFIX}/prod/POST/me/tenant`,
        ],
      });
      expect(readCallerContext({ requestContext: { authorizer: r.context } })).toEqual({
        scope: 'tenantless',
        userId: 'user-1',
        groups: [],
      });
      expect(r.context).not.toHaveProperty('sessionToken');
    }
    expect(get).not.toHaveBeenCalled();
  });

  it('HTTP API simple responses decide per route', async () => {
    const { handler } = setup({});
    expect(
      (
        (await handler(
          httpV2Event({ token: GOOD, method: 'POST', path: '/tenants' }),
        )) as SimpleResponse
      ).isAuthorized,
    ).toBe(true);
    expect(
      (
        (await handler(
          httpV2Event({ token: GOOD, method: 'GET', path: '/aircraft' }),
        )) as SimpleResponse
      ).isAuthorized,
    ).toBe(false);
  });
});

describe('membership check', () => {
  it('a revoked member is denied, and the Deny carries no credentials', async () => {
    const check = vi.fn(async () => false);
    const { handler, get } = setup(member, { membershipCheck: check });
    const r = (await handler(tokenEvent({ token: GOOD }))) as IamPolicyResponse;
    expect(r.context).toEqual({ denyReason: 'membership-revoked' });
    expect(statement(r)?.Effect).toBe('Deny');
    expect(JSON.stringify(r)).not.toMatch(/ASIAEXAMPLE|SECRET|SESSION/);
    expect(check).toHaveBeenCalledWith({ tenantId: 'acme', userId: 'user-1', role: 'pilot' });
    // Asked for in parallel with the check, for the checked tenant and user only.
    expect(get).toHaveBeenCalledWith({
      providerName: `cognito-idp.us-east-1.amazonaws.com/${POOL}`,
      userId: 'user-1',
      tenantId: 'acme',
    });
  });

  it('the credential exchange runs beside the membership read, not after it', async () => {
    let answer: (still: boolean) => void = () => {};
    const check = vi.fn(() => new Promise<boolean>((resolve) => (answer = resolve)));
    const { handler, get } = setup(member, { membershipCheck: check });
    const pending = handler(tokenEvent({ token: GOOD }));
    await vi.waitFor(() => expect(check).toHaveBeenCalled());
    expect(get).toHaveBeenCalledTimes(1); // before the membership answer
    answer(true);
    expect(statement(await pending)?.Effect).toBe('Allow');
  });

  it('a Deny does not wait for credentials that never come', async () => {
    const { handler, get } = setup(member, { membershipCheck: async () => false });
    get.mockImplementation(() => new Promise(() => {}));
    expect(statement(await handler(tokenEvent({ token: GOOD })))?.Effect).toBe('Deny');
  });

  it('a failing check is a 500, not an Allow', async () => {
    const { handler } = setup(member, {
      membershipCheck: async () => Promise.reject(new Error('ddb down')),
    });
    await expect(handler(tokenEvent({ token: GOOD }))).rejects.toBeInstanceOf(MembershipCheckError);
  });

  // Every combination of the two parallel outcomes: Allow (with credentials) only when the check
  // passed and credentials came; a Deny never carries credentials; everything else is a 500.
  it.each([
    ['passes', 'mints', 'allow'],
    ['passes', 'fails', CredentialsUnavailableError],
    ['revokes', 'mints', 'deny'],
    ['revokes', 'fails', 'deny'],
    ['fails', 'mints', MembershipCheckError],
    ['fails', 'fails', MembershipCheckError],
    ['stalls', 'mints', MembershipCheckError],
  ] as const)('membership %s, credentials %s → %s', async (check, creds, expected) => {
    const { handler, get } = setup(member, {
      dependencyTimeoutMs: 5,
      membershipCheck: async () => {
        if (check === 'fails') throw new Error('ddb down');
        if (check === 'stalls') return new Promise<boolean>(() => {});
        return check === 'passes';
      },
    });
    if (creds === 'fails') get.mockRejectedValue(new CredentialsUnavailableError('GetId', 'down'));
    const outcome = await handler(tokenEvent({ token: GOOD })).then(
      (r) => r,
      (e: unknown) => e,
    );
    if (typeof expected !== 'string') {
      expect(outcome).toBeInstanceOf(expected);
      if (check === 'stalls')
        expect((outcome as Error).cause).toMatchObject({
          name: 'DependencyTimeoutError',
          timeoutMs: 10, // twice the dependency time limit
        });
      return;
    }
    const r = outcome as IamPolicyResponse;
    expect(statement(r)?.Effect).toBe(expected === 'allow' ? 'Allow' : 'Deny');
    expect(r.context?.secretAccessKey !== undefined).toBe(expected === 'allow');
    if (expected === 'deny') expect(JSON.stringify(r)).not.toMatch(/ASIAEXAMPLE|SECRET|SESSION/);
  });
});

describe('configuration', () => {
  it('rejects a refresh margin shorter than result TTL + clock skew, with every other problem', () => {
    let error: unknown;
    try {
      setup(member, {
        resultTtlSeconds: 600,
        clockSkewSeconds: 60,
        refreshMarginSeconds: 300,
        policyScope: 'all' as 'api',
        userPools: [],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthorizerConfigError);
    const issues = (error as AuthorizerConfigError).issues.join('\n');
    expect(issues).toMatch(/refreshMarginSeconds \(300\).*\(660\)/);
    expect(issues).toMatch(/policyScope/);
    expect(issues).toMatch(/userPools/);
  });
});

describe('metrics around the handler', () => {
  it('captures the cold start once and publishes decisions after successes and errors', async () => {
    let coldStarts = 0;
    const published: string[] = [];
    const metrics = {
      captureColdStartMetric: () => {
        coldStarts++;
      },
      addMetric: () => undefined,
      hasStoredMetrics: () => false,
      publishStoredMetrics: () => undefined,
      singleMetric: () => ({
        addDimensions: (d: Record<string, string>) => published.push(`${d.outcome}/${d.reason}`),
        addMetric: () => undefined,
      }),
    } as unknown as NonNullable<AuthorizerOptions['metrics']>;
    const { handler } = setup(member, { metrics, metricsFlushIntervalMs: 0 });
    await handler(tokenEvent({ token: GOOD }));
    await handler(tokenEvent({ token: 'bad' })).catch(() => {});
    expect(coldStarts).toBe(1);
    expect(published).toEqual(['allow/allowed', 'unauthorized/invalid-signature']);
  });
});

describe('logging', () => {
  it('never logs a token, secret key or session token, on any outcome', async () => {
    const { handler, lines, get } = setup(member, { membershipCheck: undefined });
    await handler(tokenEvent({ token: GOOD }));
    await handler(tokenEvent({ token: 'forged.token.here' })).catch(() => {});
    get.mockRejectedValueOnce(new CredentialsUnavailableError('GetId', 'down'));
    await handler(tokenEvent({ token: GOOD })).catch(() => {});
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of [GOOD, 'forged.token.here', SECRET, SESSION])
      expect(all).not.toContain(secret);
  });
});
