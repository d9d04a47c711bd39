/**
 * The handlers' AWS clients carry a time limit: against a stalled dependency (a socket that accepts and
 * never answers) a call fails with the SDK's TimeoutError after its attempts, instead of waiting out
 * the function timeout. No timing assertion: a client without a limit would hang this test until
 * vitest's own timeout fails it.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ownTableClient,
  tenantTableClients,
  timeLimited,
  userDirectory,
} from '../../sam/clients.js';
import { readControlPlaneConfig } from '../../sam/config.js';
import { type StalledServer, startStalledServer } from '../fixtures/stalled-server.js';

const KEYS = { accessKeyId: 'AKIDSTALLTEST', secretAccessKey: 'stall-test-secret' };
let stalled: StalledServer;
beforeEach(async () => {
  stalled = await startStalledServer();
});
afterEach(async () => {
  await stalled.close();
});

const config = readControlPlaneConfig(
  {
    TABLE_NAME: 'T',
    USER_POOL_ID: 'us-east-1_Pool1',
    USER_POOL_CLIENT_ID: 'client1',
    DEPENDENCY_TIMEOUT_MS: '100',
  },
  true,
);
const get = new GetCommand({ TableName: 'T', Key: { PK: 'CONTROL#t', SK: 'MEMBER#u' } });

describe('time-limited clients', () => {
  it('the request handler throws on a passed request time limit (not only a warning)', () => {
    expect(timeLimited(100)).toEqual({
      connectionTimeout: 100,
      requestTimeout: 100,
      socketTimeout: 100,
      throwOnRequestTimeout: true,
    });
  });

  it('the function’s own table client: TimeoutError from a stalled DynamoDB', async () => {
    const client = ownTableClient(config, {
      region: 'us-east-1',
      endpoint: stalled.url,
      credentials: KEYS,
      maxAttempts: 2,
    });
    await expect(client.send(get)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(stalled.accepted()).toBe(2);
  });

  it('tenant-credential clients: TimeoutError from a stalled DynamoDB', async () => {
    const clientFor = tenantTableClients(config, {
      region: 'us-east-1',
      endpoint: stalled.url,
      maxAttempts: 1,
    });
    // tenantDynamoClient keeps one client per access key: a key of this test alone.
    const client = clientFor({
      credentials: {
        accessKeyId: 'ASIASTALLTEST',
        secretAccessKey: 's',
        sessionToken: 'stall-session',
        expiration: new Date(Date.now() + 3_600_000),
      },
    } as Parameters<typeof clientFor>[0]);
    await expect(client.send(get)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(stalled.accepted()).toBe(1);
  });

  it('the user directory: TimeoutError from a stalled Cognito user pool', async () => {
    const directory = userDirectory(config, {
      region: 'us-east-1',
      endpoint: stalled.url,
      credentials: KEYS,
      maxAttempts: 1,
    });
    await expect(directory.findUser('someone@example.com')).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(stalled.accepted()).toBe(1);
  });
});
