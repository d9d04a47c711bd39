/**
 * Fail fast: a stalled dependency (a socket that accepts and never answers) costs a request its time
 * limit, not the 10 s function timeout. Each test points one real client at a stalled server and
 * checks the error (a 500), that it names the limit that was applied, and that the client dropped its
 * connection. No timing assertion: a missing limit shows up as the test hanging to vitest's timeout.
 */
import { request } from 'node:http';
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuthorizerOptions, createAuthorizer } from '../../authorizer/authorize.js';
import {
  CredentialsUnavailableError,
  DependencyTimeoutError,
  JwksUnavailableError,
  MembershipCheckError,
} from '../../authorizer/errors.js';
import type { Fetcher } from '../../authorizer/token.js';
import { createMembershipCheck } from '../../tenants/index.js';
import { tokenEvent } from '../fixtures/events.js';
import {
  createTestKey,
  idTokenPayload,
  jwksOf,
  jwksUriOf,
  signJwt,
  staticJwksFetcher,
  TEST_CLIENT_ID,
  TEST_POOL_ID,
} from '../fixtures/keys.js';
import { type StalledServer, startStalledServer } from '../fixtures/stalled-server.js';

const LIMIT_MS = 100;
const FAKE_KEYS = { accessKeyId: 'AKIDSTALLTEST', secretAccessKey: 'stall-test-secret' };
const key = createTestKey();
const token = signJwt(
  key,
  idTokenPayload({ sub: 'user-1', tenantId: 'acme', groups: ['acme'], role: 'pilot' }),
);
const goodJwks = staticJwksFetcher({ [jwksUriOf(TEST_POOL_ID)]: jwksOf(key) });

let stalled: StalledServer;
beforeEach(async () => {
  stalled = await startStalledServer();
});
afterEach(async () => {
  await stalled.close();
});

/** Clients with no time limits of their own: the authorizer's limits must end the wait. */
const stalledCognito = () =>
  new CognitoIdentityClient({
    region: 'us-east-1',
    endpoint: stalled.url,
    credentials: FAKE_KEYS,
    maxAttempts: 1,
  });
const answeringCognito = () =>
  ({
    send: async (command: { constructor: { name: string }; input: { IdentityId?: string } }) =>
      command.constructor.name === 'GetOpenIdTokenForDeveloperIdentityCommand'
        ? { IdentityId: 'us-east-1:id-1', Token: 'openid' }
        : {
            IdentityId: command.input.IdentityId,
            Credentials: {
              AccessKeyId: 'ASIA1',
              SecretKey: 's',
              SessionToken: 't',
              Expiration: new Date(Date.now() + 3_600_000),
            },
          },
  }) as unknown as CognitoIdentityClient;

const authorizer = (overrides: Partial<AuthorizerOptions>) =>
  createAuthorizer({
    userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
    identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
    developerProviderName: 'login.tenantgate',
    jwksFetcher: goodJwks,
    cognitoIdentity: answeringCognito(),
    dependencyTimeoutMs: LIMIT_MS,
    ...overrides,
  });

const failure = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as Error & { cause?: unknown };
  }
  throw new Error('expected the request to fail');
};

