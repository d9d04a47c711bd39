import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  type GetCredentialsForIdentityCommandOutput,
  GetIdCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  type GetOpenIdTokenForDeveloperIdentityCommandInput,
  InternalErrorException,
  InvalidParameterException,
  LimitExceededException,
  NotAuthorizedException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-cognito-identity';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type CredentialsPrincipal,
  type CredentialsProviderOptions,
  classifyCognitoError,
  createCredentialsProvider,
  createLruCache,
  type SharedOpenIdToken,
  type SharedOpenIdTokens,
} from '../../authorizer/credentials.js';
import {
  AuthorizerConfigError,
  CredentialsUnavailableError,
  DependencyTimeoutError,
} from '../../authorizer/errors.js';
import type { AuthorizerObserver } from '../../authorizer/types.js';

const POOL_ID = 'us-east-1:0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const DEV = 'login.tenantgate';
const PROVIDER = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1';
const OTHER_PROVIDER = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool2';
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

const principal = (
  userId: string,
  tenantId: string,
  providerName = PROVIDER,
): CredentialsPrincipal => ({ providerName, userId, tenantId });
const alice = (tenant: string) => principal('alice', tenant);
const bob = (tenant: string) => principal('bob', tenant);

const client = new CognitoIdentityClient({ region: 'us-east-1', maxAttempts: 1 });
const mock = mockClient(client);

let t = T0;
let sleeps: number[] = [];
let minted = 0;
let tokens = 0;
let lifetimeMs = HOUR;
let events: string[] = [];

const observer: AuthorizerObserver = {
  credentialsCache: (hit) => events.push(`credentials:${hit ? 'hit' : 'miss'}`),
  openIdTokenCache: (hit) => events.push(`openid:${hit ? 'hit' : 'miss'}`),
  sharedOpenIdToken: (hit) => events.push(`shared:${hit ? 'hit' : 'miss'}`),
  cognitoCall: (op, _ms, outcome) => events.push(`${op}:${outcome}`),
};

const identityIdOf = (login: string) => `us-east-1:id-${login}`;
/** The OpenID token is opaque to the provider; here it is JSON, so the fakes can read it back. */
const openIdFake = (input: GetOpenIdTokenForDeveloperIdentityCommandInput) => {
  const login = input.Logins?.[DEV];
  if (login === undefined) throw new Error('no developer login');
  tokens += 1;
  return {
    IdentityId: identityIdOf(login),
    Token: JSON.stringify({ n: tokens, login, tags: input.PrincipalTags }),
  };
};
/** Mints credentials whose session token carries the OpenID token's tags. */
const getCredentialsFake = (input: {
  IdentityId?: string;
  Logins?: Record<string, string>;
}): GetCredentialsForIdentityCommandOutput => {
  const token = input.Logins?.['cognito-identity.amazonaws.com'];
  if (token === undefined) throw new Error('no OpenID token in Logins');
  const { tags } = JSON.parse(token) as { tags: Record<string, string> };
  minted += 1;
  return {
    $metadata: {},
    IdentityId: input.IdentityId,
    Credentials: {
      AccessKeyId: `ASIA${minted}`,
      SecretKey: SECRET,
      SessionToken: `session:${JSON.stringify(tags)}`,
      Expiration: new Date(t + lifetimeMs),
    },
  };
};

const make = (options: Partial<CredentialsProviderOptions> = {}) =>
  createCredentialsProvider({
    client,
    identityPoolId: POOL_ID,
    developerProviderName: DEV,
    refreshMarginSeconds: 900,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    observer,
    ...options,
  });

const calls = () => ({
  openId: mock.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand).length,
  getCredentials: mock.commandCalls(GetCredentialsForIdentityCommand).length,
});

const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

const sdkError = <E>(Class: new (o: { message: string; $metadata: object }) => E) =>
  new Class({ message: 'from cognito', $metadata: {} });

beforeEach(() => {
  mock.reset();
  mock.on(GetOpenIdTokenForDeveloperIdentityCommand).callsFake(openIdFake);
  mock.on(GetCredentialsForIdentityCommand).callsFake(getCredentialsFake);
  t = T0;
  sleeps = [];
  minted = 0;
  tokens = 0;
  lifetimeMs = HOUR;
  events = [];
});

describe('the developer-authenticated flow', () => {
  it('GetOpenIdTokenForDeveloperIdentity with the checked tenant and user as tags, then GetCredentialsForIdentity with that token', async () => {
    const result = await make().get(alice('acme'));
    const [openId] = mock.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand);
    expect(openId?.args[0].input).toEqual({
      IdentityPoolId: POOL_ID,
      Logins: { [DEV]: `${PROVIDER}:alice` },
      PrincipalTags: { tenant_id: 'acme', user_id: 'alice' },
      TokenDuration: 3600,
    });
    const [creds] = mock.commandCalls(GetCredentialsForIdentityCommand);
    expect(creds?.args[0].input).toEqual({
      IdentityId: identityIdOf(`${PROVIDER}:alice`),
      Logins: { 'cognito-identity.amazonaws.com': expect.any(String) },
    });
    expect(result).toEqual({
      identityId: identityIdOf(`${PROVIDER}:alice`),
      credentials: {
        accessKeyId: 'ASIA1',
        secretAccessKey: SECRET,
        sessionToken: 'session:{"tenant_id":"acme","user_id":"alice"}',
        expiration: new Date(T0 + HOUR),
      },
      cached: false,
    });
    expect(calls()).toEqual({ openId: 1, getCredentials: 1 });
    expect(mock.commandCalls(GetIdCommand)).toHaveLength(0);
  });

  it('tag names and the token duration are options', async () => {
    await make({ tenantTag: 'tenant', userTag: 'user', openIdTokenSeconds: 7200 }).get(
      alice('acme'),
    );
    expect(
      mock.commandCalls(GetOpenIdTokenForDeveloperIdentityCommand)[0]?.args[0].input,
    ).toMatchObject({ PrincipalTags: { tenant: 'acme', user: 'alice' }, TokenDuration: 7200 });
  });

  it('hands out copies: mutating a result does not alter the cache', async () => {
    const provider = make();
    const first = await provider.get(alice('acme'));
    expect(Object.isFrozen(first.credentials)).toBe(true);
    first.credentials.expiration.setTime(0);
    const again = await provider.get(alice('acme'));
    expect(again.cached).toBe(true);
    expect(again.credentials.expiration.getTime()).toBe(T0 + HOUR);
  });
});

