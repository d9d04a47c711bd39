/**
 * The stand-in's awsJson1_1 wire format, with raw HTTP where the SDK would hide it: status codes,
 * error headers and bodies, the front end's UnknownOperation / Serialization / Validation answers,
 * signed requests, tokens never echoed, oversized bodies.
 */
import { CognitoIdentityClient, ListIdentitiesCommand } from '@aws-sdk/client-cognito-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IdentityPool, startIdentityPool } from '../../../sam/local/identity-pool/index.js';
import {
  createTestKey,
  idTokenPayload,
  jwksOf,
  signJwt,
  TEST_CLIENT_ID,
  TEST_POOL_ID,
} from '../../fixtures/keys.js';

const POOL = 'us-east-1:0f0f0f0f-1111-2222-3333-444444444444';
const PROVIDER = `cognito-idp.us-east-1.amazonaws.com/${TEST_POOL_ID}`;
const key = createTestKey();
/** The stand-in's clock, fixed: tokens are minted for it, expirations computed from it. */
const T0_SECONDS = 1_900_000_000;

describe('identity-pool stand-in: the awsJson1_1 wire', () => {
  let pool: IdentityPool;
  beforeAll(async () => {
    pool = await startIdentityPool({
      region: 'us-east-1',
      identityPoolId: POOL,
      providers: [{ providerName: PROVIDER, clientIds: [TEST_CLIENT_ID], jwks: jwksOf(key) }],
      principalTags: { tenant_id: 'custom:tenant_id', user_id: 'sub' },
      now: () => T0_SECONDS * 1000,
    });
  });
  afterAll(async () => {
    await pool?.stop();
  });

  const post = async (
    target: string | undefined,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${pool.endpoint}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        ...(target === undefined ? {} : { 'x-amz-target': target }),
        ...headers,
      },
      body,
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: JSON.parse(text) as Record<string, unknown>,
    };
  };
  const token = (sub = 'user-w') =>
    signJwt(key, idTokenPayload({ sub, tenantId: 'acme' }, T0_SECONDS));
  const getId = (body: unknown) => post('AWSCognitoIdentityService.GetId', JSON.stringify(body));

  it('a success: 200, the JSON content type, a request id, Expiration as epoch seconds', async () => {
    const tk = token();
    const id = await getId({ IdentityPoolId: POOL, Logins: { [PROVIDER]: tk } });
    expect(id.status).toBe(200);
    expect(id.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(id.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const creds = await post(
      'AWSCognitoIdentityService.GetCredentialsForIdentity',
      JSON.stringify({ IdentityId: id.json.IdentityId, Logins: { [PROVIDER]: tk } }),
    );
    expect(creds.status).toBe(200);
    expect(Object.keys(creds.json).sort()).toEqual(['Credentials', 'IdentityId']);
    const c = creds.json.Credentials as Record<string, unknown>;
    expect(Object.keys(c).sort()).toEqual([
      'AccessKeyId',
      'Expiration',
      'SecretKey',
      'SessionToken',
    ]);
    expect(typeof c.Expiration).toBe('number');
    expect(c.Expiration).toBe(T0_SECONDS + 3600);
  });

  it('a refusal: 400, __type and message, x-amzn-ErrorType with the trailing colon the service sends', async () => {
    const r = await getId({ IdentityPoolId: POOL, Logins: { [PROVIDER]: 'a.b.c' } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      __type: 'NotAuthorizedException',
      message: 'Invalid login token. Not a valid OpenId Connect identity token.',
    });
    expect(r.headers.get('x-amzn-errortype')).toBe('NotAuthorizedException:');
    expect(r.headers.get('x-amzn-errormessage')).toBe(r.json.message);
  });

  it('no refusal echoes a token, in the body or the headers', async () => {
    const forged = signJwt(createTestKey(key.kid), idTokenPayload({ sub: 'user-w' }, T0_SECONDS));
    const bad = [
      { IdentityPoolId: POOL, Logins: { [PROVIDER]: forged } },
      { IdentityPoolId: POOL, Logins: { [PROVIDER]: forged, x: 'y' } },
      {
        IdentityPoolId: POOL,
        Logins: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`p${i}`, forged])),
      },
      { IdentityPoolId: POOL, Logins: { ['k'.repeat(129)]: forged } },
      { IdentityPoolId: 'bad', Logins: { [PROVIDER]: forged } },
    ];
    for (const body of bad) {
      const r = await getId(body);
      expect(r.status).toBe(400);
      expect(r.text).not.toContain(forged.split('.')[1]);
      expect([...r.headers.values()].join('\n')).not.toContain(forged.split('.')[1]);
    }
  });

  it.each([
    ['an unknown operation', 'AWSCognitoIdentityService.ListIdentities'],
    ['another service', 'DynamoDB_20120810.GetItem'],
    ['a target with extra parts', 'AWSCognitoIdentityService.GetId.x'],
    ['no target', undefined],
  ])('%s → UnknownOperationException', async (_name, target) => {
    const r = await post(target, '{}');
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe('com.amazon.coral.service#UnknownOperationException');
    expect(r.headers.get('x-amzn-errortype')).toBe('UnknownOperationException:');
  });

  it('a GET is no operation either', async () => {
    const res = await fetch(`${pool.endpoint}/`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toMatch(/UnknownOperationException$/);
  });

  it('the SDK surfaces UnknownOperationException by name', async () => {
    const client = new CognitoIdentityClient({
      endpoint: pool.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    try {
      const err = await client
        .send(new ListIdentitiesCommand({ IdentityPoolId: POOL, MaxResults: 10 }))
        .catch((e: Error) => e);
      expect((err as Error).name).toBe('UnknownOperationException');
    } finally {
      client.destroy();
    }
  });

  it.each([
    ['not JSON', '{"IdentityPoolId":'],
    ['a JSON array', '[]'],
    ['a number where a string belongs', JSON.stringify({ IdentityPoolId: 42 })],
    ['Logins not a map', JSON.stringify({ IdentityPoolId: POOL, Logins: ['x'] })],
    [
      'a Logins value not a string',
      JSON.stringify({ IdentityPoolId: POOL, Logins: { [PROVIDER]: 1 } }),
    ],
  ])('%s → SerializationException', async (_name, body) => {
    const r = await post('AWSCognitoIdentityService.GetId', body);
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe('com.amazon.coral.service#SerializationException');
  });

  it('constraint violations → ValidationException listing each, in the front end’s words', async () => {
    const one = await getId({ Logins: { [PROVIDER]: token() } });
    expect(one.json).toEqual({
      __type: 'com.amazon.coral.validate#ValidationException',
      message:
        "1 validation error detected: Value null at 'identityPoolId' failed to satisfy constraint: Member must not be null",
    });
    const two = await getId({ IdentityPoolId: `us-east-1:${'a'.repeat(60)}`, AccountId: '12x' });
    expect(two.json.message).toBe(
      "2 validation errors detected: Value 'us-east-1:" +
        'a'.repeat(60) +
        "' at 'identityPoolId' failed to satisfy constraint: Member must have length less than or equal to 55; " +
        "Value '12x' at 'accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d+",
    );
    const arn = await post(
      'AWSCognitoIdentityService.GetCredentialsForIdentity',
      JSON.stringify({ IdentityId: `${POOL}`, CustomRoleArn: 'arn:short' }),
    );
    expect(arn.json.message).toMatch(
      /^1 validation error detected: Value 'arn:short' at 'customRoleArn'/,
    );
  });

  it('signed requests are accepted without checking the signature (the operations are public)', async () => {
    const r = await post(
      'AWSCognitoIdentityService.GetId',
      JSON.stringify({ IdentityPoolId: POOL, Logins: { [PROVIDER]: token('user-signed') } }),
      {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20300101/us-east-1/cognito-identity/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00',
        'x-amz-date': '20300101T000000Z',
      },
    );
    expect(r.status).toBe(200);
  });

  it('an empty body is an empty input; more than 1 MiB is refused and the connection closed', async () => {
    const empty = await post('AWSCognitoIdentityService.GetId', '');
    expect(empty.json.__type).toBe('com.amazon.coral.validate#ValidationException');
    const huge = await post(
      'AWSCognitoIdentityService.GetId',
      `{"x":"${'a'.repeat(1024 * 1024)}"}`,
    );
    expect(huge.status).toBe(400);
    expect(huge.json.__type).toBe('com.amazon.coral.service#SerializationException');
    expect(huge.headers.get('connection')).toBe('close');
  });
});
