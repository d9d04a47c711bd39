/**
 * Fail fast, measured: how long a request takes to fail (a 500) when a dependency stalls — a socket
 * that accepts and never answers — with the defaults (DEPENDENCY_TIMEOUT_MS 1 000 ms). The authorizer
 * is wired as the SAM handler wires it: the Cognito Identity client with the template's time limits,
 * the membership read through sam/dynamodb-json.ts; only the endpoints point at the stalled server.
 * Before these limits, each of these requests waited out the function timeout (10 s in the template).
 */
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { createAuthorizer } from '../authorizer/index.js';
import { dynamoJson } from '../sam/dynamodb-json.js';
import { dynamoMembershipReader } from '../sam/membership-reader.js';
import { timeLimited } from '../sam/time-limited.js';
import { createMembershipCheckWith } from '../tenants/index.js';
import { tokenEvent } from '../test/fixtures/events.js';
import {
  createTestKey,
  idTokenPayload,
  jwksOf,
  jwksUriOf,
  signJwt,
  staticJwksFetcher,
  TEST_CLIENT_ID,
  TEST_POOL_ID,
} from '../test/fixtures/keys.js';
import { startStalledServer } from '../test/fixtures/stalled-server.js';
import { instantCognitoIdentity } from './fakes.js';

export interface FailFastResult {
  readonly stalled: string;
  /** ms from the request to its error. */
  readonly elapsedMs: number;
  /** The stated bound for that case, ms. */
  readonly boundMs: number;
  readonly error: string;
}

const TIMEOUT_MS = 1000;
const KEYS = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' };

export async function runFailFast(): Promise<FailFastResult[]> {
  const stalled = await startStalledServer();
  try {
    const key = createTestKey();
    const token = signJwt(
      key,
      idTokenPayload({ sub: 'user-1', tenantId: 'acme', groups: ['acme'], role: 'pilot' }),
    );
    const goodJwks = staticJwksFetcher({ [jwksUriOf(TEST_POOL_ID)]: jwksOf(key) });
    const stalledJwks = {
      fetch: async (uri: string) => {
        const { request } = await import('node:http');
        return new Promise<ArrayBuffer>((_, reject) => {
          request(`${stalled.url}${new URL(uri).pathname}`)
            .on('error', reject)
            .end();
        });
      },
    };
    // The worst case: keys that come just inside their limit, then both stages stall.
    const slowJwks = {
      fetch: async (uri: string) => {
        await new Promise((resolve) => setTimeout(resolve, 0.9 * TIMEOUT_MS));
        return goodJwks.fetch(uri);
      },
    };
    const cognito = (stall: boolean) =>
      stall
        ? new CognitoIdentityClient({
            region: 'us-east-1',
            endpoint: stalled.url,
            credentials: KEYS,
            maxAttempts: 1,
            requestHandler: timeLimited(TIMEOUT_MS),
          })
        : instantCognitoIdentity();
    const membership = (stall: boolean) =>
      createMembershipCheckWith(
        stall
          ? dynamoMembershipReader({
              call: dynamoJson({
                region: 'us-east-1',
                endpoint: stalled.url,
                credentials: async () => KEYS,
                timeoutMs: TIMEOUT_MS,
              }),
              tableName: 'tenantgate',
            })
          : async () => 'pilot',
        { tableName: 'tenantgate' },
      );
    const cases = [
      {
        stalled: 'JWKS endpoint',
        jwks: 'stall',
        cognito: false,
        table: false,
        boundMs: TIMEOUT_MS,
      },
      {
        stalled: 'Cognito Identity',
        jwks: false,
        cognito: true,
        table: false,
        boundMs: 2 * TIMEOUT_MS,
      },
      {
        stalled: 'DynamoDB (membership read)',
        jwks: false,
        cognito: false,
        table: true,
        boundMs: 2 * TIMEOUT_MS,
      },
      {
        stalled: 'JWKS answers at 0.9 s, then Cognito Identity and DynamoDB stall',
        jwks: 'slow',
        cognito: true,
        table: true,
        boundMs: 3 * TIMEOUT_MS,
      },
    ];
    const results: FailFastResult[] = [];
    for (const c of cases) {
      const handler = createAuthorizer({
        userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
        identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
        developerProviderName: 'login.tenantgate',
        jwksFetcher: c.jwks === 'stall' ? stalledJwks : c.jwks === 'slow' ? slowJwks : goodJwks,
        prefetchJwks: false,
        cognitoIdentity: cognito(c.cognito),
        membershipCheck: membership(c.table),
        dependencyTimeoutMs: TIMEOUT_MS,
      });
      const started = performance.now();
      const error = await handler(tokenEvent({ token })).then(
        () => new Error('allowed'),
        (e: unknown) => e as Error,
      );
      results.push({
        stalled: c.stalled,
        elapsedMs: performance.now() - started,
        boundMs: c.boundMs,
        error: error.name,
      });
    }
    return results;
  } finally {
    await stalled.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await runFailFast());
