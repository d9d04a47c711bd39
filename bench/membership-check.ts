/**
 * What the membership check (revocation within 60 s) costs per request, measured three ways in one run:
 * - cache hit: the authorizer on a repeated token with the check on vs off, same process, same token;
 * - cache miss: one GetItem of a membership item against DynamoDB Local on loopback, and the authorizer
 *   with the check's TTL at 0 (every request reads the table) vs off;
 * - amortized: GetItems a day for the Cognito-budget workload (1,000,000 requests, 10,000 Zipf users),
 *   one TTL cache per warm environment, simulated with the real cache on an injected clock.
 * Medians of batches; never a pass/fail.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type AuthorizerOptions, createAuthorizer } from '../authorizer/index.js';
import { emfMetrics, jsonLogger } from '../sam/telemetry.js';
import { createMembershipCheck } from '../tenants/index.js';
import { createTable, startDynamoDbLocal } from '../test/fixtures/dynamodb-local.js';
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
import { traffic } from './cognito-budget.js';
import { instantCognitoIdentity } from './fakes.js';

export interface MembershipCheckResult {
  readonly hitOffMicros: number;
  readonly hitOnMicros: number;
  readonly getItemMicros: number;
  readonly missOnMicros: number;
  readonly getItemsPerDay: { readonly containers: number; readonly getItems: number }[];
  readonly requestsPerDay: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function perCall(batches: number, perBatch: number, run: () => unknown): Promise<number> {
  for (let w = 0; w < perBatch * 2; w++) await run();
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < perBatch; k++) await run();
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / perBatch);
  }
  return median(samples);
}

export async function runMembershipCheck(): Promise<MembershipCheckResult> {
  const key = createTestKey();
  const fetcher = staticJwksFetcher({ [jwksUriOf(TEST_POOL_ID)]: jwksOf(key) });
  const token = signJwt(
    key,
    idTokenPayload({ sub: 'user-1', tenantId: 'acme', groups: ['acme'], role: 'pilot' }),
  );
  const cognitoIdentity = instantCognitoIdentity();
  const base: AuthorizerOptions = {
    userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
    identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
    developerProviderName: 'login.tenantgate',
    jwksFetcher: fetcher,
    cognitoIdentity,
    logger: jsonLogger({ serviceName: 'bench', level: 'WARN' }),
    metrics: emfMetrics({ namespace: 'bench', serviceName: 'bench', disabled: true }),
  };
  const event = tokenEvent({ token });

  const ddb = await startDynamoDbLocal();
  try {
    await createTable(ddb.client, 'bench');
    const doc = DynamoDBDocumentClient.from(ddb.client);
    await doc.send(
      new PutCommand({
        TableName: 'bench',
        Item: { PK: 'CONTROL#acme', SK: 'USER#user-1', role: 'pilot' },
      }),
    );
    const off = createAuthorizer(base);
    const hit = createAuthorizer({
      ...base,
      membershipCheck: createMembershipCheck({ client: doc, tableName: 'bench' }),
    });
    const miss = createAuthorizer({
      ...base,
      membershipCheck: createMembershipCheck({ client: doc, tableName: 'bench', ttlMs: 0 }),
    });
    // Interleaved rounds, so drift on this noisy machine hits both sides alike.
    const offs: number[] = [];
    const ons: number[] = [];
    for (let r = 0; r < 5; r++) {
      offs.push(await perCall(40, 200, () => off(event)));
      ons.push(await perCall(40, 200, () => hit(event)));
    }
    const getItemMicros = await perCall(20, 25, () =>
      doc.send(
        new GetCommand({ TableName: 'bench', Key: { PK: 'CONTROL#acme', SK: 'USER#user-1' } }),
      ),
    );
    const missOnMicros = await perCall(20, 25, () => miss(event));

    // Amortized: the real cache, one per warm environment, on the simulated day's clock.
    const getItemsPerDay: MembershipCheckResult['getItemsPerDay'] = [];
    let requestsPerDay = 0;
    for (const containers of [1, 10]) {
      const day = traffic({
        users: 10_000,
        requests: 1_000_000,
        zipfS: 1,
        daySeconds: 86_400,
        tokenLifetimeSeconds: 3600,
        credentialsLifetimeSeconds: 3600,
        refreshMarginSeconds: 900,
        openIdTokenSeconds: 3600,
        containers,
        seed: 42,
      });
      requestsPerDay = day.length;
      let clock = 0;
      let reads = 0;
      const counting = {
        send: async () => {
          reads++;
          return { Item: { role: 'pilot' } };
        },
      } as unknown as DynamoDBDocumentClient;
      const checks = Array.from({ length: containers }, () =>
        createMembershipCheck({ client: counting, tableName: 'bench', now: () => clock }),
      );
      for (const r of day) {
        clock = r.t * 1000;
        await checks[r.container]?.({
          tenantId: `tenant${r.user % 500}`,
          userId: `user-${r.user}`,
          role: 'pilot',
        });
      }
      getItemsPerDay.push({ containers, getItems: reads });
    }
    return {
      hitOffMicros: median(offs),
      hitOnMicros: median(ons),
      getItemMicros,
      missOnMicros,
      getItemsPerDay,
      requestsPerDay,
    };
  } finally {
    await ddb.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await runMembershipCheck());
}
