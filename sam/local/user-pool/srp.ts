/**
 * The server half of SRP-6a as Cognito runs it for `USER_SRP_AUTH`, so unmodified client libraries
 * (amazon-cognito-identity-js, Amplify, the Android/iOS SDKs) sign in. Cognito's variant of RFC 5054:
 *
 * - group: the 3072-bit MODP prime of RFC 3526 §4, generator g = 2, SHA-256 throughout;
 * - numbers are hashed in their minimal two's-complement big-endian form (`padHex`: even length,
 *   a 00 byte in front when the top bit is set) — not padded to the length of N;
 * - k = H(N | g), u = H(A | B), x = H(salt | H(poolName | username | ":" | password)), where
 *   poolName is the pool id after the underscore and username is USER_ID_FOR_SRP;
 * - v = g^x, B = k·v + g^b, and the server's S = (A · v^u)^b mod N;
 * - the key: HKDF-SHA256 with salt u and info "Caldera Derived Key" over S, first 16 bytes;
 * - the claim: base64 HMAC-SHA256(key, poolName | username | SECRET_BLOCK bytes | TIMESTAMP).
 *
 * BigInt arithmetic; nothing here is constant-time, which is fine on a laptop and nowhere else.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 3526 §4, the 3072-bit MODP group's prime. */
export const N = BigInt(
  `0x${[
    'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74',
    '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437',
    '4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED',
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05',
    '98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB',
    '9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B',
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718',
    '3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33',
    'A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7',
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864',
    'D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2',
    '08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF',
  ].join('')}`,
);
export const g = 2n;

/** Minimal two's-complement hex of a non-negative number: even length, 00 before a high nibble. */
export function padHex(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return /^[89a-f]/.test(hex) ? `00${hex}` : hex;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const hashOfHex = (hex: string) => sha256(Buffer.from(hex, 'hex'));
const toBigInt = (bytes: Buffer) => BigInt(`0x${bytes.toString('hex') || '0'}`);

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = ((base % modulus) + modulus) % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

const k = toBigInt(hashOfHex(padHex(N) + padHex(g)));

/** The pool name of SRP: the pool id's part after the underscore. */
export const srpPoolName = (userPoolId: string) => userPoolId.slice(userPoolId.indexOf('_') + 1);

/** x = H(salt | H(poolName | username | ":" | password)). */
export function passwordExponent(
  poolName: string,
  username: string,
  password: string,
  salt: bigint,
): bigint {
  const inner = sha256(`${poolName}${username}:${password}`).toString('hex');
  return toBigInt(hashOfHex(padHex(salt) + inner));
}

/** The password verifier v = g^x mod N: what Cognito keeps instead of the password. */
export function verifierOf(
  poolName: string,
  username: string,
  password: string,
  salt: bigint,
): bigint {
  return modPow(g, passwordExponent(poolName, username, password, salt), N);
}

export interface ServerChallenge {
  /** The secret exponent b. */
  readonly b: bigint;
  /** B = k·v + g^b mod N, sent as SRP_B. */
  readonly B: bigint;
}

export type RandomBytes = (size: number) => Buffer;

/** A fresh b and B for the verifier v. */
export function serverChallenge(v: bigint, random: RandomBytes = randomBytes): ServerChallenge {
  for (;;) {
    const b = toBigInt(random(64)) % N;
    const B = (k * v + modPow(g, b, N)) % N;
    if (b !== 0n && B !== 0n) return { b, B };
  }
}

/** The 16-byte key both sides derive, or undefined for an A the protocol forbids (A mod N = 0). */
export function sessionKey(A: bigint, challenge: ServerChallenge, v: bigint): Buffer | undefined {
  if (A % N === 0n) return undefined;
  const u = toBigInt(hashOfHex(padHex(A) + padHex(challenge.B)));
  if (u === 0n) return undefined;
  const S = modPow((A * modPow(v, u, N)) % N, challenge.b, N);
  const prk = createHmac('sha256', Buffer.from(padHex(u), 'hex'))
    .update(Buffer.from(padHex(S), 'hex'))
    .digest();
  return createHmac('sha256', prk)
    .update(Buffer.concat([Buffer.from('Caldera Derived Key', 'utf8'), Buffer.from([1])]))
    .digest()
    .subarray(0, 16);
}

/** The PASSWORD_CLAIM_SIGNATURE a client holding the password computes (base64). */
export function claimSignature(
  key: Buffer,
  poolName: string,
  username: string,
  secretBlock: string,
  timestamp: string,
): string {
  return createHmac('sha256', key)
    .update(
      Buffer.concat([
        Buffer.from(poolName, 'utf8'),
        Buffer.from(username, 'utf8'),
        Buffer.from(secretBlock, 'base64'),
        Buffer.from(timestamp, 'utf8'),
      ]),
    )
    .digest('base64');
}

/** Constant-time comparison of two base64 signatures. */
export function sameSignature(expected: string, presented: string): boolean {
  const a = Buffer.from(expected, 'base64');
  const b = Buffer.from(presented, 'base64');
  return a.length === b.length && timingSafeEqual(a, b);
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TIMESTAMP =
  /^([A-Z][a-z]{2}) ([A-Z][a-z]{2}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([A-Z]{3,4}) (\d{4})$/;

/** `EEE MMM d HH:mm:ss 'UTC' yyyy` in English, day not padded: how the clients write TIMESTAMP. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${WEEKDAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/**
 * The canonical form of a client's TIMESTAMP, or undefined when it is not in the format at all.
 * Cognito signs over the date as it parsed it, so a zero-padded day or a wrong weekday parses but
 * no longer matches the signature (NotAuthorizedException), as measured against AWS (ministack
 * PR #1758; warrant PR #12: "Wed Apr 05" failed where "Wed Apr 5" passed).
 */
export function canonicalTimestamp(timestamp: string): string | undefined {
  const m = TIMESTAMP.exec(timestamp);
  if (!m) return undefined;
  const [, , month = '', day = '', hh = '', mm = '', ss = '', , year = ''] = m;
  const monthIndex = MONTHS.indexOf(month);
  if (monthIndex < 0) return undefined;
  const ms = Date.UTC(Number(year), monthIndex, Number(day), Number(hh), Number(mm), Number(ss));
  return Number.isNaN(ms) ? undefined : formatTimestamp(ms);
}