describe('caches', () => {
  it('a credentials cache hit skips both calls', async () => {
    const provider = make();
    await provider.get(alice('acme'));
    const again = await provider.get(alice('acme'));
    expect(again.cached).toBe(true);
    expect(calls()).toEqual({ openId: 1, getCredentials: 1 });
  });

  it('a refresh reuses the OpenID token while it has 5 minutes left: one GetCredentialsForIdentity', async () => {
    const provider = make();
    await provider.get(alice('acme'));
    t = T0 + HOUR - 899_999; // the credentials are inside the 900 s margin; the token has 15 min
    const refreshed = await provider.get(alice('acme'));
    expect(refreshed.cached).toBe(false);
    expect(calls()).toEqual({ openId: 1, getCredentials: 2 });
    expect(events).toContain('openid:hit');
  });

  it('a token with less than 5 minutes left is not reused', async () => {
    const provider = make();
    await provider.get(alice('acme'));
    t = T0 + HOUR - 299_000;
    lifetimeMs = HOUR;
    await provider.get(alice('acme'));
    expect(calls()).toEqual({ openId: 2, getCredentials: 2 });
  });

  it('the token lifetime is counted from before the call', async () => {
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).callsFake((input) => {
      t += 1_500; // a slow call (within the default 2 s budget)
      return openIdFake(input);
    });
    const provider = make();
    await provider.get(alice('acme'));
    t = T0 + HOUR - 299_999; // 5 minutes before expiry counted from the start of the call
    await provider.get(alice('acme'));
    expect(calls().openId).toBe(2);
  });

  it('serves an entry while it has at least the margin left, refreshes it after', async () => {
    const provider = make();
    await provider.get(alice('acme'));
    t = T0 + HOUR - 900_000; // exactly the margin left: still served
    expect((await provider.get(alice('acme'))).cached).toBe(true);
    t += 1;
    expect((await provider.get(alice('acme'))).cached).toBe(false);
  });

  it('refuses fresh credentials already inside the margin, and caches nothing', async () => {
    lifetimeMs = 899_000;
    const provider = make();
    const error = await rejection(provider.get(alice('acme')));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect((error as Error).message).toMatch(/refresh margin/);
    lifetimeMs = HOUR;
    expect((await provider.get(alice('acme'))).cached).toBe(false);
  });

  it('bounds the credentials and token LRUs and keeps the most recently used', async () => {
    const provider = make({ maxEntries: 2 });
    await provider.get(alice('a'));
    await provider.get(alice('b'));
    await provider.get(alice('a'));
    await provider.get(alice('c')); // evicts b's credentials, and a's token (tokens are read on misses)
    expect((await provider.get(alice('a'))).cached).toBe(true);
    expect((await provider.get(alice('b'))).cached).toBe(false);
    expect(calls()).toEqual({ openId: 3, getCredentials: 4 });
  });
});

describe('isolation', () => {
  it('different tenants and users never share credentials nor tokens', async () => {
    const provider = make();
    const results = await Promise.all([
      provider.get(alice('acme')),
      provider.get(alice('globex')),
      provider.get(bob('acme')),
    ]);
    expect(new Set(results.map((r) => r.credentials.accessKeyId)).size).toBe(3);
    expect(results.map((r) => r.credentials.sessionToken)).toEqual([
      'session:{"tenant_id":"acme","user_id":"alice"}',
      'session:{"tenant_id":"globex","user_id":"alice"}',
      'session:{"tenant_id":"acme","user_id":"bob"}',
    ]);
    expect(calls()).toEqual({ openId: 3, getCredentials: 3 });
  });

  it('the same sub from another user pool is another developer identity', async () => {
    const provider = make();
    const a = await provider.get(alice('acme'));
    const b = await provider.get(principal('alice', 'acme', OTHER_PROVIDER));
    expect(a.identityId).not.toBe(b.identityId);
    expect(b.cached).toBe(false);
  });

  it.each([
    ['a tenant id that poses as two values', principal('alice', 'a","b')],
    ['a user id that poses as two values', principal('alice","a', 'b')],
  ])('%s is its own key', async (_, tricky) => {
    const provider = make();
    await provider.get(principal('alice', 'a'));
    expect((await provider.get(tricky)).cached).toBe(false);
  });

  it.each([
    ['an empty tenant', principal('alice', '')],
    ['an empty user', principal('', 'acme')],
    ['no provider', principal('alice', 'acme', '')],
    ['a tenant over 256 characters (a tag value)', principal('alice', 'a'.repeat(257))],
    ['no principal', undefined as unknown as CredentialsPrincipal],
  ])('refuses %s without calling Cognito', async (_, bad) => {
    const error = await rejection(make().get(bad));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect(calls()).toEqual({ openId: 0, getCredentials: 0 });
  });
});

