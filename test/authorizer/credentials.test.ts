import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  type GetCredentialsForIdentityCommandOutput,
  GetIdCommand,
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
  type CredentialsProviderOptions,
  classifyCognitoError,
  createCredentialsProvider,
  createLruCache,
} from '../../authorizer/credentials.js';
import { AuthorizerConfigError, CredentialsUnavailableError } from '../../authorizer/errors.js';
import type { AuthorizerObserver, VerifiedIdToken } from '../../authorizer/types.js';

const POOL_ID = 'us-east-1:0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const USER_POOL = 'us-east-1_Pool1';
const PROVIDER = `cognito-idp.us-east-1.amazonaws.com/${USER_POOL}`;
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

type Claims = Record<string, unknown> & { sub: string };

/** The token is opaque to the provider; here it is the claims' JSON, so the mock can read them. */
const tokenOf = (claims: Claims) => `eyJ.${JSON.stringify(claims)}`;
const claimsOf = (token: string): Claims => JSON.parse(token.slice(4)) as Claims;
const verifiedOf = (claims: Claims, providerName = PROVIDER): VerifiedIdToken => ({
  payload: Object.freeze({ ...claims }),
  userPoolId: USER_POOL,
  providerName,
  sub: claims.sub,
  exp: T0 / 1000 + 3600,
});
const request = (claims: Claims) => [tokenOf(claims), verifiedOf(claims)] as const;
const alice = (tenant: string, extra: Record<string, unknown> = {}): Claims => ({
  sub: 'alice',
  'custom:tenant_id': tenant,
  ...extra,
});
const bob = (tenant: string): Claims => ({ sub: 'bob', 'custom:tenant_id': tenant });

const client = new CognitoIdentityClient({ region: 'us-east-1', maxAttempts: 1 });
const mock = mockClient(client);

let t = T0;
let sleeps: number[] = [];
let minted = 0;
let lifetimeMs = HOUR;
let events: string[] = [];

const observer: AuthorizerObserver = {
  credentialsCache: (hit) => events.push(`credentials:${hit ? 'hit' : 'miss'}`),
  identityIdCache: (hit) => events.push(`identity:${hit ? 'hit' : 'miss'}`),
  cognitoCall: (op, _ms, outcome) => events.push(`${op}:${outcome}`),
};

const identityIdOf = (sub: string) => `us-east-1:id-${sub}`;
const loginsToken = (input: { Logins?: Record<string, string> }) => {
  const token = input.Logins?.[PROVIDER];
  if (token === undefined) throw new Error('no Logins for the provider');
  return token;
};
const getIdFake = (input: { Logins?: Record<string, string> }) => ({
  IdentityId: identityIdOf(claimsOf(loginsToken(input)).sub),
});
/** Mints credentials whose session token carries the claims of the Logins token. */
const getCredentialsFake = (input: {
  IdentityId?: string;
  Logins?: Record<string, string>;
}): GetCredentialsForIdentityCommandOutput => {
  const token = loginsToken(input);
  minted += 1;
  return {
    $metadata: {},
    IdentityId: input.IdentityId,
    Credentials: {
      AccessKeyId: `ASIA${minted}`,
      SecretKey: SECRET,
      SessionToken: `session:${token}`,
      Expiration: new Date(t + lifetimeMs),
    },
  };
};

