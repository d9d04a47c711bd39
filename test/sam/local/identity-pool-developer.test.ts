/**
 * The stand-in as template.yaml's pool: developer-authenticated identities only, no user pool
 * trusted, no guests. Driven by the real `@aws-sdk/client-cognito-identity` (which signs
 * GetOpenIdTokenForDeveloperIdentity with SigV4 and sends the public operations unsigned): the
 * developer flow end to end, our credentials provider against it, every authentication, IAM and
 * input refusal with AWS's exception name, and a user's own ID token getting nothing anywhere.
 *
 * The stand-in's clock starts at the real time (SigV4 allows 15 minutes of skew) and tests move it by
 * assignment, a few minutes at most.
 */
import { randomBytes } from 'node:crypto';
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  type GetOpenIdTokenForDeveloperIdentityCommandInput,
} from '@aws-sdk/client-cognito-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialsProvider } from '../../../authorizer/credentials.js';
import {
  COGNITO_IDENTITY_LOGIN,
  type IamCaller,
  type IdentityPool,
  type IdentityPoolOptions,
  identityIdFor,
  startIdentityPool,
  TAGS_CLAIM,
} from '../../../sam/local/identity-pool/index.js';
import { createIamEvaluator } from '../../../sam/local/isolation/iam.js';
import { createTestKey, idTokenPayload, signJwt, TEST_POOL_ID } from '../../fixtures/keys.js';

/** Access key ids made at test time, so nothing shaped like a real AWS key is committed. */
const keyId = (prefix: 'AKIA' | 'ASIA') =>
  `${prefix}${randomBytes(8).toString('hex').toUpperCase()}`;
const UNKNOWN_KEY = keyId('AKIA');
const EXPIRED_KEY = keyId('ASIA');

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const POOL = 'us-east-1:0f0f0f0f-1111-2222-3333-444444444444';
const POOL_ARN = `arn:aws:cognito-identity:${REGION}:${ACCOUNT}:identitypool/${POOL}`;
const OTHER_POOL = 'us-east-1:00000000-0000-0000-0000-000000000000';
const DEV = 'login.tenantgate';
const USER_POOL_PROVIDER = `cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`;
const ACTION = 'cognito-identity:GetOpenIdTokenForDeveloperIdentity';
const TTL = 3600;

const clock = { ms: Math.floor(Date.now() / 1000) * 1000 };
const nowSeconds = () => Math.floor(clock.ms / 1000);
const userPoolKey = createTestKey();

const assumed = (role: string, session: string) =>
  `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`;
const allowOn = (...Resource: string[]) =>
  createIamEvaluator({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ACTION, Resource }],
  });