describe('single flight', () => {
  it('10 concurrent gets for one key make 1 token and 1 GetCredentialsForIdentity', async () => {
    const provider = make();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => provider.get(alice('acme'))),
    );
    expect(new Set(results.map((r) => r.credentials.accessKeyId))).toEqual(new Set(['ASIA1']));
    expect(calls()).toEqual({ openId: 1, getCredentials: 1 });
  });

  it('fresh credentials inside the margin are refused to every caller of the flight', async () => {
    lifetimeMs = 899_000;
    const provider = make();
    const results = await Promise.allSettled(
      Array.from({ length: 3 }, () => provider.get(alice('acme'))),
    );
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(CredentialsUnavailableError);
    }
    expect(calls()).toEqual({ openId: 1, getCredentials: 1 });
  });

  it('a failed flight fails its joiners, is not cached and does not poison later calls', async () => {
    mock
      .on(GetOpenIdTokenForDeveloperIdentityCommand)
      .rejectsOnce(sdkError(NotAuthorizedException))
      .callsFake(openIdFake);
    const provider = make();
    const [a, b] = await Promise.allSettled([
      provider.get(alice('acme')),
      provider.get(alice('acme')),
    ]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('rejected');
    expect((await provider.get(alice('acme'))).cached).toBe(false);
    expect(calls()).toEqual({ openId: 2, getCredentials: 1 });
  });
});

describe('a kept OpenID token Cognito refuses', () => {
  it.each([
    ['NotAuthorizedException (expired early, revoked)', sdkError(NotAuthorizedException)],
    ['ResourceNotFoundException (identity deleted)', sdkError(ResourceNotFoundException)],
  ])('%s: the token is dropped and a fresh one minted once', async (_, error) => {
    const provider = make();
    await provider.get(alice('acme'));
    t = T0 + HOUR - 899_999;
    // A fresh stub (and call history): a stub that was called already misfires `rejectsOnce`.
    mock.reset();
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).callsFake(openIdFake);
    let failed = false;
    mock.on(GetCredentialsForIdentityCommand).callsFake((input) => {
      if (failed) return getCredentialsFake(input);
      failed = true;
      throw error;
    });
    const result = await provider.get(alice('acme'));
    expect(result.cached).toBe(false);
    // The kept token was refused once, then one fresh token and one more GetCredentialsForIdentity.
    expect(calls()).toEqual({ openId: 1, getCredentials: 2 });
  });

  it('a second refusal with the fresh token is final (no loop)', async () => {
    const provider = make();
    await provider.get(alice('acme'));
    t = T0 + HOUR - 899_999;
    mock.on(GetCredentialsForIdentityCommand).rejects(sdkError(NotAuthorizedException));
    const error = await rejection(provider.get(alice('acme')));
    expect(error).toMatchObject({ operation: 'GetCredentialsForIdentity' });
    expect(calls()).toEqual({ openId: 2, getCredentials: 3 });
  });
});

