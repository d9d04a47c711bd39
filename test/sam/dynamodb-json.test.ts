/**
 * The authorizer's own table calls (no DynamoDB client): the membership GetItem and the shared OpenID
 * token's GetItem/PutItem, against the real DynamoDB Local, an answering stub for DynamoDB's error
 * shapes, and a stalled socket. The membership read behind the local stack's isolation proxy, which
 * checks its signature and the function's template policy, runs in test/sam/local-stack.test.ts and
 * the end-to-end suite (the authorizer there has the check on).
 */
import { createServer, type Server } from 'node:http';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoJson } from '../../sam/dynamodb-json.js';
import { DynamoDbCallError } from '../../sam/errors.js';
import { dynamoMembershipReader } from '../../sam/membership-reader.js';
import { dynamoOpenIdTokens, openIdTokenItemKey } from '../../sam/openid-token-store.js';
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from '../fixtures/dynamodb-local.js';
import { startStalledServer } from '../fixtures/stalled-server.js';

const credentials = async () => ({ accessKeyId: 'local', secretAccessKey: 'local' });
const key = { PK: 'CONTROL#acme', SK: 'USER#u1' };

describe('against DynamoDB Local', () => {
  let ddb: DynamoDbLocal;
  beforeAll(async () => {
    ddb = await startDynamoDbLocal();
    await createTable(ddb.client, 'tenantgate');
    await ddb.client.send(
      new PutItemCommand({
        TableName: 'tenantgate',
        Item: { PK: { S: key.PK }, SK: { S: key.SK }, role: { S: 'pilot' }, email: { S: 'x' } },
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await ddb?.stop();
  });
  const call = () =>
    dynamoJson({ region: 'us-east-1', endpoint: ddb.endpoint, credentials, timeoutMs: 5_000 });
  const reader = (tableName = 'tenantgate') => dynamoMembershipReader({ call: call(), tableName });

  it('reads the role of a membership item', async () => {
    expect(await reader()(key)).toBe('pilot');
  });

  it('answers undefined when there is no item', async () => {
    expect(await reader()({ PK: 'CONTROL#acme', SK: 'USER#nobody' })).toBeUndefined();
  });

  it('shares an OpenID token: put, then get under the same key only, in an AUTHZ# item', async () => {
    const tokens = dynamoOpenIdTokens({ call: call(), tableName: 'tenantgate' });
    const key = JSON.stringify(['cognito-idp.us-east-1.amazonaws.com/us-east-1_P', 'u1', 'acme']);
    const token = {
      identityId: 'us-east-1:id-1',
      token: 'openid.jwt.here',
      expiresAtMs: 1_900_000_000_123,
    };
    const signal = new AbortController().signal;
    expect(await tokens.get(key, signal)).toBeUndefined();
    await tokens.put(key, token);
    expect(await tokens.get(key, signal)).toEqual(token);
    expect(await tokens.get(key.replace('acme', 'beta'), signal)).toBeUndefined();
    const itemKey = openIdTokenItemKey(key);
    expect(itemKey.PK).toMatch(/^AUTHZ#[A-Za-z0-9_-]{43}$/);
    expect(itemKey.PK).not.toContain('u1');
  });

  it('a missing table is DynamoDB’s ResourceNotFoundException, not an answer', async () => {
    await expect(reader('no-such-table')(key)).rejects.toMatchObject({
      name: 'DynamoDbCallError',
      errorType: 'ResourceNotFoundException',
      status: 400,
    });
  });
});

describe('DynamoDB’s error shapes', () => {
  let server: Server;
  let url = '';
  const answers: { status: number; body: string }[] = [];
  let requests = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      req.resume();
      const answer = answers.shift() ?? { status: 200, body: '{}' };
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const reader = () =>
    dynamoMembershipReader({
      call: dynamoJson({ region: 'us-east-1', endpoint: url, credentials, timeoutMs: 5_000 }),
      tableName: 'T',
    });
  const error = (type: string) =>
    JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'm' });

  it('retries throttling once, then answers', async () => {
    requests = 0;
    answers.push({ status: 400, body: error('ThrottlingException') });
    answers.push({ status: 200, body: '{"Item":{"role":{"S":"admin"}}}' });
    expect(await reader()(key)).toBe('admin');
    expect(requests).toBe(2);
  });

  it('gives up after two attempts of a 5xx', async () => {
    requests = 0;
    answers.push({ status: 500, body: error('InternalServerError') });
    answers.push({ status: 500, body: error('InternalServerError') });
    await expect(reader()(key)).rejects.toMatchObject({ errorType: 'InternalServerError' });
    expect(requests).toBe(2);
  });

  it('does not retry a refusal (AccessDeniedException), nor take it for "no item"', async () => {
    requests = 0;
    answers.push({ status: 400, body: error('AccessDeniedException') });
    await expect(reader()(key)).rejects.toBeInstanceOf(DynamoDbCallError);
    expect(requests).toBe(1);
  });

  it('refuses an answer that is not JSON', async () => {
    answers.push({ status: 200, body: '<html>' });
    await expect(reader()(key)).rejects.toMatchObject({ errorType: 'SerializationException' });
  });
});

describe('a stalled DynamoDB', () => {
  it('fails with TimeoutError after its attempts, each cut at the time limit', async () => {
    const stalled = await startStalledServer();
    try {
      const read = dynamoMembershipReader({
        call: dynamoJson({
          region: 'us-east-1',
          endpoint: stalled.url,
          credentials,
          timeoutMs: 100,
        }),
        tableName: 'T',
      });
      await expect(read(key)).rejects.toMatchObject({ errorType: 'TimeoutError' });
      expect(stalled.accepted()).toBe(2);
      await expect.poll(() => stalled.closedByClient()).toBe(2);
    } finally {
      await stalled.close();
    }
  });
});

describe('a caller’s abort signal', () => {
  it('ends the call at once, with no retry', async () => {
    const stalled = await startStalledServer();
    try {
      const call = dynamoJson({
        region: 'us-east-1',
        endpoint: stalled.url,
        credentials,
        timeoutMs: 60_000,
      });
      const controller = new AbortController();
      const pending = call('GetItem', { TableName: 'T', Key: {} }, controller.signal);
      await expect.poll(() => stalled.accepted()).toBe(1);
      controller.abort();
      await expect(pending).rejects.toMatchObject({ errorType: 'TimeoutError' });
      expect(stalled.accepted()).toBe(1);
    } finally {
      await stalled.close();
    }
  });
});
