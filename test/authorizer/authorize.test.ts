import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import { mockClient } from 'aws-sdk-client-mock';
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

  // With IAM responses an HTTP API 2.0 refusal is a policy too, never a simple response.
  it('HTTP API 2.0 with IAM responses → Deny and tenant-less answers are policies', async () => {
    const denied = await setup(
      { 'custom:tenant_id': 'x', 'cognito:groups': [] },
      { httpApiResponse: 'iam' },
    ).handler(httpV2Event({ token: GOOD }));
    expect(statement(denied)).toMatchObject({
      Effect: 'Deny',
      Resource: [`${ARN_PREFIX}/$default/*/*`],
    });
    const tenantless = await setup({}, { httpApiResponse: 'iam' }).handler(
      httpV2Event({ token: GOOD, method: 'GET', path: '/aircraft' }),
    );
    expect(statement(tenantless)?.Effect).toBe('Allow');
    expect((tenantless as IamPolicyResponse).context).toMatchObject({ scope: 'tenantless' });
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
  it('a member the check confirms is allowed, with credentials', async () => {
    const check = vi.fn(async () => true);
    const { handler, get } = setup(member, { membershipCheck: check });
    const r = (await handler(tokenEvent({ token: GOOD }))) as IamPolicyResponse;
    expect(statement(r)?.Effect).toBe('Allow');
    expect(r.context?.tenantId).toBe('acme');
    expect(check).toHaveBeenCalledOnce();
    expect(get).toHaveBeenCalledOnce();
  });

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

/** A Powertools Metrics stand-in: counts cold starts, records each published outcome/reason. */
const fakeMetrics = () => {
  const published: string[] = [];
  const counted = { coldStarts: 0 };
  const metrics = {
    captureColdStartMetric: () => {
      counted.coldStarts++;
    },
    addMetric: () => undefined,
    hasStoredMetrics: () => false,
    publishStoredMetrics: () => undefined,
    singleMetric: () => ({
      addDimensions: (d: Record<string, string>) => published.push(`${d.outcome}/${d.reason}`),
      addMetric: () => undefined,
    }),
  } as unknown as NonNullable<AuthorizerOptions['metrics']>;
  return { metrics, published, counted };
};

describe('metrics around the handler', () => {
  it('captures the cold start once and publishes decisions after successes and errors', async () => {
    const { metrics, published, counted } = fakeMetrics();
    const { handler } = setup(member, { metrics, metricsFlushIntervalMs: 0 });
    await handler(tokenEvent({ token: GOOD }));
    await handler(tokenEvent({ token: 'bad' })).catch(() => {});
    expect(counted.coldStarts).toBe(1);
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

describe('outcome records: a 401 is no error, anything else is one', () => {
  const withMetrics = (overrides: Partial<AuthorizerOptions> = {}) => {
    const { metrics, published } = fakeMetrics();
    return { ...setup(member, { metrics, metricsFlushIntervalMs: 0, ...overrides }), published };
  };
  const errorLines = (lines: string[]) => lines.filter((l) => l.startsWith('["authorizer failed"'));

  it('Unauthorized is recorded once, with its reason, and never as an error', async () => {
    const { handler, published, lines } = withMetrics();
    await expect(handler(tokenEvent({ token: 'forged' }))).rejects.toThrow(/^Unauthorized$/);
    await expect(handler(tokenEvent({}))).rejects.toThrow(/^Unauthorized$/);
    expect(published).toEqual(['unauthorized/invalid-signature', 'unauthorized/missing']);
    expect(errorLines(lines)).toEqual([]);
  });

  it('an infrastructure failure is thrown as itself (a 500) and recorded as an error by name', async () => {
    const { handler, published, lines, get } = withMetrics();
    const failure = new CredentialsUnavailableError('GetCredentialsForIdentity', 'down');
    get.mockRejectedValueOnce(failure);
    await expect(handler(tokenEvent({ token: GOOD }))).rejects.toBe(failure);
    expect(published).toEqual(['error/CredentialsUnavailableError']);
    expect(errorLines(lines)).toHaveLength(1);
    expect(errorLines(lines)[0]).toContain('down');
  });

  // Only the exact `new Error('Unauthorized')` is a 401: an error of another type that happens to
  // say "Unauthorized" (an SDK's NotAuthorizedException message, say) stays a recorded 500.
  it.each([
    ['a typed error saying Unauthorized', Object.assign(new Error('Unauthorized'), { name: 'X' })],
    ['an Error saying something else', new Error('Unauthorized!')],
    ['a thrown string', 'Unauthorized'],
  ])('%s is recorded as an error', async (_name, thrown) => {
    const { handler, published, get } = withMetrics();
    get.mockRejectedValueOnce(thrown);
    await expect(handler(tokenEvent({ token: GOOD }))).rejects.toBe(thrown);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatch(/^error\//);
  });

  it('a Deny is recorded as a refusal, not an error', async () => {
    const { handler, published, lines } = withMetrics({
      membershipCheck: async () => false,
    });
    await handler(tokenEvent({ token: GOOD }));
    expect(published).toEqual(['deny/membership-revoked']);
    expect(lines.some((l) => l.startsWith('["refused"'))).toBe(true);
    expect(errorLines(lines)).toEqual([]);
  });

  it('a membership check failing with an authorizer error keeps it; any other becomes MembershipCheckError', async () => {
    const own = new CredentialsUnavailableError('GetCredentialsForIdentity', 'x');
    const kept = setup(member, { membershipCheck: async () => Promise.reject(own) });
    await expect(kept.handler(tokenEvent({ token: GOOD }))).rejects.toBe(own);
    const cause = new Error('ddb down');
    const wrapped = setup(member, { membershipCheck: async () => Promise.reject(cause) });
    const error = await wrapped.handler(tokenEvent({ token: GOOD })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MembershipCheckError);
    expect((error as Error).cause).toBe(cause);
  });
});

describe('the ARN a policy is scoped to', () => {
  it('HTTP API simple responses need none: a bad routeArn still gets its answer', async () => {
    const { handler } = setup();
    const r = (await handler({
      ...httpV2Event({ token: GOOD }),
      routeArn: 'nonsense',
    })) as SimpleResponse;
    expect(r.isAuthorized).toBe(true);
    const tenantless = setup({});
    const t = (await tenantless.handler({
      ...httpV2Event({ token: GOOD, method: 'POST', path: '/tenants' }),
      routeArn: 'nonsense',
    })) as SimpleResponse;
    expect(t.isAuthorized).toBe(true);
  });

  it.each([
    ['TOKEN', { ...tokenEvent({ token: GOOD }), methodArn: 'arn:aws:s3:::bucket/prod/GET/x' }],
    ['HTTP API iam', { ...httpV2Event({ token: GOOD }), routeArn: 'nonsense' }],
  ])('%s without an execute-api ARN → Unauthorized, verifier not called', async (name, event) => {
    const { handler, verify } = setup(member, name === 'TOKEN' ? {} : { httpApiResponse: 'iam' });
    await expect(handler(event)).rejects.toThrow(/^Unauthorized$/);
    expect(verify).not.toHaveBeenCalled();
  });
});

describe('configuration bounds', () => {
  const issuesOf = (overrides: Partial<AuthorizerOptions>) => {
    try {
      setup(member, overrides);
    } catch (error) {
      expect(error).toBeInstanceOf(AuthorizerConfigError);
      return (error as AuthorizerConfigError).issues;
    }
    return [];
  };

  it.each([
    [{ resultTtlSeconds: 0 }, []],
    [{ resultTtlSeconds: 3600, refreshMarginSeconds: 3660 - 1 }, ['refreshMarginSeconds']],
    [{ resultTtlSeconds: 3600, clockSkewSeconds: 0, refreshMarginSeconds: 3600 }, []],
    [{ resultTtlSeconds: 3601, refreshMarginSeconds: 3700 }, ['resultTtlSeconds']],
    [{ resultTtlSeconds: -1 }, ['resultTtlSeconds']],
    [{ resultTtlSeconds: 1.5 }, ['resultTtlSeconds']],
    [{ clockSkewSeconds: 0 }, []],
    [{ clockSkewSeconds: -1 }, ['clockSkewSeconds']],
    [{ clockSkewSeconds: 0.5 }, ['clockSkewSeconds']],
    // Exactly TTL + skew is enough: a cached result's credentials outlive it.
    [{ resultTtlSeconds: 300, clockSkewSeconds: 60, refreshMarginSeconds: 360 }, []],
    [
      { resultTtlSeconds: 300, clockSkewSeconds: 60, refreshMarginSeconds: 359 },
      ['refreshMarginSeconds'],
    ],
    [{ refreshMarginSeconds: Number.NaN }, ['refreshMarginSeconds']],
    [{ policyScope: 'method' as const }, []],
    [{ httpApiResponse: 'iam' as const }, []],
    [{ httpApiResponse: 'both' as 'iam' }, ['httpApiResponse']],
    // Every dependency call gets at most this; 20 s is two thirds of API Gateway's 29 s.
    [{ dependencyTimeoutMs: 1 }, []],
    [{ dependencyTimeoutMs: 20_000 }, []],
    [{ dependencyTimeoutMs: 20_001 }, ['dependencyTimeoutMs']],
    [{ dependencyTimeoutMs: 0 }, ['dependencyTimeoutMs']],
  ])('%j → issues about %j', (overrides, expected) => {
    const issues = issuesOf(overrides);
    expect(issues.map((i) => i.match(/^\w+/)?.[0])).toEqual(expected);
  });

  // The exact wording: what an operator reads when a deploy fails at init.
  it('names each problem and the value given', () => {
    expect(
      issuesOf({
        resultTtlSeconds: 3601,
        clockSkewSeconds: -1,
        refreshMarginSeconds: 900,
        policyScope: 'stage' as 'api',
        httpApiResponse: 'both' as 'iam',
        userPools: [],
      }),
    ).toEqual([
      'resultTtlSeconds must be an integer from 0 to 3600, got 3601',
      'clockSkewSeconds must be a non-negative integer, got -1',
      'refreshMarginSeconds (900) must be at least resultTtlSeconds + clockSkewSeconds (3600)',
      'policyScope must be api or method, got "stage"',
      'httpApiResponse must be simple or iam, got "both"',
      'userPools must name at least one user pool',
    ]);
  });

  it('problems of the tenant rules and the token verifier are listed with the others', () => {
    const issues = issuesOf({
      verifier: undefined,
      userPools: [{ userPoolId: 'nope', clientIds: ['c'] }],
      tenantClaim: ' ',
      resultTtlSeconds: -1,
    });
    expect(issues.join('\n')).toMatch(/resultTtlSeconds/);
    expect(issues.join('\n')).toMatch(/tenantClaim/);
    expect(issues.join('\n')).toMatch(/userPools\[0\]\.userPoolId/);
  });

  it('an error that is no configuration problem is not swallowed', () => {
    expect(() =>
      setup(member, {
        // Not iterable: createTenantRules fails with a TypeError, not AuthorizerConfigError.
        tenantlessRoutes: 42 as never,
      }),
    ).toThrow(TypeError);
  });
});

describe('built with the real credentials provider (Cognito Identity mocked)', () => {
  const cognito = new CognitoIdentityClient({ region: 'us-east-1', maxAttempts: 1 });
  const cognitoMock = mockClient(cognito);
  const NOW = 1_900_000_000_000;
  const provider = `cognito-idp.us-east-1.amazonaws.com/${POOL}`;
  const real = (overrides: Partial<AuthorizerOptions> = {}) => {
    cognitoMock.reset();
    cognitoMock
      .on(GetOpenIdTokenForDeveloperIdentityCommand)
      .resolves({ IdentityId: 'us-east-1:id-1', Token: 'openid-token' });
    cognitoMock.on(GetCredentialsForIdentityCommand).resolves({
      IdentityId: 'us-east-1:id-1',
      Credentials: {
        AccessKeyId: 'ASIAREAL',
        SecretKey: SECRET,
        SessionToken: SESSION,
        Expiration: new Date(NOW + 3_600_000),
      },
    });
    return setup(member, {
      credentials: undefined,
      cognitoIdentity: cognito,
      now: () => NOW,
      ...overrides,
    });
  };
  const openIdInputs = () =>
    cognitoMock.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand).map((c) => c.args[0].input);

  it('mints with the defaults: tags tenant_id and user_id, one-hour OpenID token, cached after', async () => {
    const { handler } = real();
    const r = (await handler(tokenEvent({ token: GOOD }))) as IamPolicyResponse;
    expect(statement(r)?.Effect).toBe('Allow');
    expect(readTenantContext({ requestContext: { authorizer: r.context } })).toMatchObject({
      tenantId: 'acme',
      identityId: 'us-east-1:id-1',
      credentials: { accessKeyId: 'ASIAREAL', sessionToken: SESSION },
    });
    expect(openIdInputs()).toEqual([
      {
        IdentityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
        Logins: { 'login.tenantgate': `${provider}:user-1` },
        PrincipalTags: { tenant_id: 'acme', user_id: 'user-1' },
        TokenDuration: 3600,
      },
    ]);
    await handler(tokenEvent({ token: GOOD }));
    expect(cognitoMock.commandCalls(GetCredentialsForIdentityCommand)).toHaveLength(1);
  });

  it('passes its own options down: tag names, OpenID token lifetime', async () => {
    const { handler } = real({
      tenantTag: 'tg_tenant',
      userTag: 'tg_user',
      openIdTokenSeconds: 7200,
    });
    await handler(tokenEvent({ token: GOOD }));
    expect(openIdInputs()[0]).toMatchObject({
      PrincipalTags: { tg_tenant: 'acme', tg_user: 'user-1' },
      TokenDuration: 7200,
    });
  });

  it("refuses credentials inside the authorizer's refresh margin (its clock, its margin)", async () => {
    // Credentials with 1000 s left: enough for the default margin of 900, not for 1200.
    const { handler } = real({ refreshMarginSeconds: 1200, now: () => NOW + 2_600_000 });
    await expect(handler(tokenEvent({ token: GOOD }))).rejects.toBeInstanceOf(
      CredentialsUnavailableError,
    );
    const fine = real({ now: () => NOW + 2_600_000 });
    await expect(fine.handler(tokenEvent({ token: GOOD }))).resolves.toBeDefined();
  });

  it('its own options are validated with the rest', () => {
    expect(() => real({ openIdTokenSeconds: 60, tenantTag: 'aws:tenant' })).toThrow(
      /openIdTokenSeconds[\s\S]*tenantTag|tenantTag[\s\S]*openIdTokenSeconds/,
    );
    expect(() => real({ identityPoolId: 'nope' })).toThrow(AuthorizerConfigError);
    // The cache sizes reach the provider and the verifier (whose validation names them).
    expect(() => real({ credentialsCacheSize: 0 })).toThrow(
      /maxEntries must be a positive integer/,
    );
    expect(() => real({ verifier: undefined, tokenCacheSize: -1 })).toThrow(
      /cacheSize must be a non-negative integer/,
    );
  });

  it('without a client of its own, builds one for the pool region (no call at init)', () => {
    expect(() => setup(member, { credentials: undefined })).not.toThrow();
  });
});

describe("siloed mode: the tenant is the issuing pool's", () => {
  const siloed = (claims: Record<string, unknown>, pools: AuthorizerOptions['userPools']) =>
    setup(claims, { mode: 'siloed', userPools: pools });

  it("a token of the pool gets the pool's tenant; naming another tenant is a Deny", async () => {
    const pools = [{ userPoolId: POOL, clientIds: ['client'], tenantId: 'acme' }];
    const { handler, get } = siloed({ 'custom:role': 'pilot' }, pools);
    const r = (await handler(tokenEvent({ token: GOOD }))) as IamPolicyResponse;
    expect(statement(r)?.Effect).toBe('Allow');
    expect(get).toHaveBeenCalledWith(expect.objectContaining({ tenantId: 'acme' }));
    const other = siloed({ 'custom:tenant_id': 'beta' }, pools);
    const denied = (await other.handler(tokenEvent({ token: GOOD }))) as IamPolicyResponse;
    expect(denied.context).toEqual({ denyReason: 'tenant-mismatch' });
  });

  it('a pool without a tenant serves none: refused at init when no pool has one', () => {
    expect(() => siloed({}, [{ userPoolId: POOL, clientIds: ['client'] }])).toThrow(
      /siloed mode needs a tenant/,
    );
  });

  it('a token of a pool without a tenant is a Deny (unknown-pool)', async () => {
    const pools = [
      { userPoolId: 'us-east-1_Other', clientIds: ['client'], tenantId: 'beta' },
      { userPoolId: POOL, clientIds: ['client'] },
    ];
    const { handler } = siloed({}, pools);
    const r = (await handler(tokenEvent({ token: GOOD }))) as IamPolicyResponse;
    expect(r.context).toEqual({ denyReason: 'unknown-pool' });
  });
});