describe('errors and retries', () => {
  it('retries throttling with full-jitter delays random() * base * 2^attempt', async () => {
    const randoms = [0.25, 0.75];
    const provider = make({ baseDelayMs: 40, random: () => randoms.shift() ?? 0 });
    mock
      .on(GetOpenIdTokenForDeveloperIdentityCommand)
      .rejectsOnce(sdkError(TooManyRequestsException))
      .rejectsOnce(sdkError(LimitExceededException))
      .callsFake(openIdFake);
    await provider.get(alice('acme'));
    expect(sleeps).toEqual([0.25 * 40 * 1, 0.75 * 40 * 2]);
    expect(events.filter((e) => e.startsWith('GetOpenId'))).toEqual([
      'GetOpenIdTokenForDeveloperIdentity:throttled',
      'GetOpenIdTokenForDeveloperIdentity:throttled',
      'GetOpenIdTokenForDeveloperIdentity:ok',
    ]);
  });

  const withMetadata = (error: Error, extra: object) => Object.assign(error, extra);
  it.each([
    ['ThrottlingException', withMetadata(new Error('x'), { name: 'ThrottlingException' })],
    [
      'HTTP 429',
      withMetadata(new Error('x'), { name: 'Weird', $metadata: { httpStatusCode: 429 } }),
    ],
    ['InternalErrorException', sdkError(InternalErrorException)],
    [
      'HTTP 503',
      withMetadata(new Error('x'), { name: 'Weird', $metadata: { httpStatusCode: 503 } }),
    ],
    ['ECONNRESET', withMetadata(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['TimeoutError', withMetadata(new Error('timed out'), { name: 'TimeoutError' })],
  ])('retries %s', async (_, error) => {
    mock.on(GetCredentialsForIdentityCommand).rejectsOnce(error).callsFake(getCredentialsFake);
    const result = await make().get(alice('acme'));
    expect(result.cached).toBe(false);
    expect(calls().getCredentials).toBe(2);
    expect(sleeps).toEqual([0.5 * 50]);
  });

  it.each([
    ['NotAuthorizedException', sdkError(NotAuthorizedException)],
    ['InvalidParameterException', sdkError(InvalidParameterException)],
    ['ResourceNotFoundException (the pool)', sdkError(ResourceNotFoundException)],
    [
      'AccessDeniedException (IAM)',
      withMetadata(new Error('x'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    ],
    [
      'an unknown 400',
      withMetadata(new Error('x'), { name: 'Weird', $metadata: { httpStatusCode: 400 } }),
    ],
    ['a TypeError', new TypeError('bug')],
  ])('does not retry %s', async (_, error) => {
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).rejects(error);
    const failure = await rejection(make().get(alice('acme')));
    expect(failure).toBeInstanceOf(CredentialsUnavailableError);
    expect(failure).toMatchObject({
      operation: 'GetOpenIdTokenForDeveloperIdentity',
      cause: error,
    });
    expect(calls()).toEqual({ openId: 1, getCredentials: 0 });
    expect(sleeps).toEqual([]);
  });

  it('exhausted retries reject with CredentialsUnavailableError, operation and cause', async () => {
    const last = sdkError(TooManyRequestsException);
    mock
      .on(GetCredentialsForIdentityCommand)
      .rejectsOnce(sdkError(TooManyRequestsException))
      .rejectsOnce(sdkError(InternalErrorException))
      .rejectsOnce(last);
    const error = await rejection(make().get(alice('acme')));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect(error).toMatchObject({ operation: 'GetCredentialsForIdentity', cause: last });
    expect((error as Error).message).toMatch(/after 3 attempts: TooManyRequestsException/);
    expect(calls().getCredentials).toBe(3);
    expect(sleeps).toEqual([25, 50]);
  });

  it('maxAttempts: 1 makes no retry', async () => {
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).rejects(sdkError(TooManyRequestsException));
    const error = await rejection(make({ maxAttempts: 1 }).get(alice('acme')));
    expect(error).toMatchObject({ operation: 'GetOpenIdTokenForDeveloperIdentity' });
    expect(calls().openId).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it.each([
    ['AccessKeyId', { AccessKeyId: undefined }],
    ['SecretKey', { SecretKey: '' }],
    ['SessionToken', { SessionToken: undefined }],
    ['Expiration', { Expiration: undefined }],
    ['Expiration', { Expiration: new Date(Number.NaN) }],
  ])('a response lacking %s is an error, and nothing is cached', async (field, patch) => {
    mock.on(GetCredentialsForIdentityCommand).callsFakeOnce((input) => {
      const output = getCredentialsFake(input);
      return { ...output, Credentials: { ...output.Credentials, ...patch } };
    });
    const error = await rejection(make().get(alice('acme')));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect((error as Error).message).toContain(field);
    expect(calls().getCredentials).toBe(1);
  });

  it('a response without Credentials is an error', async () => {
    mock.on(GetCredentialsForIdentityCommand).resolves({ IdentityId: identityIdOf('x') });
    const error = await rejection(make().get(alice('acme')));
    expect((error as Error).message).toMatch(/AccessKeyId, SecretKey, SessionToken, Expiration/);
  });

  it.each([
    ['IdentityId', { Token: 'tok' }],
    ['Token', { IdentityId: 'us-east-1:x' }],
  ])('a token response without %s is an error', async (field, response) => {
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).resolves(response);
    const error = await rejection(make().get(alice('acme')));
    expect(error).toMatchObject({ operation: 'GetOpenIdTokenForDeveloperIdentity' });
    expect((error as Error).message).toContain(field);
    expect(calls().getCredentials).toBe(0);
  });

  it('credentials answered for another IdentityId are an error', async () => {
    mock
      .on(GetCredentialsForIdentityCommand)
      .callsFake((input) => ({ ...getCredentialsFake(input), IdentityId: 'us-east-1:someone' }));
    const error = await rejection(make().get(alice('acme')));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
  });

  it('a response without IdentityId is taken as for the identity asked about', async () => {
    mock
      .on(GetCredentialsForIdentityCommand)
      .callsFake((input) => ({ ...getCredentialsFake(input), IdentityId: undefined }));
    const { identityId } = await make().get(alice('acme'));
    expect(identityId).toBe(identityIdOf(`${PROVIDER}:alice`));
  });

  // An empty string is no credential: never handed to a caller as one.
  it.each(['AccessKeyId', 'SecretKey', 'SessionToken'] as const)(
    'an empty %s is refused, naming it only',
    async (field) => {
      mock.on(GetCredentialsForIdentityCommand).callsFake((input) => {
        const output = getCredentialsFake(input);
        return { ...output, Credentials: { ...output.Credentials, [field]: '' } };
      });
      const error = await rejection(make().get(alice('acme')));
      expect(error).toBeInstanceOf(CredentialsUnavailableError);
      expect((error as Error).message).toBe(`GetCredentialsForIdentity response lacks ${field}`);
    },
  );

  it('principal values of 256 characters are taken, 257 refused (session tag values)', async () => {
    const long = 'a'.repeat(256);
    await expect(make().get(principal(long, 'acme'))).resolves.toBeDefined();
    await expect(make().get(principal('alice', `${long}b`))).rejects.toThrow(
      'principal has no usable tenantId',
    );
    expect(calls().openId).toBe(1);
  });

  it('error messages carry neither the OpenID token nor the secrets', async () => {
    mock.on(GetCredentialsForIdentityCommand).callsFakeOnce((input) => {
      const output = getCredentialsFake(input);
      return { ...output, Credentials: { ...output.Credentials, Expiration: undefined } };
    });
    const incomplete = (await rejection(make().get(alice('acme')))) as Error;
    mock.on(GetCredentialsForIdentityCommand).rejects(sdkError(NotAuthorizedException));
    const refused = (await rejection(make().get(alice('acme')))) as Error;
    for (const error of [incomplete, refused]) {
      expect(error.message).not.toContain('"login"');
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain('session:');
    }
  });
});

describe('time limits', () => {
  const stall = () => new Promise<never>(() => {});
  const sentSignal = (call: number) =>
    ((mock.send.getCall(call).args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined)
      ?.abortSignal;

  it('a stalled call ends at timeoutMs, with its abort signal fired', async () => {
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).callsFake(stall);
    const error = await rejection(make({ timeoutMs: 20, maxAttempts: 1 }).get(alice('acme')));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(DependencyTimeoutError);
    expect((error as Error).cause).toMatchObject({
      dependency: 'GetOpenIdTokenForDeveloperIdentity',
      timeoutMs: 20,
    });
    expect(sentSignal(0)?.aborted).toBe(true);
    expect(calls().getCredentials).toBe(0);
  });

  it('a timed-out attempt is retried with what is left of the budget, not a full limit', async () => {
    let attempt = 0;
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).callsFake(() => {
      attempt++;
      if (attempt > 1) return stall();
      t += 1_950; // the first attempt fails late; the budget (2 × 1 000 ms) has 50 ms left
      throw sdkError(InternalErrorException);
    });
    const sleepsAndAdvances = async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    };
    const error = await rejection(
      make({ timeoutMs: 1_000, sleep: sleepsAndAdvances }).get(alice('acme')),
    );
    // Backoff 0.5 × 50 = 25 ms, so the retry may take the remaining 25 ms, no more.
    expect(sleeps).toEqual([25]);
    expect((error as Error).cause).toMatchObject({ name: 'DependencyTimeoutError', timeoutMs: 25 });
  });

  it('no retry starts when its backoff would end past the budget', async () => {
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).callsFake(() => {
      t += 1_990;
      throw sdkError(InternalErrorException);
    });
    const error = await rejection(make({ timeoutMs: 1_000 }).get(alice('acme')));
    expect((error as Error).message).toMatch(/within the 2000 ms budget/);
    expect(calls().openId).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('the second call is not made once the budget is spent', async () => {
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).callsFake((input) => {
      t += 3_000;
      return openIdFake(input);
    });
    const error = await rejection(make({ timeoutMs: 1_000, budgetMs: 3_000 }).get(alice('acme')));
    expect(error).toMatchObject({ operation: 'GetCredentialsForIdentity' });
    expect((error as Error).message).toMatch(/not attempted: the 3000 ms budget is spent/);
    expect(calls().getCredentials).toBe(0);
  });

  it('every call is sent with an abort signal', async () => {
    await make().get(alice('acme'));
    expect(mock.send.callCount).toBe(2);
    for (const n of [0, 1]) expect(sentSignal(n)).toBeInstanceOf(AbortSignal);
  });
});

describe('OpenID tokens shared across environments', () => {
  const store = () => {
    const items = new Map<string, SharedOpenIdToken>();
    const puts: string[] = [];
    const shared: SharedOpenIdTokens = {
      get: async (key) => items.get(key),
      put: async (key, token) => {
        puts.push(key);
        items.set(key, token);
      },
    };
    return { items, puts, shared };
  };

  it('a token minted in one environment serves another without a mint', async () => {
    const { shared, puts } = store();
    const first = make({ sharedOpenIdTokens: shared });
    const second = make({ sharedOpenIdTokens: shared });
    await first.get(alice('acme'));
    expect(puts).toHaveLength(1);
    const other = await second.get(alice('acme'));
    expect(calls()).toEqual({ openId: 1, getCredentials: 2 });
    expect(other.credentials.sessionToken).toContain('"tenant_id":"acme"');
    expect(events).toContain('shared:hit');
  });

  it('is keyed by (provider, user, tenant): nobody else’s token is ever used', async () => {
    const { shared } = store();
    await make({ sharedOpenIdTokens: shared }).get(alice('acme'));
    const elsewhere = make({ sharedOpenIdTokens: shared });
    const bobs = await elsewhere.get(bob('acme'));
    const alicesOther = await elsewhere.get(alice('beta'));
    const otherPool = await elsewhere.get(principal('alice', 'acme', OTHER_PROVIDER));
    expect(calls().openId).toBe(4);
    expect(bobs.credentials.sessionToken).toContain('"user_id":"bob"');
    expect(alicesOther.credentials.sessionToken).toContain('"tenant_id":"beta"');
    expect(otherPool.identityId).not.toBe((await elsewhere.get(alice('acme'))).identityId);
  });

  it.each([
    ['expired', { identityId: 'us-east-1:x', token: 't', expiresAtMs: T0 - 1 }],
    [
      'inside the 5-minute margin',
      { identityId: 'us-east-1:x', token: 't', expiresAtMs: T0 + 299_999 },
    ],
    ['without a token', { identityId: 'us-east-1:x', token: '', expiresAtMs: T0 + HOUR }],
    ['without an identity', { identityId: '', token: 't', expiresAtMs: T0 + HOUR }],
    ['with a non-string identity', { identityId: 42, token: 't', expiresAtMs: T0 + HOUR }],
    [
      'with a non-string token',
      { identityId: 'us-east-1:x', token: ['t'], expiresAtMs: T0 + HOUR },
    ],
    ['with a non-numeric expiry', { identityId: 'us-east-1:x', token: 't', expiresAtMs: 'soon' }],
  ])('a stored token %s is not used: the provider mints', async (_, stored) => {
    const shared: SharedOpenIdTokens = {
      get: async () => stored as unknown as SharedOpenIdToken,
      put: async () => {},
    };
    await make({ sharedOpenIdTokens: shared }).get(alice('acme'));
    expect(calls().openId).toBe(1);
    expect(events).toContain('shared:miss');
  });

  it('a store that fails or stalls is a miss, within the budget', async () => {
    const failing: SharedOpenIdTokens = {
      get: async () => Promise.reject(new Error('throttled')),
      put: async () => Promise.reject(new Error('throttled')),
    };
    await make({ sharedOpenIdTokens: failing }).get(alice('acme'));
    const stalling: SharedOpenIdTokens = {
      get: () => new Promise(() => {}),
      put: async () => {},
    };
    await make({ sharedOpenIdTokens: stalling, timeoutMs: 20 }).get(bob('acme'));
    expect(calls()).toEqual({ openId: 2, getCredentials: 2 });
  });

  it('holds a read token in memory no longer than a lifetime from the read, whatever the store says', async () => {
    const { shared, items } = store();
    let gets = 0;
    const counting: SharedOpenIdTokens = {
      get: async (key, signal) => {
        gets++;
        return shared.get(key, signal);
      },
      put: shared.put,
    };
    await make({ sharedOpenIdTokens: shared }).get(alice('acme'));
    const [key = ''] = [...items.keys()];
    items.set(key, { ...(items.get(key) as SharedOpenIdToken), expiresAtMs: T0 + 100 * HOUR });
    const reader = make({ sharedOpenIdTokens: counting, openIdTokenSeconds: 3600 });
    await reader.get(alice('acme'));
    expect(gets).toBe(1);
    // Credentials inside their margin; the read token is 55 min old: capped at 1 h from its read, it
    // is inside its own 5-minute margin, so the store is asked again rather than memory trusted.
    t = T0 + HOUR - 299_000;
    await reader.get(alice('acme'));
    expect(gets).toBe(2);
  });

  it('a shared token Cognito refuses is replaced by a fresh mint, not read again', async () => {
    const { shared, puts } = store();
    await make({ sharedOpenIdTokens: shared }).get(alice('acme'));
    // A fresh stub (and call history): a stub that was called already misfires `rejectsOnce`.
    mock.reset();
    mock.on(GetOpenIdTokenForDeveloperIdentityCommand).callsFake(openIdFake);
    let failed = false;
    mock.on(GetCredentialsForIdentityCommand).callsFake((input) => {
      if (failed) return getCredentialsFake(input);
      failed = true;
      throw sdkError(NotAuthorizedException);
    });
    await make({ sharedOpenIdTokens: shared }).get(alice('acme'));
    expect(calls()).toEqual({ openId: 1, getCredentials: 2 });
    expect(puts).toHaveLength(2); // the fresh token replaced the refused one
  });
});

describe('classifyCognitoError', () => {
  it.each([
    [sdkError(TooManyRequestsException), 'throttled'],
    [sdkError(LimitExceededException), 'throttled'],
    [{ name: 'X', $retryable: { throttling: true } }, 'throttled'],
    [sdkError(InternalErrorException), 'transient'],
    [{ name: 'X', code: 'EAI_AGAIN' }, 'transient'],
    [{ name: 'X', $fault: 'server' }, 'transient'],
    [{ name: 'X', $metadata: { httpStatusCode: 502 } }, 'transient'],
    [sdkError(NotAuthorizedException), 'fatal'],
    [sdkError(ResourceNotFoundException), 'fatal'],
    ['a string', 'fatal'],
    [null, 'fatal'],
  ])('%o is %s', (error, expected) => {
    expect(classifyCognitoError(error)).toBe(expected);
  });

  // Every name, code and status the provider retries, each on its own: one dropped from a list would
  // turn a burst of throttling into 500s (or a fatal error into retries).
  it.each<readonly [unknown, string]>([
    ...[
      'TooManyRequestsException',
      'LimitExceededException',
      'ThrottlingException',
      'Throttling',
      'RequestLimitExceeded',
    ].map((name) => [{ name }, 'throttled'] as const),
    [{ name: 'X', $metadata: { httpStatusCode: 429 } }, 'throttled'],
    [{ name: 'X', $retryable: { throttling: false } }, 'fatal'],
    ...[
      'InternalErrorException',
      'ExternalServiceException',
      'ServiceUnavailable',
      'ServiceUnavailableException',
      'InternalFailure',
      'InternalServerError',
      'TimeoutError',
      'RequestTimeout',
      'RequestTimeoutException',
    ].map((name) => [{ name }, 'transient'] as const),
    ...[
      'ECONNRESET',
      'ECONNREFUSED',
      'EPIPE',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'ENOTFOUND',
      'EAI_AGAIN',
    ].map((code) => [{ name: 'Error', code }, 'transient'] as const),
    [{ name: 'Error', code: 42 }, 'fatal'],
    [{ name: 'Error', code: 'EACCES' }, 'fatal'],
    [{ name: 'X', $metadata: { httpStatusCode: 500 } }, 'transient'],
    [{ name: 'X', $metadata: { httpStatusCode: 599 } }, 'transient'],
    [{ name: 'X', $metadata: { httpStatusCode: 499 } }, 'fatal'],
    [{ name: 'X', $metadata: { httpStatusCode: 600 } }, 'fatal'],
    [{ name: 'X', $metadata: { httpStatusCode: '503' } }, 'fatal'],
    [{ name: 'X', $fault: 'server', $metadata: { httpStatusCode: 400 } }, 'fatal'],
    [{ name: 'X', $fault: 'client' }, 'fatal'],
    [{ name: 42 }, 'fatal'],
    [{}, 'fatal'],
  ])('%o is %s (each listed name and code)', (error, expected) => {
    expect(classifyCognitoError(error)).toBe(expected);
  });
});

describe('createLruCache', () => {
  it('evicts the least recently used and never exceeds its bound', () => {
    const lru = createLruCache<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.size).toBe(2);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    lru.set('a', 4); // replacing does not grow
    expect(lru.size).toBe(2);
    lru.delete('a');
    expect(lru.size).toBe(1);
  });
});