describe('a stalled dependency is a 500 after its time limit', () => {
  it('JWKS endpoint: JwksUnavailableError after the limit, for a fetcher that ignores it', async () => {
    // A fetcher with no time-out of its own, against a server that never answers.
    const hanging: Fetcher = {
      fetch: () =>
        new Promise((_, reject) => {
          request(`${stalled.url}/jwks.json`).on('error', reject).end();
        }),
    };
    const handler = authorizer({ jwksFetcher: hanging, prefetchJwks: false });
    const error = await failure(handler(tokenEvent({ token })));
    expect(error).toBeInstanceOf(JwksUnavailableError);
    expect(error.cause).toBeInstanceOf(DependencyTimeoutError);
    expect(error.cause).toMatchObject({ dependency: 'JWKS', timeoutMs: LIMIT_MS });
    expect(stalled.accepted()).toBeGreaterThan(0);
  });

  it('JWKS prefetched at init: a first request during the download joins it, one fetch in all', async () => {
    const fetched: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: Fetcher = {
      fetch: async (uri) => {
        fetched.push(uri);
        await gate;
        return goodJwks.fetch(uri);
      },
    };
    const handler = authorizer({ jwksFetcher: slow, dependencyTimeoutMs: 5_000 });
    const regional = jwksUriOf(TEST_POOL_ID);
    // At construction, before any request (aws-jwt-verify also fetches Cognito's global-issuer URI).
    expect(fetched.filter((u) => u === regional)).toHaveLength(1);
    const first = handler(tokenEvent({ token }));
    release();
    await expect(first).resolves.toMatchObject({ principalId: 'user-1' });
    expect(fetched.filter((u) => u === regional)).toHaveLength(1);
  });

  it('sharedOpenIdTokens reaches the credentials provider: a stored token means no mint', async () => {
    // A mutation survivor on main: dropping the option went unnoticed (ShareOpenIdTokens silently off).
    const asked: string[] = [];
    const sent: string[] = [];
    const cognito = answeringCognito();
    const send = cognito.send.bind(cognito);
    cognito.send = (async (command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return send(command as never);
    }) as typeof cognito.send;
    const handler = authorizer({
      cognitoIdentity: cognito,
      sharedOpenIdTokens: {
        get: async (key) => {
          asked.push(key);
          return {
            identityId: 'us-east-1:id-1',
            token: 'openid',
            expiresAtMs: Date.now() + 3_600_000,
          };
        },
        put: async () => {},
      },
    });
    await expect(handler(tokenEvent({ token }))).resolves.toMatchObject({ principalId: 'user-1' });
    expect(asked).toHaveLength(1);
    expect(sent).toEqual(['GetCredentialsForIdentityCommand']);
  });

  it('prefetchJwks false: nothing is fetched until the first request needs the keys', async () => {
    const fetched: string[] = [];
    const counting: Fetcher = {
      fetch: async (uri) => {
        fetched.push(uri);
        return goodJwks.fetch(uri);
      },
    };
    const handler = authorizer({ jwksFetcher: counting, prefetchJwks: false });
    expect(fetched).toEqual([]);
    await expect(handler(tokenEvent({ token }))).resolves.toMatchObject({ principalId: 'user-1' });
    expect(fetched).toContain(jwksUriOf(TEST_POOL_ID));
  });

  it('Cognito Identity: CredentialsUnavailableError within the credential budget, socket dropped', async () => {
    const handler = authorizer({ cognitoIdentity: stalledCognito() });
    const error = await failure(handler(tokenEvent({ token })));
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect(error).toMatchObject({ operation: 'GetOpenIdTokenForDeveloperIdentity' });
    // The first attempt is cut at the per-attempt limit; a retry gets what is left of twice that.
    const cause = error.cause as DependencyTimeoutError;
    expect(cause).toBeInstanceOf(DependencyTimeoutError);
    expect(cause.timeoutMs).toBeLessThanOrEqual(LIMIT_MS);
    expect(error.message).toMatch(/GetOpenIdTokenForDeveloperIdentity/);
    // The abort signal reached the SDK: it closed the connection it had opened.
    await expect.poll(() => stalled.closedByClient()).toBe(stalled.accepted());
    expect(stalled.accepted()).toBeGreaterThan(0);
  });

  it('membership read (DynamoDB): MembershipCheckError after twice the limit, never an Allow', async () => {
    const membershipCheck = createMembershipCheck({
      client: DynamoDBDocumentClient.from(
        new DynamoDBClient({
          region: 'us-east-1',
          endpoint: stalled.url,
          credentials: FAKE_KEYS,
          maxAttempts: 1,
        }),
      ),
      tableName: 'tenantgate',
    });
    const handler = authorizer({ membershipCheck });
    const error = await failure(handler(tokenEvent({ token })));
    expect(error).toBeInstanceOf(MembershipCheckError);
    expect(error.cause).toMatchObject({
      name: 'DependencyTimeoutError',
      dependency: 'membership check',
      timeoutMs: 2 * LIMIT_MS,
    });
    expect(stalled.accepted()).toBeGreaterThan(0);
  });
});
