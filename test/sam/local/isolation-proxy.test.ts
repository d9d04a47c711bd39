/**
 * The isolation proxy against a recording fake upstream (no Java): byte-for-byte forwarding, the
 * judged pipeline (token, expiry, signature, operation, body, key schema, IAM) with the real SDK
 * client for tenant sessions and a function's own role, DynamoDB-shaped refusals, counters and option
 * validation. SigV4 against AWS's test vectors.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createIamEvaluator,
  type IamPolicyDocument,
  IsolationConfigError,
  type IsolationProxy,
  type IsolationProxyOptions,
  parseAuthorization,
  type SessionInfo,
  startIsolationProxy,
  verifySignature,
} from '../../../sam/local/isolation/index.js';

interface Seen {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
}

/** A fake DynamoDB: records what reaches it and answers `{}` (or what a test sets). */
async function startUpstream() {
  const seen: Seen[] = [];
  let reply = { status: 200, headers: ['Content-Type', 'application/x-amz-json-1.0'], body: '{}' };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(chunks),
    });
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    setReply: (r: typeof reply) => {
      reply = r;
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const ACCOUNT = '123456789012';
const TABLE = 'T';
const TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${TABLE}`;
const POLICY: IamPolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      Resource: [TABLE_ARN, 'arn:aws:dynamodb:us-east-1:123456789012:table/Missing'],
      Condition: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [`TENANT#\${aws:PrincipalTag/tenant_id}`],
        },
      },
    },
    {
      Sid: 'NeverTheAuditPartition',
      Effect: 'Deny',
      Action: 'dynamodb:*',
      Resource: '*',
      Condition: { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': 'TENANT#audit' } },
    },
  ],
};

/** A control-plane function's role: its own policy, confined to the control partitions. */
const MEMBERS_ROLE_PRINCIPAL = `arn:aws:sts::${ACCOUNT}:assumed-role/MembersFunctionRole/MembersFunction`;
const membersPolicy = createIamEvaluator({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
      Resource: TABLE_ARN,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CONTROL#*'] } },
    },
  ],
});

