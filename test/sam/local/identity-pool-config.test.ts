/**
 * The stand-in's options and its JWKS downloads: every bad option in one error, keys fetched from a
 * real loopback server (once, shared by concurrent callers, refetched on rotation at most once per
 * interval on the injected clock), an unreachable JWKS as ExternalServiceException, injected
 * randomness.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IdentityPoolConfigError,
  IdentityPoolError,
  type IdentityPoolOptions,
  startIdentityPool,
} from '../../../sam/local/identity-pool/index.js';
import {
  createTestKey,
  idTokenPayload,
  jwksOf,
  signJwt,
  TEST_CLIENT_ID,
  TEST_POOL_ID,
  type TestKey,
} from '../../fixtures/keys.js';

const POOL = 'us-east-1:0f0f0f0f-1111-2222-3333-444444444444';
const PROVIDER = `cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`;
const T0 = 1_900_000_000_000;
const key = createTestKey();

const options = (overrides: Partial<IdentityPoolOptions> = {}): IdentityPoolOptions => ({
  region: 'us-east-1',
  identityPoolId: POOL,
  providers: [{ providerName: PROVIDER, clientIds: [TEST_CLIENT_ID], jwks: jwksOf(key) }],
  principalTags: { tenant_id: 'custom:tenant_id', user_id: 'sub' },
  now: () => T0,
  ...overrides,
});

const clientFor = (endpoint: string) =>
  new CognitoIdentityClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    maxAttempts: 1,
  });

const tokenBy = (signer: TestKey, sub = 'user-k') =>
  signJwt(signer, idTokenPayload({ sub, tenantId: 'acme' }, T0 / 1000));

const configError = async (opts: unknown) => {
  const error = await startIdentityPool(opts as IdentityPoolOptions).then(
    async (pool) => {
      await pool.stop();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IdentityPoolConfigError);
  return (error as IdentityPoolConfigError).issues;
};

describe('identity-pool stand-in options', () => {
  it('lists every bad option in one IdentityPoolConfigError, before listening', async () => {
    const issues = await configError({
      region: 'Virginia',
      identityPoolId: 'us-east-1_TestPool1',
      providers: [
        {
          providerName: 'cognito-idp.us-east-1.amazonaws.com/eu-west-1_Abc',
          clientIds: [],
          jwks: { keys: [] },
        },
        {
          providerName: PROVIDER,
          clientIds: ['ok'],
          jwksUri: 'https://cognito-idp.us-east-1.amazonaws.com/x',
        },
        {
          providerName: PROVIDER,
          clientIds: ['ok'],
          jwks: jwksOf(key),
          jwksUri: 'http://127.0.0.1:1/',
        },
      ],
      principalTags: { 'bad tag!': 'sub', tenant_id: '' },
      credentialsTtlSeconds: 0,
      port: 70_000,
      host: '0.0.0.0',
      jwksTimeoutMs: 0,
      jwksRefetchIntervalMs: -1,
      now: 'yesterday',
      fetch: 1,
      logger: {},
    });
    expect(issues).toEqual([
      'region must look like us-east-1, got "Virginia"',
      'identityPoolId must be "<region>:<uuid>" in region Virginia, got "us-east-1_TestPool1"',
      "providers[0].providerName: the user pool id's region differs from the host's",
      'providers[0].clientIds must be a non-empty array of app client ids ([\\w+]{1,128})',
      'providers[0].jwks has no RS256 signing key with a kid',
      'providers[1].jwksUri must be on loopback, got host cognito-idp.us-east-1.amazonaws.com',
      `providers[2].providerName ${PROVIDER} is listed twice`,
      'providers[2]: exactly one of jwks and jwksUri is required',
      'principalTags: "bad tag!" is no valid tag key',
      'principalTags.tenant_id must name a claim (1–256 characters)',
      'credentialsTtlSeconds must be an integer in 1–43200',
      'port must be an integer in 0–65535 (0: a free port)',
      'host must be a loopback address (127.0.0.1, ::1, localhost)',
      'jwksTimeoutMs must be an integer in 1–60000',
      'jwksRefetchIntervalMs must be a non-negative integer',
      'now must be a function',
      'fetch must be a function',
      'logger must have an error method',
    ]);
  });

  it('refuses a pool id of another region, a pool serving nobody, a bad developer provider, weak or unusable keys', async () => {
    expect(
      await configError(
        options({ identityPoolId: 'eu-west-1:0f0f0f0f-1111-2222-3333-444444444444' }),
      ),
    ).toHaveLength(1);
    expect(await configError(options({ providers: [] }))).toEqual([
      'the pool needs providers or a developerProviderName: it would serve nobody',
    ]);
    expect(
      await configError(
        options({ providers: [], developerProviderName: 'login bad', callers: 'nobody' as never }),
      ),
    ).toEqual([
      'developerProviderName must be 1 to 128 of [A-Za-z0-9_.-], got "login bad"',
      "accountId must be 12 digits (the pool's ARN), got undefined",
      'callers must be a function',
    ]);
    expect(await configError(null)).toEqual(['options must be an object']);
    const weak = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weakJwk = { ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256' };
    expect(
      await configError(
        options({
          providers: [{ providerName: PROVIDER, clientIds: ['c'], jwks: { keys: [weakJwk] } }],
        }),
      ),
    ).toEqual(['providers[0].jwks: keys[0] (kid weak) has 1024 bits, below 2048']);
    const encryptionOnly = { ...key.publicJwk, use: 'enc' };
    expect(
      await configError(
        options({
          providers: [
            { providerName: PROVIDER, clientIds: ['c'], jwks: { keys: [encryptionOnly] } },
          ],
        }),
      ),
    ).toEqual(['providers[0].jwks has no RS256 signing key with a kid']);
  });

  it('a taken port is an IdentityPoolError naming it', async () => {
    const first = await startIdentityPool(options());
    const port = Number(new URL(first.endpoint).port);
    try {
      const err = await startIdentityPool(options({ port })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdentityPoolError);
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      expect((err as Error).cause).toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.stop();
    }
  });

  it('injected randomness makes credentials reproducible; a repeating source is an internal error, not a hang', async () => {
    let counter = 0;
    const pool = await startIdentityPool(
      options({ randomBytes: (n) => Buffer.alloc(n, counter++ % 256) }),
    );
    const stuck = await startIdentityPool(options({ randomBytes: (n) => Buffer.alloc(n, 7) }));
    const client = clientFor(pool.endpoint);
    const stuckClient = clientFor(stuck.endpoint);
    try {
      const logins = { [PROVIDER]: tokenBy(key) };
      const { IdentityId } = await client.send(
        new GetIdCommand({ IdentityPoolId: POOL, Logins: logins }),
      );
      const out = await client.send(
        new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }),
      );
      expect(out.Credentials?.AccessKeyId).toBe(`ASIA${'A'.repeat(16)}`);
      expect(out.Credentials?.SecretKey).toBe(Buffer.alloc(30, 1).toString('base64'));

      await stuckClient.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }));
      const err = await stuckClient
        .send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins }))
        .catch((e: Error & { $metadata: { httpStatusCode: number } }) => e);
      expect(err).toMatchObject({
        name: 'InternalErrorException',
        $metadata: { httpStatusCode: 500 },
      });
      expect(stuck.stats().errors).toEqual({ InternalErrorException: 1 });
    } finally {
      client.destroy();
      stuckClient.destroy();
      await pool.stop();
      await stuck.stop();
    }
  });
});

describe('identity-pool stand-in: JWKS from a loopback URL', () => {
  let jwksServer: Server;
  let jwksUri: string;
  const served = { jwks: jwksOf(key) as unknown, status: 200, hits: 0 };

  beforeAll(async () => {
    jwksServer = createServer((_req, res) => {
      served.hits++;
      res.writeHead(served.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(served.jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/${TEST_POOL_ID}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    jwksServer.closeAllConnections();
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  const startFetching = (clock: { ms: number }, extra: Partial<IdentityPoolOptions> = {}) =>
    startIdentityPool(
      options({
        providers: [{ providerName: PROVIDER, clientIds: [TEST_CLIENT_ID], jwksUri }],
        now: () => clock.ms,
        jwksRefetchIntervalMs: 10_000,
        ...extra,
      }),
    );

  it('downloads once, shared by concurrent first callers; rotation refetches at most once per interval', async () => {
    served.jwks = jwksOf(key);
    served.status = 200;
    served.hits = 0;
    const clock = { ms: T0 };
    const pool = await startFetching(clock);
    const client = clientFor(pool.endpoint);
    const getId = (signer: TestKey, sub?: string) =>
      client
        .send(
          new GetIdCommand({ IdentityPoolId: POOL, Logins: { [PROVIDER]: tokenBy(signer, sub) } }),
        )
        .then(
          (r) => r.IdentityId,
          (e: Error) => e.name,
        );
    try {
      const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => getId(key, `user-${i}`)));
      expect(ids.every((id) => id?.startsWith('us-east-1:'))).toBe(true);
      expect(pool.stats().jwksFetches).toBe(1);
      expect(served.hits).toBe(1);

      // Rotation: a token under a new kid triggers one refetch, which finds the key.
      const rotated = createTestKey();
      served.jwks = jwksOf(key, rotated);
      expect(await getId(rotated)).toMatch(/^us-east-1:/);
      expect(served.hits).toBe(2);

      // Made-up kids within the interval cost no download…
      const stranger = createTestKey();
      expect(await getId(stranger)).toBe('NotAuthorizedException');
      expect(await getId(createTestKey())).toBe('NotAuthorizedException');
      expect(served.hits).toBe(2);
      // …and one after it has passed.
      clock.ms += 10_000;
      expect(await getId(stranger)).toBe('NotAuthorizedException');
      expect(served.hits).toBe(3);
    } finally {
      client.destroy();
      await pool.stop();
    }
  });

  it.each([
    ['an HTTP error', 500, jwksOf(key)],
    ['a body that is no key set', 200, { nope: true }],
    ['a key set without a usable key', 200, { keys: [{ kty: 'EC', kid: 'x' }] }],
  ])(
    'a JWKS answering %s → ExternalServiceException (transient for our provider)',
    async (_name, status, body) => {
      served.status = status;
      served.jwks = body;
      const pool = await startFetching({ ms: T0 });
      const client = clientFor(pool.endpoint);
      try {
        const err = await client
          .send(new GetIdCommand({ IdentityPoolId: POOL, Logins: { [PROVIDER]: tokenBy(key) } }))
          .catch((e: Error) => e);
        expect(err).toMatchObject({
          name: 'ExternalServiceException',
          $metadata: { httpStatusCode: 400 },
        });
        expect((err as Error).message).toBe(`The signing keys of ${PROVIDER} could not be fetched`);
      } finally {
        client.destroy();
        await pool.stop();
        served.status = 200;
        served.jwks = jwksOf(key);
      }
    },
  );

  it('an injected fetch that fails is ExternalServiceException too, and nothing is cached from it', async () => {
    let calls = 0;
    const failingThenWorking: typeof fetch = async (input, init) => {
      calls++;
      if (calls === 1) throw new TypeError('fetch failed');
      return fetch(input, init);
    };
    const pool = await startFetching({ ms: T0 }, { fetch: failingThenWorking });
    const client = clientFor(pool.endpoint);
    try {
      const send = () =>
        client
          .send(new GetIdCommand({ IdentityPoolId: POOL, Logins: { [PROVIDER]: tokenBy(key) } }))
          .then(
            () => 'ok',
            (e: Error) => e.name,
          );
      expect(await send()).toBe('ExternalServiceException');
      expect(await send()).toBe('ok');
      expect(calls).toBe(2);
    } finally {
      client.destroy();
      await pool.stop();
    }
  });
});