const make = (options: Partial<CredentialsProviderOptions> = {}) =>
  createCredentialsProvider({
    client,
    identityPoolId: POOL_ID,
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
  getId: mock.commandCalls(GetIdCommand).length,
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

/**
 * `rejectsOnce` counts the stub's calls from its creation, so it misfires once calls were made;
 * this closure counts its own.
 */
const failingOnce = <I, O>(error: Error, then: (input: I) => O) => {
  let failed = false;
  return (input: I) => {
    if (failed) return then(input);
    failed = true;
    throw error;
  };
};

const sdkError = <E>(Class: new (o: { message: string; $metadata: object }) => E) =>
  new Class({ message: 'from cognito', $metadata: {} });

beforeEach(() => {
  mock.reset();
  mock.on(GetIdCommand).callsFake(getIdFake);
  mock.on(GetCredentialsForIdentityCommand).callsFake(getCredentialsFake);
  t = T0;
  sleeps = [];
  minted = 0;
  lifetimeMs = HOUR;
  events = [];
});

describe('happy path', () => {
  it('GetId then GetCredentialsForIdentity with the token in Logins', async () => {
    const provider = make();
    const [token, verified] = request(alice('acme'));
    const result = await provider.get(token, verified);

    expect(result).toEqual({
      identityId: identityIdOf('alice'),
      cached: false,
      credentials: {
        accessKeyId: 'ASIA1',
        secretAccessKey: SECRET,
        sessionToken: `session:${token}`,
        expiration: new Date(T0 + HOUR),
      },
    });
    expect(mock.commandCalls(GetIdCommand)[0]?.args[0].input).toEqual({
      IdentityPoolId: POOL_ID,
      Logins: { [PROVIDER]: token },
    });
    expect(mock.commandCalls(GetCredentialsForIdentityCommand)[0]?.args[0].input).toEqual({
      IdentityId: identityIdOf('alice'),
      Logins: { [PROVIDER]: token },
    });
    expect(calls()).toEqual({ getId: 1, getCredentials: 1 });
    expect(events).toEqual([
      'credentials:miss',
      'identity:miss',
      'GetId:ok',
      'GetCredentialsForIdentity:ok',
    ]);
  });

  it('passes AccountId to GetId when configured', async () => {
    await make({ accountId: '123456789012' }).get(...request(alice('acme')));
    expect(mock.commandCalls(GetIdCommand)[0]?.args[0].input.AccountId).toBe('123456789012');
  });

  it('hands out copies: mutating a result does not alter the cache', async () => {
    const provider = make();
    const first = await provider.get(...request(alice('acme')));
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.credentials)).toBe(true);
    first.credentials.expiration.setTime(T0 + 100 * HOUR);
    const second = await provider.get(...request(alice('acme')));
    expect(second.cached).toBe(true);
    expect(second.credentials.expiration.getTime()).toBe(T0 + HOUR);
  });
});

describe('caches', () => {
  it('an IdentityId cache hit skips GetId (same user, another tenant)', async () => {
    const provider = make();
    await provider.get(...request(alice('acme')));
    events = [];
    const beta = await provider.get(...request(alice('beta')));
    expect(beta.cached).toBe(false);
    expect(beta.identityId).toBe(identityIdOf('alice'));
    expect(calls()).toEqual({ getId: 1, getCredentials: 2 });
    expect(events).toEqual(['credentials:miss', 'identity:hit', 'GetCredentialsForIdentity:ok']);
  });

  it('a credentials cache hit skips both calls', async () => {
    const provider = make();
    const first = await provider.get(...request(alice('acme')));
    events = [];
    const second = await provider.get(...request(alice('acme')));
    expect(second.cached).toBe(true);
    expect(second.credentials).toEqual(first.credentials);
    expect(calls()).toEqual({ getId: 1, getCredentials: 1 });
    expect(events).toEqual(['credentials:hit']);
  });

  it('serves an entry while it has at least the margin left, refreshes it after', async () => {
    const provider = make({ refreshMarginSeconds: 900 });
    await provider.get(...request(alice('acme')));
    t = T0 + HOUR - 900_000; // exactly the margin left: still served
    expect((await provider.get(...request(alice('acme')))).cached).toBe(true);
    t += 1; // one millisecond inside the margin: fetched anew, GetId skipped
    const refreshed = await provider.get(...request(alice('acme')));
    expect(refreshed.cached).toBe(false);
    expect(refreshed.credentials.accessKeyId).toBe('ASIA2');
    expect(refreshed.credentials.expiration.getTime()).toBe(t + HOUR);
    expect(calls()).toEqual({ getId: 1, getCredentials: 2 });
    // The replacement is what is cached now.
    const again = await provider.get(...request(alice('acme')));
    expect(again).toMatchObject({ cached: true, credentials: { accessKeyId: 'ASIA2' } });
  });

  it('refuses fresh credentials already inside the margin, and caches nothing', async () => {
    const provider = make({ refreshMarginSeconds: 900 });
    lifetimeMs = 899_999;
    const error = await rejection(provider.get(...request(alice('acme'))));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect(error).toMatchObject({ operation: 'GetCredentialsForIdentity' });
    lifetimeMs = HOUR;
    expect((await provider.get(...request(alice('acme')))).cached).toBe(false);
    expect(calls().getCredentials).toBe(2);
  });

  it('bounds the credentials LRU and keeps the most recently used', async () => {
    const provider = make({ maxEntries: 2 });
    await provider.get(...request(alice('a')));
    await provider.get(...request(alice('b')));
    expect((await provider.get(...request(alice('a')))).cached).toBe(true); // a is now newest
    await provider.get(...request(alice('c'))); // evicts b, the least recently used
    expect((await provider.get(...request(alice('a')))).cached).toBe(true);
    expect((await provider.get(...request(alice('b')))).cached).toBe(false);
    expect(calls().getCredentials).toBe(4);
  });

  it('bounds the IdentityId LRU', async () => {
    const provider = make({ identityIdMaxEntries: 1 });
    await provider.get(...request(alice('acme')));
    await provider.get(...request(bob('acme'))); // evicts alice's IdentityId
    await provider.get(...request(alice('beta')));
    expect(calls().getId).toBe(3);
  });
});

