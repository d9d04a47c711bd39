/**
 * Identities and sessions of the stand-in.
 *
 * IdentityIds are name-based UUIDs (RFC 9562 version 5) of pool, provider and `sub`: the same user
 * gets the same id across restarts, so an IdentityId the authorizer cached before a restart still
 * works. The service's are random; only the format (`<region>:<uuid>`) is promised by the API.
 *
 * Sessions are the credentials handed out, kept by access key id for the local DynamoDB isolation
 * layer. They are never evicted, expired ones included: the layer passes through requests signed
 * with keys it does not know (the functions' own), so forgetting an expired session would turn
 * "expired" into "allowed". One session is ~1.1 KB of heap (measured: 100 000 sessions, 108 MB).
 */
import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { IdentityPoolError, ServiceError, ServiceErrorType } from './errors.js';

/** What the isolation layer needs to judge a request signed with these credentials. */
export interface Session {
  readonly identityId: string;
  /** Principal tag → value, as STS would attach them to the assumed-role session. */
  readonly principalTags: Readonly<Record<string, string>>;
  /** A fresh `Date` on each lookup. */
  readonly expiration: Date;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** The credentials registry the isolation layer reads. */
export interface SessionRegistry {
  /** The session of an access key id this stand-in issued (expired or not), else `undefined`. */
  lookup(accessKeyId: string): Session | undefined;
  /** Sessions issued since start. */
  readonly size: number;
}

export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Milliseconds since the epoch, whole seconds (the wire carries epoch seconds). */
  readonly expirationMs: number;
}

export interface SessionStore extends SessionRegistry {
  issue(
    identityId: string,
    principalTags: Readonly<Record<string, string>>,
    expirationMs: number,
  ): IssuedCredentials;
}

/** Bytes of randomness; injected so tests can pin credentials. */
export type RandomBytes = (size: number) => Buffer;

// Temporary credentials' ids start with ASIA; the rest is base32 (A-Z, 2-7) as in AWS's own ids.
// 256 is a multiple of 32, so `byte % 32` picks each symbol with equal probability.
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** 40 characters like an AWS secret key: 30 random bytes, base64. */
const SECRET_BYTES = 30;
/** Real session tokens run to ~1 KB of base64; 384 random bytes give 512 opaque characters. */
const SESSION_TOKEN_BYTES = 384;

interface StoredSession {
  readonly identityId: string;
  readonly principalTags: Readonly<Record<string, string>>;
  readonly expirationMs: number;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export function createSessionStore(random: RandomBytes = cryptoRandomBytes): SessionStore {
  const sessions = new Map<string, StoredSession>();
  const newAccessKeyId = () => {
    // 80 random bits collide with odds ~2^-80 per pair; a repeat means the injected randomness is
    // broken, and looping on it would hang the stand-in.
    for (let attempt = 0; attempt < 8; attempt++) {
      const id = `ASIA${Array.from(random(16), (b) => KEY_ALPHABET[b % 32]).join('')}`;
      if (!sessions.has(id)) return id;
    }
    throw new IdentityPoolError('randomBytes keeps repeating: no fresh access key id');
  };
  return {
    issue(identityId, principalTags, expirationMs) {
      const accessKeyId = newAccessKeyId();
      const stored: StoredSession = Object.freeze({
        identityId,
        principalTags: Object.freeze({ ...principalTags }),
        expirationMs,
        secretAccessKey: random(SECRET_BYTES).toString('base64'),
        sessionToken: random(SESSION_TOKEN_BYTES).toString('base64'),
      });
      sessions.set(accessKeyId, stored);
      return {
        accessKeyId,
        secretAccessKey: stored.secretAccessKey,
        sessionToken: stored.sessionToken,
        expirationMs,
      };
    },
    lookup(accessKeyId) {
      const s = sessions.get(accessKeyId);
      if (!s) return undefined;
      return Object.freeze({
        identityId: s.identityId,
        principalTags: s.principalTags,
        expiration: new Date(s.expirationMs),
        secretAccessKey: s.secretAccessKey,
        sessionToken: s.sessionToken,
      });
    },
    get size() {
      return sessions.size;
    },
  };
}

/** Namespace of the stand-in's name-based IdentityIds (a fixed random UUID). */
const IDENTITY_NAMESPACE = Buffer.from('6f3c2a8e4b1d4e7a9c5f0d2b8a1e3c47', 'hex');

/** `<region>:<uuid v5 of pool, provider and sub>`: stable per user and pool. */
export function identityIdFor(
  region: string,
  identityPoolId: string,
  providerName: string,
  sub: string,
): string {
  // Newlines cannot occur in a pool id or provider name, so the name is unambiguous.
  const name = `${identityPoolId}\n${providerName}\n${sub}`;
  const hash = createHash('sha1').update(IDENTITY_NAMESPACE).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50; // version 5
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80; // RFC variant
  const hex = b.toString('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return `${region}:${uuid}`;
}

/** STS session tags: letters, digits, spaces and `_ . : / = + - @`; keys 1–128, values ≤ 256. */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;

export function isValidTagKey(key: string): boolean {
  return key.length >= 1 && key.length <= MAX_TAG_KEY_LENGTH && TAG_CHARACTERS.test(key);
}

/**
 * Why STS would refuse a session tag (characters, lengths, the reserved `aws:` prefix), else
 * undefined. Keys are case-insensitive in STS; the caller checks duplicates.
 */
export function sessionTagProblem(key: string, value: string): string | undefined {
  if (!isValidTagKey(key)) return `${JSON.stringify(key)} is no valid session tag key`;
  if (key.toLowerCase().startsWith('aws:')) return `session tag keys may not start with aws:`;
  if (value.length > MAX_TAG_VALUE_LENGTH || !TAG_CHARACTERS.test(value))
    return `the value of session tag ${key} is not a valid session tag value`;
  return undefined;
}

/**
 * The principal tags of a verified token under a tag → claim mapping
 * (`AWS::Cognito::IdentityPoolPrincipalTag.PrincipalTags`). A claim the token lacks gives no tag, as
 * in AWS. So does an empty or non-string claim (our choice, unverified against the service: a tag
 * `tenant_id = ""` would turn `TENANT#${aws:PrincipalTag/tenant_id}` into the prefix `TENANT#`).
 * A value STS would refuse as a session tag fails the exchange with
 * InvalidIdentityPoolConfigurationException, the service's error for an STS refusal.
 */
export function principalTagsFor(
  claims: Readonly<Record<string, unknown>>,
  mapping: Readonly<Record<string, string>>,
): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [tag, claim] of Object.entries(mapping)) {
    const value = claims[claim];
    if (typeof value !== 'string' || value === '') continue;
    if (value.length > MAX_TAG_VALUE_LENGTH || !TAG_CHARACTERS.test(value)) {
      throw new ServiceError(
        ServiceErrorType.invalidIdentityPoolConfiguration,
        `Invalid identity pool configuration: claim ${claim} is not a valid value for session tag ${tag}`,
      );
    }
    tags[tag] = value;
  }
  return tags;
}