describe('option validation', () => {
  /** The problems an AuthorizerConfigError lists for `options`; none when they are accepted. */
  const issuesOf = (options: Partial<CredentialsProviderOptions>) => {
    try {
      make(options);
    } catch (error) {
      expect(error).toBeInstanceOf(AuthorizerConfigError);
      return (error as AuthorizerConfigError).issues;
    }
    return [];
  };

  it('accepts the defaults', () => {
    expect(() => make()).not.toThrow();
  });

  // The exact wording: these are what an operator reads when a deploy fails at init.
  it('lists every problem in one AuthorizerConfigError, each with its bounds and the value given', () => {
    expect(
      issuesOf({
        identityPoolId: 'us-east-1_Pool1',
        developerProviderName: 'has space',
        tenantTag: 'aws:tenant',
        userTag: '',
        openIdTokenSeconds: 100,
        refreshMarginSeconds: 0,
        maxEntries: 0,
        maxAttempts: -1,
        baseDelayMs: Number.NaN,
      }),
    ).toEqual([
      'identityPoolId must be "<region>:<uuid>", got "us-east-1_Pool1"',
      'developerProviderName must be 1 to 128 of [A-Za-z0-9_.-], got "has space"',
      'tenantTag must be a session tag key (1 to 128 characters, not aws:…), got "aws:tenant"',
      'userTag must be a session tag key (1 to 128 characters, not aws:…), got ""',
      'openIdTokenSeconds must be an integer from 900 to 86400, got 100',
      'refreshMarginSeconds must be > 0 and < 3600 (Cognito credentials last one hour), got 0',
      'maxEntries must be a positive integer, got 0',
      'maxAttempts must be a positive integer, got -1',
      'baseDelayMs must be a finite number >= 0, got NaN',
    ]);
    expect(
      issuesOf({
        client: {} as CognitoIdentityClient,
        tenantTag: 'same',
        userTag: 'same',
        refreshMarginSeconds: '1' as unknown as number,
        baseDelayMs: -1,
      }),
    ).toEqual([
      'client must be a CognitoIdentityClient',
      'tenantTag and userTag must differ',
      'refreshMarginSeconds must be > 0 and < 3600 (Cognito credentials last one hour), got 1',
      'baseDelayMs must be a finite number >= 0, got -1',
    ]);
  });

  // A one-element array passes a regex test as its only string (RegExp.test coerces its argument):
  // without the `typeof` checks, `["us-east-1:…"]` from a parsed JSON config would get past init and
  // reach Cognito as an array.
  it('a one-element array is not a string, however valid the string inside it', () => {
    const one = (value: string) => [value] as unknown as string;
    expect(
      issuesOf({
        identityPoolId: one(POOL_ID),
        developerProviderName: one('login.tenantgate'),
        tenantTag: one('tenant_id'),
        userTag: one('user_id'),
      }),
    ).toEqual([
      `identityPoolId must be "<region>:<uuid>", got "${POOL_ID}"`,
      'developerProviderName must be 1 to 128 of [A-Za-z0-9_.-], got "login.tenantgate"',
      'tenantTag must be a session tag key (1 to 128 characters, not aws:…), got "tenant_id"',
      'userTag must be a session tag key (1 to 128 characters, not aws:…), got "user_id"',
    ]);
  });

  it.each([
    ['a margin of an hour or more', { refreshMarginSeconds: 3600 }],
    ['a negative margin', { refreshMarginSeconds: -1 }],
    ['an infinite margin', { refreshMarginSeconds: Number.POSITIVE_INFINITY }],
    ['a token over 24 h', { openIdTokenSeconds: 86_401 }],
    ['the same tag twice', { tenantTag: 'id', userTag: 'id' }],
    ['a developer provider over 128 characters', { developerProviderName: 'a'.repeat(129) }],
    ['a pool id without a uuid', { identityPoolId: 'us-east-1:abc' }],
    ['a pool id without a region', { identityPoolId: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0' }],
    ['no client', { client: undefined as unknown as CognitoIdentityClient }],
    ['a zero time limit', { timeoutMs: 0 }],
    ['a fractional budget', { budgetMs: 1.5 }],
    ['a budget over a minute', { budgetMs: 60_001 }],
  ])('refuses %s', (_, options) => {
    expect(() => make(options)).toThrow(AuthorizerConfigError);
  });

  it.each([
    ['openIdTokenSeconds', { openIdTokenSeconds: 900 }],
    ['openIdTokenSeconds', { openIdTokenSeconds: 86_400 }],
    ['baseDelayMs', { baseDelayMs: 0 }],
    ['tenantTag', { tenantTag: 'tenant2' }],
    ['tenantTag', { tenantTag: 't'.repeat(128) }],
    ['identityPoolId', { identityPoolId: 'xx-test-12:0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0' }],
  ])('accepts %s at its edge: %j', (_, options) => {
    expect(() => make(options)).not.toThrow();
  });

  it.each([
    { tenantTag: 't'.repeat(129) },
    { identityPoolId: `x${POOL_ID}` },
    { identityPoolId: `1${POOL_ID}` },
    { identityPoolId: `${POOL_ID}0` },
  ])('refuses %j', (options) => {
    expect(() => make(options)).toThrow(AuthorizerConfigError);
  });

  it.each([
    'us-east-1:0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
    'us-gov-west-1:0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
    'ap-southeast-2:0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
  ])('accepts the pool id %s', (identityPoolId) => {
    expect(() => make({ identityPoolId })).not.toThrow();
  });
});

// Each test below kills a mutant that survived `npm run mutate authorizer` on main: a bound of the
// time budget or the OpenID token margin, or a refused token kept.
describe('what a mutation run on main found untested', () => {
  it('a retry whose back-off would end exactly at the deadline is not taken', async () => {
    // random 0.5 × base 50 × 2^0 = a 25 ms back-off after the first throttle.
    mock
      .on(GetOpenIdTokenForDeveloperIdentityCommand)
      .rejectsOnce(sdkError(TooManyRequestsException))
      .callsFake(openIdFake);
    const error = await rejection(make({ budgetMs: 25 }).get(alice('acme')));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect((error as Error).message).toContain('within the 25 ms budget');
    expect(sleeps).toEqual([]);

    // A fresh stub: one that was called already misfires `rejectsOnce`.
    mock.reset();
    mock.on(GetCredentialsForIdentityCommand).callsFake(getCredentialsFake);
    mock
      .on(GetOpenIdTokenForDeveloperIdentityCommand)
      .rejectsOnce(sdkError(TooManyRequestsException))
      .callsFake(openIdFake);
    await make({ budgetMs: 26 }).get(alice('acme'));
    expect(sleeps).toEqual([25]);
  });

  it('with the budget spent before the shared store is read, the store is not asked', async () => {
    const asked: string[] = [];
    const shared: SharedOpenIdTokens = {
      get: async (key) => {
        asked.push(key);
        return { identityId: 'us-east-1:x', token: 't', expiresAtMs: T0 + HOUR };
      },
      put: async () => {},
    };
    // The first reading of the clock sets the deadline; every later one is exactly at it.
    let readings = 0;
    const provider = make({
      sharedOpenIdTokens: shared,
      budgetMs: 3_000,
      now: () => (readings++ === 0 ? T0 : T0 + 3_000),
    });
    const error = await rejection(provider.get(alice('acme')));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect(asked).toEqual([]);
    expect(calls()).toEqual({ openId: 0, getCredentials: 0 });
  });

  it('the store read is cut at what is left of the budget when that is less than the per-call limit', async () => {
    let signal: AbortSignal | undefined;
    const stalling: SharedOpenIdTokens = {
      get: (_key, s) => {
        signal = s;
        return new Promise(() => {});
      },
      put: async () => {},
    };
    await make({ sharedOpenIdTokens: stalling, timeoutMs: 1_000, budgetMs: 30 }).get(alice('acme'));
    expect(signal?.reason).toBeInstanceOf(DependencyTimeoutError);
    expect(signal?.reason).toMatchObject({ dependency: 'OpenID token store', timeoutMs: 30 });
    expect(calls()).toEqual({ openId: 1, getCredentials: 1 });
  });

  it('an OpenID token with exactly 5 minutes left is still used, from the store and from memory', async () => {
    const shared: SharedOpenIdTokens = {
      get: async () => ({
        identityId: 'us-east-1:x',
        token: JSON.stringify({ tags: {} }),
        expiresAtMs: T0 + 300_000,
      }),
      put: async () => {},
    };
    await make({ sharedOpenIdTokens: shared }).get(alice('acme'));
    expect(calls().openId).toBe(0);
    expect(events).toContain('shared:hit');

    mock.resetHistory();
    const provider = make();
    await provider.get(bob('acme'));
    // Credentials inside their refresh margin, the OpenID token exactly at its 5-minute one.
    t = T0 + HOUR - 300_000;
    await provider.get(bob('acme'));
    expect(calls()).toEqual({ openId: 1, getCredentials: 2 });
  });

  it('a token Cognito refused is forgotten even when the fresh mint fails: never offered again', async () => {
    const provider = make();
    await provider.get(alice('acme'));
    t = T0 + HOUR - 899_999;
    mock.reset();
    // Cognito refuses the first token from now on; the first fresh mint fails too.
    const offered: number[] = [];
    mock.on(GetCredentialsForIdentityCommand).callsFake((input) => {
      const n = (
        JSON.parse(input.Logins?.['cognito-identity.amazonaws.com'] ?? '{}') as { n: number }
      ).n;
      offered.push(n);
      if (n === 1) throw sdkError(NotAuthorizedException);
      return getCredentialsFake(input);
    });
    mock
      .on(GetOpenIdTokenForDeveloperIdentityCommand)
      .rejectsOnce(sdkError(ResourceNotFoundException))
      .callsFake(openIdFake);
    await rejection(provider.get(alice('acme')));
    await provider.get(alice('acme'));
    expect(offered).toEqual([1, 2]);
  });
});