describe('isolation', () => {
  it('different tenants and users never share credentials', async () => {
    const provider = make();
    const requests = [alice('acme'), alice('beta'), bob('acme'), bob('beta')];
    for (const claims of requests) {
      const result = await provider.get(...request(claims));
      expect(result.credentials.sessionToken).toBe(`session:${tokenOf(claims)}`);
      expect(result.identityId).toBe(identityIdOf(claims.sub));
    }
    expect(calls()).toEqual({ getId: 2, getCredentials: 4 });
  });

  it('the same sub from another user pool is another identity', async () => {
    const provider = make();
    const other = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool2';
    await provider.get(...request(alice('acme')));
    mock.on(GetIdCommand).resolves({ IdentityId: 'us-east-1:other' });
    mock
      .on(GetCredentialsForIdentityCommand)
      .callsFake((input) =>
        getCredentialsFake({ ...input, Logins: { [PROVIDER]: input.Logins[other] } }),
      );
    const result = await provider.get(tokenOf(alice('acme')), verifiedOf(alice('acme'), other));
    expect(result).toMatchObject({ cached: false, identityId: 'us-east-1:other' });
    expect(calls()).toEqual({ getId: 2, getCredentials: 2 });
  });

  it.each([
    ['a delimiter inside a value', { 'custom:dept': 'b|c' }, { 'custom:dept': 'b', x: 'c' }],
    ['a quote inside a value', { 'custom:dept': 'a","b' }, { 'custom:dept': 'a' }],
    ['missing vs empty string', {}, { 'custom:dept': '' }],
    ['missing vs null', {}, { 'custom:dept': null }],
    ['null vs the string "null"', { 'custom:dept': null }, { 'custom:dept': 'null' }],
    ['a number vs its string', { 'custom:dept': 1 }, { 'custom:dept': '1' }],
  ])('keys on every principal-tag claim without ambiguity: %s', async (_, one, two) => {
    const provider = make({ principalTagClaims: ['custom:tenant_id', 'custom:dept', 'sub'] });
    const first = await provider.get(...request(alice('acme', one)));
    const second = await provider.get(...request(alice('acme', two)));
    expect(second.cached).toBe(false);
    expect(second.credentials.accessKeyId).not.toBe(first.credentials.accessKeyId);
  });

  it('moving a value between adjacent claims is another key', async () => {
    const provider = make({ principalTagClaims: ['custom:tenant_id', 'custom:dept', 'sub'] });
    await provider.get(...request(alice('a|b', { 'custom:dept': 'c' })));
    const moved = await provider.get(...request(alice('a', { 'custom:dept': 'b|c' })));
    expect(moved.cached).toBe(false);
  });

  it('claims outside principalTagClaims do not split the cache', async () => {
    const provider = make();
    await provider.get(...request(alice('acme', { email: 'a@x' })));
    const second = await provider.get(...request(alice('acme', { email: 'b@x' })));
    expect(second.cached).toBe(true);
  });

  it('refuses a verified token whose sub disagrees with its payload, without calling Cognito', async () => {
    const provider = make();
    const verified = { ...verifiedOf(alice('acme')), sub: 'bob' };
    const error = await rejection(provider.get(tokenOf(alice('acme')), verified));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect(calls()).toEqual({ getId: 0, getCredentials: 0 });
  });

  it('refuses an empty token', async () => {
    const error = await rejection(make().get('', verifiedOf(alice('acme'))));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
  });
});

describe('single flight', () => {
  it('10 concurrent gets for one key make 1 GetId and 1 GetCredentialsForIdentity', async () => {
    const provider = make();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => provider.get(...request(alice('acme')))),
    );
    expect(calls()).toEqual({ getId: 1, getCredentials: 1 });
    expect(new Set(results.map((r) => r.credentials.accessKeyId))).toEqual(new Set(['ASIA1']));
    expect(results.every((r) => !r.cached)).toBe(true);
  });

  it('concurrent misses for different keys do not share; one user shares its GetId', async () => {
    const provider = make();
    const claims = [alice('acme'), alice('beta'), bob('acme')];
    const results = await Promise.all(claims.map((c) => provider.get(...request(c))));
    expect(calls()).toEqual({ getId: 2, getCredentials: 3 });
    results.forEach((result, i) => {
      expect(result.credentials.sessionToken).toBe(`session:${tokenOf(claims[i] as Claims)}`);
    });
  });

  it('a failed flight fails its joiners, is not cached and does not poison later calls', async () => {
    const provider = make();
    mock
      .on(GetCredentialsForIdentityCommand)
      .rejectsOnce(sdkError(NotAuthorizedException))
      .callsFake(getCredentialsFake);
    const settled = await Promise.allSettled(
      Array.from({ length: 3 }, () => provider.get(...request(alice('acme')))),
    );
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(calls().getCredentials).toBe(1);
    const later = await provider.get(...request(alice('acme')));
    expect(later.cached).toBe(false);
    expect(calls()).toEqual({ getId: 1, getCredentials: 2 });
  });
});

