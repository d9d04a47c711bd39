/**
 * Our SigV4 signer (the authorizer's membership GetItem) against the SDK's own, @smithy/signature-v4:
 * the same request, credentials and instant must get the same signature, for any body, key, region,
 * session token and time. And against the local stack's verifier, which judges what DynamoDB would.
 */

import { createHash, createHmac } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect } from 'vitest';
import { parseAuthorization, verifySignature } from '../../sam/local/sigv4.js';
import { signPost } from '../../sam/sigv4-sign.js';

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** The SDK's hash interface: SHA-256, or HMAC-SHA256 when given a secret. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

const secret = fc.stringMatching(/^[A-Za-z0-9/+]{40}$/);
const keyId = fc.stringMatching(/^(AKIA|ASIA)[A-Z0-9]{16}$/);
const region = fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'cn-north-1');
const host = fc.constantFrom(
  'dynamodb.us-east-1.amazonaws.com',
  '127.0.0.1:8001',
  'localhost:4566',
);
// Any instant from 2000 to 2100, whole seconds (the signature's resolution).
const instant = fc.integer({ min: 946_684_800, max: 4_102_444_799 }).map((s) => s * 1000);

describe('signPost', () => {
  test.prop(
    [
      keyId,
      secret,
      fc.option(fc.string({ minLength: 1, maxLength: 300 })),
      region,
      host,
      instant,
      fc.string(),
    ],
    { numRuns: 200 },
  )(
    'signs exactly as @smithy/signature-v4 does',
    async (id, key, token, reg, hostName, ms, body) => {
      const credentials = {
        accessKeyId: id,
        secretAccessKey: key,
        ...(token === null ? {} : { sessionToken: token }),
      };
      const headers = {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
      };
      const ours = signPost(
        { host: hostName, headers, body, region: reg, service: 'dynamodb' },
        credentials,
        ms,
      );
      const sdk = await new SignatureV4({
        credentials,
        region: reg,
        service: 'dynamodb',
        sha256: Sha256,
        applyChecksum: false,
      }).sign(
        {
          method: 'POST',
          protocol: 'https:',
          hostname: hostName.split(':')[0] ?? hostName,
          path: '/',
          query: {},
          headers: { ...headers, host: hostName },
          body,
        },
        { signingDate: new Date(ms) },
      );
      expect(ours.authorization).toBe(sdk.headers.authorization);
      expect(ours['x-amz-date']).toBe(sdk.headers['x-amz-date']);
      expect(ours['x-amz-security-token']).toBe(sdk.headers['x-amz-security-token']);
    },
  );

  test.prop([keyId, secret, region, instant, fc.string()], { numRuns: 100 })(
    'passes the local stack’s verifier; a changed body or another secret does not',
    (id, key, reg, ms, body) => {
      const headers = signPost(
        {
          host: '127.0.0.1:8001',
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body,
          region: reg,
          service: 'dynamodb',
        },
        { accessKeyId: id, secretAccessKey: key },
        ms,
      );
      const request = (b: string) => ({
        method: 'POST',
        url: '/',
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
        body: Buffer.from(b, 'utf8'),
      });
      const auth = parseAuthorization(headers.authorization);
      expect(auth).toBeDefined();
      if (!auth) return;
      const expected = { region: reg, service: 'dynamodb', now: ms };
      expect(verifySignature(request(body), auth, key, expected)).toBeUndefined();
      expect(verifySignature(request(`${body}x`), auth, key, expected)).toMatchObject({
        errorType: 'InvalidSignatureException',
      });
      expect(verifySignature(request(body), auth, `${key}x`, expected)).toBeDefined();
    },
  );
});
