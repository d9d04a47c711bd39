/**
 * The authorizer's per-request cost against its floors, measured in one process:
 * raw RS256 verify (node:crypto) < aws-jwt-verify verify < our handler on a new token; and our handler
 * on a repeated token (verified-token and credential caches hit), metrics included.
 * Reports medians of batches (µs per request); never a pass/fail.
 */
import { createPublicKey, createVerify } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { createAuthorizer } from '../authorizer/index.js';
import { emfMetrics, jsonLogger } from '../sam/telemetry.js';
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
import { instantCognitoIdentity } from './fakes.js';

export interface HotPathResult {
  readonly name: string;
  readonly medianMicros: number;
  readonly p99Micros: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function measure(
  name: string,
  batches: number,
  perBatch: number,
  run: (i: number) => unknown,
): Promise<HotPathResult> {
  const samples: number[] = [];
  let i = 0;
  for (let w = 0; w < perBatch * 2; w++) await run(i++); // warm-up
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < perBatch; k++) await run(i++);
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / perBatch);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    name,
    medianMicros: median(samples),
    p99Micros: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
  };
}

export async function runHotPath(options: { tokens?: number } = {}): Promise<HotPathResult[]> {
  const key = createTestKey();
  const fetcher = staticJwksFetcher({ [jwksUriOf(TEST_POOL_ID)]: jwksOf(key) });
  const count = options.tokens ?? 3000;
  const tokens = Array.from({ length: count }, (_, i) =>
    signJwt(
      key,
      idTokenPayload({ sub: `user-${i % 50}`, tenantId: 'acme', groups: ['acme'], role: 'pilot' }),
    ),
  );
  const token = tokens[0] ?? '';
  const results: HotPathResult[] = [];

  // Floor: the RS256 signature check alone.
  const publicKey = createPublicKey({ key: key.publicJwk as never, format: 'jwk' });
  const [h, p, s] = token.split('.');
  const signature = Buffer.from(s ?? '', 'base64url');
  results.push(
    await measure('raw RS256 verify (node:crypto)', 200, 50, () =>
      createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, signature),
    ),
  );

  const jwv = CognitoJwtVerifier.create(
    { userPoolId: TEST_POOL_ID, tokenUse: 'id', clientId: TEST_CLIENT_ID },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );
  await jwv.hydrate();
  results.push(await measure('aws-jwt-verify verify', 200, 50, () => jwv.verify(token)));

  let t = Date.now();
  const client = instantCognitoIdentity(() => t);
  // The handler's own logger and EMF sink, as in production (metrics disabled: no stdout here).
  const handler = createAuthorizer({
    userPools: [{ userPoolId: TEST_POOL_ID, clientIds: [TEST_CLIENT_ID] }],
    identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
    developerProviderName: 'login.tenantgate',
    jwksFetcher: fetcher,
    cognitoIdentity: client,
    tokenCacheSize: count * 2,
    logger: jsonLogger({ serviceName: 'bench', level: 'WARN' }),
    metrics: emfMetrics({ namespace: 'bench', serviceName: 'bench', disabled: true }),
    now: () => t,
  });
  const events = tokens.map((tk) => tokenEvent({ token: tk }));
  const same = events[0];
  results.push(
    await measure('tenantgate handler, new token (credentials cached)', 40, 50, (i) =>
      handler(events[(i % (count - 1)) + 1]),
    ),
  );
  t = Date.now();
  results.push(await measure('tenantgate handler, repeated token', 200, 200, () => handler(same)));
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runHotPath();
  console.table(
    results.map((r) => ({
      ...r,
      medianMicros: r.medianMicros.toFixed(2),
      p99Micros: r.p99Micros.toFixed(2),
    })),
  );
}