describe('stale IdentityId', () => {
  it('ResourceNotFound on a cached IdentityId drops it and redoes GetId once', async () => {
    const provider = make();
    await provider.get(...request(alice('acme')));
    mock.on(GetIdCommand).resolves({ IdentityId: 'us-east-1:id-alice-new' });
    mock
      .on(GetCredentialsForIdentityCommand)
      .callsFake(failingOnce(sdkError(ResourceNotFoundException), getCredentialsFake));
    const result = await provider.get(...request(alice('beta')));
    expect(result.identityId).toBe('us-east-1:id-alice-new');
    expect(calls()).toEqual({ getId: 2, getCredentials: 3 });
    expect(mock.commandCalls(GetCredentialsForIdentityCommand)[2]?.args[0].input.IdentityId).toBe(
      'us-east-1:id-alice-new',
    );
    // The new IdentityId is the cached one now.
    await provider.get(...request(alice('gamma')));
    expect(calls()).toEqual({ getId: 2, getCredentials: 4 });
  });

  it('a second ResourceNotFound after the fresh GetId is final (no loop)', async () => {
    const provider = make();
    await provider.get(...request(alice('acme')));
    mock.on(GetCredentialsForIdentityCommand).rejects(sdkError(ResourceNotFoundException));
    const error = await rejection(provider.get(...request(alice('beta'))));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect(calls()).toEqual({ getId: 2, getCredentials: 3 });
    expect(sleeps).toEqual([]);
  });

  it('ResourceNotFound without a cached IdentityId fails at once', async () => {
    mock.on(GetCredentialsForIdentityCommand).rejects(sdkError(ResourceNotFoundException));
    const error = await rejection(make().get(...request(alice('acme'))));
    expect(error).toMatchObject({ operation: 'GetCredentialsForIdentity' });
    expect(calls()).toEqual({ getId: 1, getCredentials: 1 });
  });
});

