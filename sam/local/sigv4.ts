/**
 * AWS Signature Version 4 verification of a request the local front (isolation proxy, identity pool, user pool) received, with the secret
 * of the session its access key names — so a local caller that mixes up credentials (one tenant's key
 * id, another's secret) fails here as it would against DynamoDB. Answers with DynamoDB's error names.
 *
 * Scope: the header form (`Authorization: AWS4-HMAC-SHA256 …`) that the SDK uses for DynamoDB, a
 * signed payload (sha256 of the body), and the path taken as sent (DynamoDB posts to `/`).
 * Presigned query-string auth and SigV4a are not supported (refused).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  /** Lower-case header names, in the order signed. */
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

export interface SignedRequest {
  readonly method: string;
  /** Path and query as sent, e.g. `/` or `/?a=1`. */
  readonly url: string;
  /** Header values by lower-case name, repeated headers as separate entries. */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
  readonly body: Uint8Array;
}

export interface SignatureProblem {
  /** The DynamoDB error name to answer with. */
  readonly errorType: 'IncompleteSignatureException' | 'InvalidSignatureException';
  readonly message: string;
}

/** The access key id a SigV4 `Authorization` header names, even when the rest is malformed. */
export function credentialAccessKeyId(header: string | undefined): string | undefined {
  return /\bCredential=([^/,\s]+)\//.exec(header ?? '')?.[1];
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 +Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request, *SignedHeaders=([a-z0-9;-]+), *Signature=([0-9a-f]{64})$/;

export function parseAuthorization(header: string | undefined): SigV4Authorization | undefined {
  const m = AUTHORIZATION.exec(header ?? '');
  if (!m) return undefined;
  const [, accessKeyId = '', date = '', region = '', service = '', headers = '', signature = ''] =
    m;
  return { accessKeyId, date, region, service, signedHeaders: headers.split(';'), signature };
}

/** AWS allows 15 minutes between the signing time and its own clock, either way. */
const MAX_SKEW_MS = 15 * 60_000;
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 canonicalizes query parameters. */
const encode = (s: string) =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((pair) => {
      const i = pair.indexOf('=');
      const [k, v] = i < 0 ? [pair, ''] : [pair.slice(0, i), pair.slice(i + 1)];
      const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return [encode(decode(k)), encode(decode(v))] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const isoBasic = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');

/**
 * Verify a SigV4 header signature. Returns undefined when valid, else the error DynamoDB answers
 * with. `now` is the proxy's clock (ms); the region and service must match the credential scope.
 */
export function verifySignature(
  request: SignedRequest,
  auth: SigV4Authorization,
  secretAccessKey: string,
  expected: { readonly region: string; readonly service: string; readonly now: number },
): SignatureProblem | undefined {
  const header = (name: string) => request.headers[name];
  const amzDate = header('x-amz-date')?.[0];
  if (amzDate === undefined)
    return {
      errorType: 'IncompleteSignatureException',
      message:
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    };
  if (!auth.signedHeaders.includes('host'))
    return {
      errorType: 'IncompleteSignatureException',
      message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    };
  const t = ISO_BASIC.exec(amzDate);
  if (!t)
    return { errorType: 'IncompleteSignatureException', message: `Invalid X-Amz-Date ${amzDate}` };
  const [, year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0] = t.map(Number);
  const signedAt = Date.UTC(year, month - 1, day, hour, minute, second);
  if (expected.now - signedAt > MAX_SKEW_MS)
    return {
      errorType: 'InvalidSignatureException',
      message: `Signature expired: ${amzDate} is now earlier than ${isoBasic(expected.now - MAX_SKEW_MS)} (${isoBasic(expected.now)} - 15 min.)`,
    };
  if (signedAt - expected.now > MAX_SKEW_MS)
    return {
      errorType: 'InvalidSignatureException',
      message: `Signature not yet current: ${amzDate} is still later than ${isoBasic(expected.now + MAX_SKEW_MS)} (${isoBasic(expected.now)} + 15 min.)`,
    };
  if (!amzDate.startsWith(auth.date))
    return {
      errorType: 'InvalidSignatureException',
      message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    };
  if (auth.region !== expected.region)
    return {
      errorType: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid region, not '${auth.region}'. `,
    };
  if (auth.service !== expected.service)
    return {
      errorType: 'InvalidSignatureException',
      message: `Credential should be scoped to correct service: '${expected.service}'. `,
    };
  const payloadHash = sha256(request.body);
  const declared = header('x-amz-content-sha256')?.[0];
  if (declared !== undefined && declared !== payloadHash)
    return { errorType: 'InvalidSignatureException', message: SIGNATURE_MISMATCH };

  const queryAt = request.url.indexOf('?');
  const path = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const query = queryAt < 0 ? '' : request.url.slice(queryAt + 1);
  const canonicalHeaders = auth.signedHeaders
    .map((name) => {
      const values = (header(name) ?? []).map((v) => v.trim().replace(/\s+/g, ' '));
      return `${name}:${values.join(',')}\n`;
    })
    .join('');
  const canonicalRequest = [
    request.method,
    path === '' ? '/' : path,
    canonicalQuery(query),
    canonicalHeaders,
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, auth.date);
  for (const part of [auth.region, auth.service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== signature.length || !timingSafeEqual(given, signature))
    return { errorType: 'InvalidSignatureException', message: SIGNATURE_MISMATCH };
  return undefined;
}