const t0 = Date.now();
const SESSIONS: Record<string, SessionInfo> = {
  LocalRoleMembersFunction: {
    secretAccessKey: 'members-secret',
    evaluator: membersPolicy,
    principalArn: MEMBERS_ROLE_PRINCIPAL,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/MembersFunctionRole`,
  },
  ASIATENANTA: {
    principalTags: { tenant_id: 'a', user_id: 'u1' },
    secretAccessKey: 'secret-a',
    sessionToken: 'token-a',
    expiration: new Date(t0 + 3600_000),
    identityId: 'us-east-1:aaaa',
  },
  ASIATENANTAUDIT: {
    principalTags: { tenant_id: 'audit', user_id: 'u9' },
    secretAccessKey: 'secret-audit',
    expiration: new Date(t0 + 3600_000),
    identityId: 'us-east-1:9999',
  },
};

describe('isolation proxy (fake upstream)', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let proxy: IsolationProxy;
  let clock = t0;
  const described: string[] = [];
  const clients: DynamoDBClient[] = [];

  const start = (overrides: Partial<IsolationProxyOptions> = {}) =>
    startIsolationProxy({
      target: upstream.endpoint,
      lookupSession: (id) => SESSIONS[id],
      policy: POLICY,
      region: 'us-east-1',
      accountId: ACCOUNT,
      now: () => clock,
      describeKeySchema: (table) => {
        described.push(table);
        if (table === 'Broken') throw new Error('ECONNREFUSED');
        return table === TABLE ? { partitionKey: 'PK' } : undefined;
      },
      ...overrides,
    });
  const client = (
    accessKeyId: string,
    secretAccessKey = SESSIONS[accessKeyId]?.secretAccessKey ?? 'x',
    sessionToken = SESSIONS[accessKeyId]?.sessionToken,
    endpoint = proxy.endpoint,
  ) => {
    const c = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
      maxAttempts: 1,
    });
    clients.push(c);
    return c;
  };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => ({ name: 'ok', message: '', status: 200 }),
      (e: Error & { $metadata?: { httpStatusCode?: number } }) => ({
        name: e.name,
        message: e.message,
        status: e.$metadata?.httpStatusCode,
      }),
    );
  const get = (pk: string, table = TABLE) =>
    new GetItemCommand({ TableName: table, Key: { PK: { S: pk }, SK: { S: '1' } } });

  beforeAll(async () => {
    upstream = await startUpstream();
    proxy = await start();
  });
  afterEach(() => {
    clock = t0;
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await proxy?.stop();
    await upstream?.stop();
  });

  /** Send raw bytes; resolve with status, raw headers and body. */
  const raw = (headers: string[], body: string, endpoint = proxy.endpoint) =>
    new Promise<{ status: number; rawHeaders: string[]; body: string }>((resolve, reject) => {
      const u = new URL(endpoint);
      const r = request(
        { host: u.hostname, port: u.port, method: 'POST', path: '/', headers, setHost: false },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: text }),
          );
        },
      );
      r.on('error', reject);
      r.end(body);
    });

  it('passes unknown credentials through byte for byte, both ways', async () => {
    upstream.setReply({
      status: 200,
      headers: [
        'Content-Type',
        'application/x-amz-json-1.0',
        'X-Amz-Crc32',
        '42',
        'X-Custom',
        'One',
      ],
      body: '{"Items":[]}',
    });
    const headers = [
      'Host',
      'dynamodb.local:8000',
      'X-Amz-Target',
      'DynamoDB_20120810.Scan',
      'Authorization',
      'AWS4-HMAC-SHA256 Credential=AKIDFUNCTION/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
      'x-MIXED-case',
      'kept',
      'Content-Length',
      '18',
    ];
    const before = proxy.decisions().passedThrough;
    const answer = await raw(headers, '{"TableName":"T" }');
    const last = upstream.seen.at(-1);
    expect(last?.rawHeaders.slice(0, headers.length)).toEqual(headers);
    expect(last?.body.toString()).toBe('{"TableName":"T" }');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('{"Items":[]}');
    expect(answer.rawHeaders.slice(0, 6)).toEqual([
      'Content-Type',
      'application/x-amz-json-1.0',
      'X-Amz-Crc32',
      '42',
      'X-Custom',
      'One',
    ]);
    expect(proxy.decisions().passedThrough).toBe(before + 1);
    upstream.setReply({ status: 200, headers: [], body: '{}' });
  });

  it("judges a function role's calls by its own policy, per transaction item, naming its role session", async () => {
    const members = client('LocalRoleMembersFunction');
    const n = upstream.seen.length;
    expect((await failure(members.send(get('CONTROL#a')))).name).toBe('ok');
    // The tenant data role would allow TENANT#a for tenant a; this role may not touch it.
    expect(await failure(members.send(get('TENANT#a')))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
      message: `User: ${MEMBERS_ROLE_PRINCIPAL} is not authorized to perform: dynamodb:GetItem on resource: ${TABLE_ARN} because no identity-based policy allows the dynamodb:GetItem action`,
    });
    const put = (pk: string) => ({
      Put: { TableName: TABLE, Item: { PK: { S: pk }, SK: { S: '1' } } },
    });
    expect(
      await failure(
        members.send(
          new TransactWriteItemsCommand({ TransactItems: [put('CONTROL#a'), put('TENANT#a')] }),
        ),
      ),
    ).toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('perform: dynamodb:PutItem'),
    });
    // No expiry of its own: a function's key is valid while the stack runs.
    clock = t0 + 48 * 3600_000;
    expect(await failure(members.send(get('CONTROL#a')))).toMatchObject({
      name: 'InvalidSignatureException', // the SDK signed with the real clock, 48 h "ago"
    });
    clock = t0;
    expect((await failure(members.send(get('CONTROL#b')))).name).toBe('ok');
    expect(upstream.seen.length).toBe(n + 2);
  });

  it('passes through calls without any signature, and unknown keys via the SDK', async () => {
    const n = upstream.seen.length;
    expect((await raw(['Host', 'x', 'Content-Length', '2'], '{}')).status).toBe(200);
    await client('AKIDFUNCTIONROLE').send(new ScanCommand({ TableName: TABLE }));
    expect(upstream.seen.length).toBe(n + 2);
  });

  it('forwards an allowed tenant call unchanged: signature, token and body', async () => {
    const n = upstream.seen.length;
    expect((await failure(client('ASIATENANTA').send(get('TENANT#a')))).name).toBe('ok');
    const seen = upstream.seen[n];
    const header = (name: string) =>
      seen?.rawHeaders[seen.rawHeaders.findIndex((h) => h.toLowerCase() === name) + 1];
    expect(header('authorization')).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIATENANTA\//);
    expect(header('x-amz-security-token')).toBe('token-a');
    expect(JSON.parse(seen?.body.toString() ?? '')).toEqual({
      TableName: TABLE,
      Key: { PK: { S: 'TENANT#a' }, SK: { S: '1' } },
    });
  });

  it("refuses another tenant's key as DynamoDB does, and forwards nothing", async () => {
    const n = upstream.seen.length;
    expect(await failure(client('ASIATENANTA').send(get('TENANT#b')))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/TenantDataRole/CognitoIdentityCredentials is not authorized to perform: dynamodb:GetItem on resource: ${TABLE_ARN} because no identity-based policy allows the dynamodb:GetItem action`,
    });
    expect(upstream.seen.length).toBe(n);
  });

  it('names an explicit deny', async () => {
    const audit = client('ASIATENANTAUDIT');
    expect((await failure(audit.send(get('TENANT#audit')))).message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/TenantDataRole/CognitoIdentityCredentials is not authorized to perform: dynamodb:GetItem on resource: ${TABLE_ARN} with an explicit deny in an identity-based policy`,
    );
  });

  it('refuses an undeterminable key whatever the policy, saying why', async () => {
    const result = await failure(
      client('ASIATENANTA').send(
        new PutItemCommand({ TableName: TABLE, Item: { SK: { S: 'no partition key' } } }),
      ),
    );
    expect(result.name).toBe('AccessDeniedException');
    expect(result.message).toContain(
      'because the isolation proxy could not determine dynamodb:LeadingKeys: Item has no partition key attribute PK',
    );
  });

  it('authenticates before authorizing: token, expiry, signature, clock skew', async () => {
    const n = upstream.seen.length;
    expect(
      (await failure(client('ASIATENANTA', 'secret-a', 'stolen').send(get('TENANT#a')))).name,
    ).toBe('UnrecognizedClientException');
    expect((await failure(client('ASIATENANTA', 'secret-a', '').send(get('TENANT#a')))).name).toBe(
      'UnrecognizedClientException',
    );
    expect((await failure(client('ASIATENANTA', 'secret-b').send(get('TENANT#a')))).name).toBe(
      'InvalidSignatureException',
    );
    clock = t0 + 3600_000;
    expect(await failure(client('ASIATENANTA').send(get('TENANT#a')))).toEqual({
      name: 'ExpiredTokenException',
      status: 400,
      message: 'The security token included in the request is expired',
    });
    clock = t0 + 20 * 60_000;
    const skewed = await failure(client('ASIATENANTA').send(get('TENANT#a')));
    expect(skewed.name).toBe('InvalidSignatureException');
    expect(skewed.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    expect(upstream.seen.length).toBe(n);
  });

  it('can skip signature verification', async () => {
    const lax = await start({ verifySignatures: false });
    try {
      const c = client('ASIATENANTA', 'wrong secret', 'token-a', lax.endpoint);
      expect((await failure(c.send(get('TENANT#a')))).name).toBe('ok');
    } finally {
      await lax.stop();
    }
  });

  it('answers unknown operations, bad bodies and missing tables as DynamoDB would', async () => {
    const lax = await start({ verifySignatures: false });
    const n = upstream.seen.length;
    const tenantCall = (target: string, body: string) =>
      raw(
        [
          'Host',
          'localhost',
          'X-Amz-Target',
          target,
          'Authorization',
          'AWS4-HMAC-SHA256 Credential=ASIATENANTA/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
          'X-Amz-Security-Token',
          'token-a',
          'Content-Length',
          String(Buffer.byteLength(body)),
        ],
        body,
        lax.endpoint,
      );
    const typeOf = async (p: ReturnType<typeof tenantCall>) => {
      const r = await p;
      return [r.status, (JSON.parse(r.body) as { __type: string }).__type];
    };
    try {
      expect(await typeOf(tenantCall('DynamoDB_20120810.', '{}'))).toEqual([
        400,
        'com.amazonaws.dynamodb.v20120810#UnknownOperationException',
      ]);
      expect(await typeOf(tenantCall('DynamoDB_20120810.GetItem', '{"TableName":'))).toEqual([
        400,
        'com.amazon.coral.service#SerializationException',
      ]);
      expect(
        await typeOf(
          tenantCall(
            'DynamoDB_20120810.GetItem',
            '{"TableName":"T","Key":{"PK":{"S":"TENANT#a"}},"Key":{"PK":{"S":"TENANT#b"}}}',
          ),
        ),
      ).toEqual([400, 'com.amazon.coral.service#SerializationException']);
      expect(
        await typeOf(tenantCall('DynamoDB_20120810.GetItem', '{"Key":{"PK":{"S":"TENANT#a"}}}')),
      ).toEqual([400, 'com.amazon.coral.validate#ValidationException']);
      expect(upstream.seen.length).toBe(n);
    } finally {
      await lax.stop();
    }
    expect((await failure(client('ASIATENANTA').send(get('TENANT#a', 'Missing')))).name).toBe(
      'ResourceNotFoundException',
    );
  });

  it('fails closed with a 500 when a key schema cannot be read or the registry throws', async () => {
    const broken = await failure(client('ASIATENANTA').send(get('TENANT#a', 'Broken')));
    expect(broken).toEqual({
      name: 'InternalServerError',
      status: 500,
      message: 'isolation proxy: could not read the key schema of table Broken',
    });
    const throwing = await start({
      lookupSession: () => {
        throw new Error('registry down');
      },
    });
    try {
      const n = upstream.seen.length;
      const c = client('ASIATENANTA', 'secret-a', 'token-a', throwing.endpoint);
      expect((await failure(c.send(get('TENANT#a')))).status).toBe(500);
      expect(upstream.seen.length).toBe(n);
    } finally {
      await throwing.stop();
    }
  });

  it('reads each key schema once, and again after a table is deleted', async () => {
    const fresh = await start();
    try {
      described.length = 0;
      const c = client('ASIATENANTA', 'secret-a', 'token-a', fresh.endpoint);
      await c.send(get('TENANT#a'));
      await c.send(get('TENANT#a'));
      expect(described).toEqual([TABLE]);
      await client('AKIDFUNCTION', 'x', undefined, fresh.endpoint).send(
        new DeleteTableCommand({ TableName: 'Other' }),
      );
      await c.send(get('TENANT#a'));
      expect(described).toEqual([TABLE, TABLE]);
      // a missing table is asked about again: it may be created
      await failure(c.send(get('TENANT#a', 'Missing')));
      await failure(c.send(get('TENANT#a', 'Missing')));
      expect(described.filter((t) => t === 'Missing')).toHaveLength(2);
    } finally {
      await fresh.stop();
    }
  });

  it('refuses a body over the limit without forwarding it', async () => {
    const small = await start({ maxBodyBytes: 64 });
    try {
      const n = upstream.seen.length;
      const c = client('ASIATENANTA', 'secret-a', 'token-a', small.endpoint);
      const big = new PutItemCommand({
        TableName: TABLE,
        Item: { PK: { S: 'TENANT#a' }, data: { S: 'x'.repeat(200) } },
      });
      expect((await failure(c.send(big))).status).toBe(413);
      expect(upstream.seen.length).toBe(n);
      expect(small.decisions().rejected).toEqual({ ValidationException: 1 });
    } finally {
      await small.stop();
    }
  });

  it('counts decisions per action', async () => {
    const counted = await start();
    try {
      const c = client('ASIATENANTA', 'secret-a', 'token-a', counted.endpoint);
      await c.send(get('TENANT#a'));
      await failure(c.send(get('TENANT#b')));
      await failure(c.send(get('TENANT#b')));
      await failure(c.send(new ScanCommand({ TableName: TABLE })));
      await client('AKIDFUNCTION', 'x', undefined, counted.endpoint).send(
        new ListTablesCommand({}),
      );
      clock = t0 + 3600_000;
      await failure(c.send(get('TENANT#a')));
      clock = t0;
      const members = client(
        'LocalRoleMembersFunction',
        'members-secret',
        undefined,
        counted.endpoint,
      );
      await members.send(get('CONTROL#a'));
      await failure(members.send(get('TENANT#a')));
      expect(counted.decisions()).toEqual({
        allowed: { 'dynamodb:GetItem': 2 },
        denied: { 'dynamodb:GetItem': 3, 'dynamodb:Scan': 1 },
        rejected: { ExpiredTokenException: 1 },
        byPrincipal: {
          [`arn:aws:sts::${ACCOUNT}:assumed-role/TenantDataRole/CognitoIdentityCredentials`]: 4,
          [MEMBERS_ROLE_PRINCIPAL]: 2,
        },
        passedThrough: 1,
      });
    } finally {
      await counted.stop();
    }
  });

  it('validates every option at once, the policy included', async () => {
    const error = await start({
      target: 'not a url',
      region: 'mars',
      accountId: '12',
      port: 70000,
      roleName: 'bad role name',
      maxBodyBytes: 0,
      keySchemas: { T: { partitionKey: '' } },
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'x', Resource: '*' }],
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IsolationConfigError);
    expect((error as IsolationConfigError).issues).toEqual([
      'target must be a URL, got "not a url"',
      'region must be an AWS region, e.g. us-east-1',
      'accountId must be 12 digits',
      'roleName must be an IAM role name',
      'maxBodyBytes must be a positive integer',
      'port must be an integer from 0 to 65535',
      'keySchemas.T.partitionKey must be a non-empty string',
      'policy: Statement[0].Action: "x" is not "service:Action" or "*"',
    ]);
  });

  it('stops idempotently', async () => {
    const p = await start();
    await Promise.all([p.stop(), p.stop()]);
    await p.stop();
  });
});

describe('SigV4 verification (AWS test suite vectors)', () => {
  // docs.aws.amazon.com SigV4 test suite: get-vanilla and post-vanilla, secret of AKIDEXAMPLE.
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  const at = Date.UTC(2015, 7, 30, 12, 36, 0);
  const vector = (method: string, signature: string, secretKey = secret, now = at) => {
    const auth = parseAuthorization(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    );
    if (!auth) throw new Error('unparsed');
    return verifySignature(
      {
        method,
        url: '/',
        headers: { host: ['example.amazonaws.com'], 'x-amz-date': ['20150830T123600Z'] },
        body: new Uint8Array(),
      },
      auth,
      secretKey,
      { region: 'us-east-1', service: 'service', now },
    );
  };
  const GET = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
  const POST = '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b';

  it('accepts the published signatures', () => {
    expect(vector('GET', GET)).toBeUndefined();
    expect(vector('POST', POST)).toBeUndefined();
  });

  it('refuses another secret, another method, another scope, a stale date', () => {
    expect(vector('GET', GET, 'other')?.errorType).toBe('InvalidSignatureException');
    expect(vector('POST', GET)?.errorType).toBe('InvalidSignatureException');
    expect(vector('GET', GET, secret, at + 16 * 60_000)?.message).toBe(
      'Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)',
    );
    expect(vector('GET', GET, secret, at - 16 * 60_000)?.message).toMatch(
      /^Signature not yet current/,
    );
    expect(
      parseAuthorization('AWS4-HMAC-SHA256 Credential=A/2015/us-east-1/s/aws4_request'),
    ).toBeUndefined();
  });
});