describe('errors and retries', () => {
  it('retries throttling with full-jitter delays random() * base * 2^attempt', async () => {
    const randoms = [0.25, 0.75];
    const provider = make({ baseDelayMs: 40, random: () => randoms.shift() ?? 0 });
    mock
      .on(GetIdCommand)
      .rejectsOnce(sdkError(TooManyRequestsException))
      .rejectsOnce(sdkError(LimitExceededException))
      .callsFake(getIdFake);
    const result = await provider.get(...request(alice('acme')));
    expect(result.identityId).toBe(identityIdOf('alice'));
    expect(sleeps).toEqual([0.25 * 40 * 1, 0.75 * 40 * 2]);
    expect(events.filter((e) => e.startsWith('GetId'))).toEqual([
      'GetId:throttled',
      'GetId:throttled',
      'GetId:ok',
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
    const result = await make().get(...request(alice('acme')));
    expect(result.cached).toBe(false);
    expect(calls().getCredentials).toBe(2);
    expect(sleeps).toEqual([0.5 * 50]);
  });

  it.each([
    ['NotAuthorizedException', sdkError(NotAuthorizedException)],
    ['InvalidParameterException', sdkError(InvalidParameterException)],
    ['ResourceNotFoundException (the pool)', sdkError(ResourceNotFoundException)],
    [
      'an unknown 400',
      withMetadata(new Error('x'), { name: 'Weird', $metadata: { httpStatusCode: 400 } }),
    ],
    ['a TypeError', new TypeError('bug')],
  ])('does not retry %s', async (_, error) => {
    mock.on(GetIdCommand).rejects(error);
    const failure = await rejection(make().get(...request(alice('acme'))));
    expect(failure).toBeInstanceOf(CredentialsUnavailableError);
    expect(failure).toMatchObject({ operation: 'GetId', cause: error });
    expect(calls()).toEqual({ getId: 1, getCredentials: 0 });
    expect(sleeps).toEqual([]);
  });

  it('exhausted retries reject with CredentialsUnavailableError, operation and cause', async () => {
    const last = sdkError(TooManyRequestsException);
    mock
      .on(GetCredentialsForIdentityCommand)
      .rejectsOnce(sdkError(TooManyRequestsException))
      .rejectsOnce(sdkError(InternalErrorException))
      .rejectsOnce(last);
    const error = await rejection(make().get(...request(alice('acme'))));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect(error).toMatchObject({ operation: 'GetCredentialsForIdentity', cause: last });
    expect((error as Error).message).toMatch(/after 3 attempts: TooManyRequestsException/);
    expect(calls().getCredentials).toBe(3);
    expect(sleeps).toEqual([25, 50]);
  });

  it('maxAttempts: 1 makes no retry', async () => {
    mock.on(GetIdCommand).rejects(sdkError(TooManyRequestsException));
    const error = await rejection(make({ maxAttempts: 1 }).get(...request(alice('acme'))));
    expect(error).toMatchObject({ operation: 'GetId' });
    expect(calls().getId).toBe(1);
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
    const error = await rejection(make().get(...request(alice('acme'))));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect((error as Error).message).toContain(field);
    expect(calls().getCredentials).toBe(1);
  });

  it('a response without Credentials is an error', async () => {
    mock.on(GetCredentialsForIdentityCommand).resolves({ IdentityId: identityIdOf('alice') });
    const error = await rejection(make().get(...request(alice('acme'))));
    expect((error as Error).message).toMatch(/AccessKeyId, SecretKey, SessionToken, Expiration/);
  });

  it('a GetId response without IdentityId is an error', async () => {
    mock.on(GetIdCommand).resolves({});
    const error = await rejection(make().get(...request(alice('acme'))));
    expect(error).toMatchObject({ operation: 'GetId' });
    expect(calls().getCredentials).toBe(0);
  });

  it('credentials answered for another IdentityId are an error', async () => {
    mock
      .on(GetCredentialsForIdentityCommand)
      .callsFake((input) => ({ ...getCredentialsFake(input), IdentityId: 'us-east-1:someone' }));
    const error = await rejection(make().get(...request(alice('acme'))));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
  });

  it('error messages carry neither the token nor the secrets', async () => {
    const [token, verified] = request(alice('acme'));
    mock.on(GetCredentialsForIdentityCommand).callsFakeOnce((input) => {
      const output = getCredentialsFake(input);
      return { ...output, Credentials: { ...output.Credentials, Expiration: undefined } };
    });
    const incomplete = (await rejection(make().get(token, verified))) as Error;
    mock.on(GetIdCommand).rejects(sdkError(NotAuthorizedException));
    const refused = (await rejection(make().get(token, verified))) as Error;
    for (const error of [incomplete, refused]) {
      expect(error.message).not.toContain(token);
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain('session:');
    }
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
  it('accepts the defaults', () => {
    expect(() => make()).not.toThrow();
  });

  it('lists every problem in one AuthorizerConfigError', () => {
    let error: unknown;
    try {
      make({
        identityPoolId: 'us-east-1_Pool1',
        accountId: '1234',
        principalTagClaims: ['custom:tenant_id', 'custom:tenant_id', ''],
        refreshMarginSeconds: 0,
        maxEntries: 0,
        identityIdMaxEntries: 1.5,
        maxAttempts: -1,
        baseDelayMs: Number.NaN,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthorizerConfigError);
    const issues = (error as AuthorizerConfigError).issues.join('\n');
    for (const fragment of [
      'identityPoolId',
      'accountId',
      'must include "sub"',
      '"custom:tenant_id" twice',
      'non-empty strings',
      'refreshMarginSeconds',
      'maxEntries',
      'identityIdMaxEntries',
      'maxAttempts',
      'baseDelayMs',
    ]) {
      expect(issues).toContain(fragment);
    }
    expect((error as AuthorizerConfigError).issues).toHaveLength(10);
  });

  it.each([
    ['a margin of an hour or more', { refreshMarginSeconds: 3600 }],
    ['a negative margin', { refreshMarginSeconds: -1 }],
    ['an infinite margin', { refreshMarginSeconds: Number.POSITIVE_INFINITY }],
    ['an empty claim list', { principalTagClaims: [] }],
    ['a pool id without a uuid', { identityPoolId: 'us-east-1:abc' }],
    ['a pool id without a region', { identityPoolId: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0' }],
    ['no client', { client: undefined as unknown as CognitoIdentityClient }],
  ])('refuses %s', (_, options) => {
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