/** The stack's IAM principals as the stand-in sees them, by access key id. */
const CALLERS: Record<string, IamCaller> = {
  LocalRoleAuthorizerFunction: {
    secretAccessKey: 'authorizer-secret',
    principalArn: assumed('AuthorizerFunctionRole', 'AuthorizerFunction'),
    evaluator: allowOn(POOL_ARN),
  },
  LocalRoleMembersFunction: {
    secretAccessKey: 'members-secret',
    principalArn: assumed('MembersFunctionRole', 'MembersFunction'),
    evaluator: createIamEvaluator({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/t`,
        },
      ],
    }),
  },
  LocalRoleAnyPool: {
    secretAccessKey: 'any-secret',
    principalArn: assumed('AnyPoolRole', 'AnyPool'),
    evaluator: allowOn('*'),
  },
  LocalRoleDenied: {
    secretAccessKey: 'denied-secret',
    principalArn: assumed('DeniedRole', 'Denied'),
    evaluator: createIamEvaluator({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'cognito-identity:*', Resource: '*' },
        { Effect: 'Deny', Action: ACTION, Resource: POOL_ARN },
      ],
    }),
  },
  [EXPIRED_KEY]: {
    secretAccessKey: 'expired-secret',
    sessionToken: 'expired-session-token',
    expiration: new Date(0),
    principalArn: assumed('TenantDataRole', 'CognitoIdentityCredentials'),
    evaluator: allowOn(POOL_ARN),
  },
};

const options = (overrides: Partial<IdentityPoolOptions> = {}): IdentityPoolOptions => ({
  region: REGION,
  identityPoolId: POOL,
  developerProviderName: DEV,
  accountId: ACCOUNT,
  callers: (id) => CALLERS[id],
  credentialsTtlSeconds: TTL,
  now: () => clock.ms,
  ...overrides,
});

const clientAs = (
  endpoint: string,
  accessKeyId: string,
  secretAccessKey = CALLERS[accessKeyId]?.secretAccessKey ?? 'unknown',
  sessionToken?: string,
) =>
  new CognitoIdentityClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    maxAttempts: 1,
  });

interface Refusal {
  readonly name: string;
  readonly message: string;
  readonly status: number | undefined;
}
const refusal = (promise: Promise<unknown>): Promise<Refusal | 'resolved'> =>
  promise.then(
    () => 'resolved' as const,
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => ({
      name: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
    }),
  );

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

/** What the authorizer sends: the user of a user pool under the developer provider, tags chosen. */
const mintInput = (
  user: string,
  tags: Record<string, string> | null = { tenant_id: 'acme', user_id: user },
  extra: Partial<GetOpenIdTokenForDeveloperIdentityCommandInput> = {},
): GetOpenIdTokenForDeveloperIdentityCommandInput => ({
  IdentityPoolId: POOL,
  Logins: { [DEV]: `${USER_POOL_PROVIDER}:${user}` },
  ...(tags === null ? {} : { PrincipalTags: tags }),
  ...extra,
});

describe('identity-pool stand-in with developer-authenticated identities', () => {
  let pool: IdentityPool;
  let authorizer: CognitoIdentityClient;
  let anonymous: CognitoIdentityClient;

  beforeAll(async () => {
    pool = await startIdentityPool(options());
    authorizer = clientAs(pool.endpoint, 'LocalRoleAuthorizerFunction');
    // The public operations are sent unsigned whatever the credentials: any will do.
    anonymous = clientAs(pool.endpoint, 'NOBODY', 'nothing');
  });
  afterAll(async () => {
    authorizer?.destroy();
    anonymous?.destroy();
    await pool?.stop();
  });

  const mint = (input: GetOpenIdTokenForDeveloperIdentityCommandInput, client = authorizer) =>
    client.send(new GetOpenIdTokenForDeveloperIdentityCommand(input));
  const exchange = (IdentityId: string | undefined, token: string) =>
    anonymous.send(
      new GetCredentialsForIdentityCommand({
        IdentityId,
        Logins: { [COGNITO_IDENTITY_LOGIN]: token },
      }),
    );

  it('mints a documented token for a stable identity; the exchange gives credentials tagged with its tags', async () => {
    const first = await mint(mintInput('user-a'));
    const again = await mint(mintInput('user-a', { tenant_id: 'beta', user_id: 'user-a' }));
    const other = await mint(mintInput('user-b'));
    expect(first.IdentityId).toBe(identityIdFor(REGION, POOL, DEV, `${USER_POOL_PROVIDER}:user-a`));
    expect(first.IdentityId).toMatch(/^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);
    expect(again.IdentityId).toBe(first.IdentityId);
    expect(other.IdentityId).not.toBe(first.IdentityId);

    const token = first.Token ?? '';
    expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString())).toEqual({
      alg: 'HS256',
      typ: 'JWT',
      kid: expect.stringMatching(/^local-[0-9a-f]{8}$/),
    });
    expect(claimsOf(token)).toEqual({
      iss: 'https://cognito-identity.amazonaws.com',
      aud: POOL,
      sub: first.IdentityId,
      amr: ['authenticated', DEV, `${DEV}:${POOL}:${USER_POOL_PROVIDER}:user-a`],
      iat: nowSeconds(),
      exp: nowSeconds() + 900, // TokenDuration's default: 15 minutes
      [TAGS_CLAIM]: { principal_tags: { tenant_id: ['acme'], user_id: ['user-a'] } },
    });

    const sessionsBefore = pool.sessions.size;
    const out = await exchange(first.IdentityId, token);
    const beta = await exchange(again.IdentityId, again.Token ?? '');
    expect(out.IdentityId).toBe(first.IdentityId);
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.Credentials?.Expiration?.getTime()).toBe((nowSeconds() + TTL) * 1000);
    expect(beta.Credentials?.AccessKeyId).not.toBe(out.Credentials?.AccessKeyId);
    expect(pool.sessions.lookup(out.Credentials?.AccessKeyId ?? '')).toMatchObject({
      identityId: first.IdentityId,
      principalTags: { tenant_id: 'acme', user_id: 'user-a' },
      secretAccessKey: out.Credentials?.SecretKey,
      sessionToken: out.Credentials?.SessionToken,
    });
    expect(pool.sessions.lookup(beta.Credentials?.AccessKeyId ?? '')?.principalTags).toEqual({
      tenant_id: 'beta',
      user_id: 'user-a',
    });
    expect(pool.sessions.size).toBe(sessionsBefore + 2);
  });

  it('TokenDuration sets exp (1 s to 24 h); no PrincipalTags gives untagged credentials', async () => {
    const day = await mint(mintInput('user-d', null, { TokenDuration: 86_400 }));
    expect(claimsOf(day.Token ?? '').exp).toBe(nowSeconds() + 86_400);
    expect(claimsOf(day.Token ?? '')[TAGS_CLAIM]).toBeUndefined();
    const out = await exchange(day.IdentityId, day.Token ?? '');
    expect(pool.sessions.lookup(out.Credentials?.AccessKeyId ?? '')?.principalTags).toEqual({});
    const second = await mint(mintInput('user-d', null, { TokenDuration: 1 }));
    expect(claimsOf(second.Token ?? '').exp).toBe(nowSeconds() + 1);
  });

  it('our credentials provider against it: one mint and one exchange per user and tenant, tags as chosen', async () => {
    const provider = createCredentialsProvider({
      client: authorizer,
      identityPoolId: POOL,
      developerProviderName: DEV,
      refreshMarginSeconds: 300,
      now: () => clock.ms,
    });
    pool.resetStats();
    const principal = { providerName: USER_POOL_PROVIDER, userId: 'user-c', tenantId: 'acme' };
    for (let i = 0; i < 5; i++) {
      const got = await provider.get(principal);
      expect(pool.sessions.lookup(got.credentials.accessKeyId)?.principalTags).toEqual({
        tenant_id: 'acme',
        user_id: 'user-c',
      });
    }
    const beta = await provider.get({ ...principal, tenantId: 'beta' });
    expect(pool.sessions.lookup(beta.credentials.accessKeyId)?.principalTags.tenant_id).toBe(
      'beta',
    );
    expect(pool.stats()).toMatchObject({
      GetOpenIdTokenForDeveloperIdentity: 2,
      GetCredentialsForIdentity: 2,
      GetId: 0,
      errors: {},
    });
  });

  describe('authentication, as the AWS front end answers before the service', () => {
    const raw = (headers: Record<string, string>) =>
      fetch(`${pool.endpoint}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity',
          ...headers,
        },
        body: JSON.stringify(mintInput('user-u')),
      });

    it('an unsigned call: MissingAuthenticationTokenException, 400, nothing minted', async () => {
      pool.resetStats();
      const res = await raw({});
      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException:');
      expect(await res.json()).toEqual({
        __type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
        message: 'Request is missing Authentication Token',
      });
      const garbled = await raw({ authorization: 'Bearer something' });
      expect(garbled.status).toBe(400);
      expect(garbled.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException:');
      expect(pool.stats().errors).toEqual({
        MissingAuthenticationTokenException: 1,
        IncompleteSignatureException: 1,
      });
    });

    it.each([
      [
        'an access key the stack never issued',
        UNKNOWN_KEY,
        'whatever',
        undefined,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      ],
      [
        "the authorizer's key with a wrong secret",
        'LocalRoleAuthorizerFunction',
        'not-the-secret',
        undefined,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      ],
      [
        'temporary credentials without their session token',
        EXPIRED_KEY,
        'expired-secret',
        undefined,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      ],
      [
        'expired temporary credentials',
        EXPIRED_KEY,
        'expired-secret',
        'expired-session-token',
        'ExpiredTokenException',
        'The security token included in the request is expired',
      ],
    ])('%s: %s', async (_case, key, secret, sessionToken, name, message) => {
      const client = clientAs(pool.endpoint, key, secret, sessionToken);
      try {
        expect(await refusal(mint(mintInput('user-u'), client))).toEqual({
          name,
          message,
          status: 400,
        });
      } finally {
        client.destroy();
      }
    });
  });

  describe('IAM: the caller’s identity-based policy must allow the action on this pool’s ARN', () => {
    const as = async (key: string, input: GetOpenIdTokenForDeveloperIdentityCommandInput) => {
      const client = clientAs(pool.endpoint, key);
      try {
        return await refusal(mint(input, client));
      } finally {
        client.destroy();
      }
    };

    it('a role without the permission gets AccessDeniedException naming it, the action and the pool', async () => {
      expect(await as('LocalRoleMembersFunction', mintInput('user-i'))).toEqual({
        name: 'AccessDeniedException',
        message: `User: ${assumed('MembersFunctionRole', 'MembersFunction')} is not authorized to perform: ${ACTION} on resource: ${POOL_ARN} because no identity-based policy allows the ${ACTION} action`,
        status: 400,
      });
    });

    it('an explicit deny wins over an allow', async () => {
      expect(await as('LocalRoleDenied', mintInput('user-i'))).toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringMatching(/with an explicit deny in an identity-based policy$/),
      });
    });

    it('allowed on this pool only: another pool id is AccessDenied, not ResourceNotFound', async () => {
      expect(
        await as('LocalRoleAuthorizerFunction', {
          ...mintInput('user-i'),
          IdentityPoolId: OTHER_POOL,
        }),
      ).toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining(`identitypool/${OTHER_POOL}`),
      });
      expect(
        await as('LocalRoleAnyPool', { ...mintInput('user-i'), IdentityPoolId: OTHER_POOL }),
      ).toEqual({
        name: 'ResourceNotFoundException',
        message: `IdentityPool '${OTHER_POOL}' not found.`,
        status: 400,
      });
    });
  });

  describe('input, checked as the service does', () => {
    const tags = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`tag${i}`, 'v']));
    it.each([
      [
        'another developer provider',
        { ...mintInput('u'), Logins: { 'login.someone-else': 'u' } },
        'NotAuthorizedException',
        /^This identity pool does not support the specified developer provider$/,
      ],
      [
        'a user-pool login instead of the developer provider',
        {
          ...mintInput('u'),
          Logins: {
            [USER_POOL_PROVIDER]: signJwt(userPoolKey, idTokenPayload({ sub: 'u' }, nowSeconds())),
          },
        },
        'NotAuthorizedException',
        /does not support the specified developer provider/,
      ],
      [
        'no login',
        { ...mintInput('u'), Logins: {} },
        'NotAuthorizedException',
        /does not support the specified developer provider/,
      ],
      [
        'the developer provider and another login',
        { ...mintInput('u'), Logins: { [DEV]: 'u', 'login.other': 'u' } },
        'InvalidParameterException',
        /one login/,
      ],
      [
        'a developer user identifier over 1024 characters',
        { ...mintInput('u'), Logins: { [DEV]: 'u'.repeat(1025) } },
        'InvalidParameterException',
        /1 to 1024/,
      ],
      ['51 principal tags', mintInput('u', tags(51)), 'InvalidParameterException', /at most 50/],
      [
        'a tag key over 128 characters',
        mintInput('u', { ['k'.repeat(129)]: 'v' }),
        'InvalidParameterException',
        /keys must be 1 to 128/,
      ],
      [
        'a tag value over 256 characters',
        mintInput('u', { tenant_id: 'v'.repeat(257) }),
        'InvalidParameterException',
        /1 to 256/,
      ],
      [
        'an empty tag value',
        mintInput('u', { tenant_id: '' }),
        'InvalidParameterException',
        /1 to 256/,
      ],
      [
        'TokenDuration 0',
        mintInput('u', null, { TokenDuration: 0 }),
        'InvalidParameterException',
        /TokenDuration/,
      ],
      [
        'TokenDuration over 24 h',
        mintInput('u', null, { TokenDuration: 86_401 }),
        'InvalidParameterException',
        /TokenDuration/,
      ],
      [
        'a malformed pool id',
        { ...mintInput('u'), IdentityPoolId: 'us-east-1_TestPool1' },
        'ValidationException',
        /at 'identityPoolId'/,
      ],
    ] as const)('refuses %s', async (_case, input, name, message) => {
      const r = await refusal(mint(input as GetOpenIdTokenForDeveloperIdentityCommandInput));
      expect(r).toMatchObject({ name, status: 400 });
      expect((r as Refusal).message).toMatch(message);
    });

    it('50 tags of the longest key and value pass', async () => {
      const longest = Object.fromEntries(
        Array.from({ length: 50 }, (_, i) => [`${i}`.padEnd(128, 'k'), 'v'.repeat(256)]),
      );
      await expect(mint(mintInput('user-l', longest))).resolves.toMatchObject({
        Token: expect.any(String),
      });
    });

    it('a registered developer user cannot be moved to another identity', async () => {
      const { IdentityId: own } = await mint(mintInput('user-r'));
      const { IdentityId: other } = await mint(mintInput('user-s'));
      await expect(mint(mintInput('user-r', null, { IdentityId: own }))).resolves.toMatchObject({
        IdentityId: own,
      });
      expect(await refusal(mint(mintInput('user-r', null, { IdentityId: other })))).toEqual({
        name: 'DeveloperUserAlreadyRegisteredException',
        message: 'This developer user identifier is already registered with Cognito.',
        status: 400,
      });
    });
  });

  describe('GetCredentialsForIdentity with the pool’s own token', () => {
    it('refuses a token for another identity, forged, tampered, of another start, or expired — issuing nothing', async () => {
      const a = await mint(
        mintInput('user-x', { tenant_id: 'acme', user_id: 'user-x' }, { TokenDuration: 60 }),
      );
      const b = await mint(mintInput('user-y'));
      const token = a.Token ?? '';
      const [head, body, signature] = token.split('.');
      const claims = claimsOf(token);
      const retagged = `${head}.${Buffer.from(
        JSON.stringify({ ...claims, [TAGS_CLAIM]: { principal_tags: { tenant_id: ['beta'] } } }),
      ).toString('base64url')}.${signature}`;
      const noneAlg = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${body}.`;
      const elsewhere = await startIdentityPool(options());
      const foreignClient = clientAs(elsewhere.endpoint, 'LocalRoleAuthorizerFunction');
      const foreign = await mint(mintInput('user-x'), foreignClient);
      foreignClient.destroy();
      await elsewhere.stop();

      const sessions = pool.sessions.size;
      const invalid = /^Invalid login token\. Couldn't verify signed token\.$/;
      const cases: [string | undefined, string, RegExp][] = [
        [b.IdentityId, token, /^Logins don't match\. Please include at least one valid login/],
        [a.IdentityId, retagged, invalid],
        [a.IdentityId, noneAlg, /^Invalid login token\. (Couldn't verify|Not a valid)/],
        [a.IdentityId, foreign.Token ?? '', invalid],
        [a.IdentityId, 'not-a-token', /^Invalid login token\. Not a valid OpenId Connect/],
        [a.IdentityId, signJwt(userPoolKey, { ...claims }, { kid: 'x' }), invalid],
      ];
      for (const [identityId, login, message] of cases) {
        const r = await refusal(exchange(identityId, login));
        expect(r).toMatchObject({ name: 'NotAuthorizedException', status: 400 });
        expect((r as Refusal).message).toMatch(message);
      }
      const both = await refusal(
        anonymous.send(
          new GetCredentialsForIdentityCommand({
            IdentityId: a.IdentityId,
            Logins: { [COGNITO_IDENTITY_LOGIN]: token, [DEV]: 'user-x' },
          }),
        ),
      );
      expect(both).toMatchObject({ name: 'InvalidParameterException' });

      const saved = clock.ms;
      clock.ms += 60_000;
      try {
        const expired = await refusal(exchange(a.IdentityId, token));
        expect(expired).toMatchObject({
          name: 'NotAuthorizedException',
          message: `Invalid login token. Token expired: ${claims.exp} >= ${claims.exp}`,
        });
      } finally {
        clock.ms = saved;
      }
      expect(pool.sessions.size).toBe(sessions);
      // The genuine token still works before its exp.
      await expect(exchange(a.IdentityId, token)).resolves.toMatchObject({
        IdentityId: a.IdentityId,
      });
    });

    it('tags STS would refuse fail the exchange as the service does, with nothing issued', async () => {
      const sessions = pool.sessions.size;
      const refused: Record<string, string>[] = [
        { 'aws:tenant': 'acme' },
        { tenant_id: 'acme<script>' },
        { 'bad key!': 'v' },
      ];
      for (const tags of refused) {
        const minted = await mint(mintInput('user-t', tags));
        expect(await refusal(exchange(minted.IdentityId, minted.Token ?? ''))).toMatchObject({
          name: 'InvalidIdentityPoolConfigurationException',
          status: 400,
        });
      }
      expect(pool.sessions.size).toBe(sessions);
    });
  });

  describe("a user's own ID token gets nothing from the public operations", () => {
    const idToken = () =>
      signJwt(userPoolKey, idTokenPayload({ sub: 'user-a', tenantId: 'acme' }, nowSeconds()));
    const UNSUPPORTED = 'Token is not from a supported provider of this identity pool.';

    it('GetId, GetCredentialsForIdentity and GetOpenIdToken refuse it; no identity, token or credentials', async () => {
      pool.resetStats();
      const sessions = pool.sessions.size;
      const logins = { [USER_POOL_PROVIDER]: idToken() };
      const victim = identityIdFor(REGION, POOL, DEV, `${USER_POOL_PROVIDER}:user-a`);
      const answers = [
        await refusal(anonymous.send(new GetIdCommand({ IdentityPoolId: POOL, Logins: logins }))),
        await refusal(
          anonymous.send(
            new GetCredentialsForIdentityCommand({ IdentityId: victim, Logins: logins }),
          ),
        ),
        await refusal(
          anonymous.send(new GetOpenIdTokenCommand({ IdentityId: victim, Logins: logins })),
        ),
      ];
      for (const a of answers)
        expect(a).toEqual({ name: 'NotAuthorizedException', message: UNSUPPORTED, status: 400 });
      expect(pool.sessions.size).toBe(sessions);
      expect(pool.stats()).toMatchObject({
        GetId: 1,
        GetCredentialsForIdentity: 1,
        GetOpenIdToken: 1,
        errors: { NotAuthorizedException: 3 },
      });
    });

    it('no login is unauthenticated access (off); a Cognito token cannot go to GetId', async () => {
      expect(
        await refusal(anonymous.send(new GetIdCommand({ IdentityPoolId: POOL, Logins: {} }))),
      ).toEqual({
        name: 'NotAuthorizedException',
        message: 'Unauthenticated access is not supported for this identity pool.',
        status: 400,
      });
      const { IdentityId, Token } = await mint(mintInput('user-g'));
      const cognito = { [COGNITO_IDENTITY_LOGIN]: Token ?? '' };
      expect(
        await refusal(anonymous.send(new GetIdCommand({ IdentityPoolId: POOL, Logins: cognito }))),
      ).toEqual({
        name: 'NotAuthorizedException',
        message: "Invalid login token. Can't pass in a Cognito token.",
        status: 400,
      });
      expect(
        await refusal(anonymous.send(new GetOpenIdTokenCommand({ IdentityId, Logins: cognito }))),
      ).toMatchObject({
        name: 'NotAuthorizedException',
        message: expect.stringMatching(/Cognito token/),
      });
    });

    it('the developer provider is no public login either', async () => {
      const logins = { [DEV]: `${USER_POOL_PROVIDER}:user-a` };
      expect(
        await refusal(anonymous.send(new GetIdCommand({ IdentityPoolId: POOL, Logins: logins }))),
      ).toMatchObject({ name: 'NotAuthorizedException', status: 400 });
    });
  });
});
