/**
 * The checks Cognito Identity makes on each `Logins` token from a Cognito user pool, with its
 * answers (all NotAuthorizedException; messages as captured from the service where known):
 *
 * 1. a JWT at all — "Invalid login token. Not a valid OpenId Connect identity token." (our words);
 * 2. `iss` is `https://<the Logins key>` — "Invalid login token. Issuer doesn't match providerName"
 *    (amazon-cognito-identity-js#40: the service compares before it looks the provider up);
 * 3. an `aud` claim — "Invalid login token. Missing a required claim: aud" (what an *access* token
 *    gets: it has `client_id`, no `aud`; amazon-cognito-identity-js#12) — so only ID tokens pass;
 * 4. the provider is configured and `aud` is one of its clients — "Token is not from a supported
 *    provider of this identity pool." (amazon-cognito-identity-js#7, aws-amplify/amplify-js#2067) —
 *    which is every genuine user-pool ID token when the pool trusts no user pool (developer
 *    authenticated identities only, as template.yaml's);
 * 5. RS256 signature by a key of the pool's JWKS — "Invalid login token. Couldn't verify signed
 *    token." (amazon-cognito-identity-js#91);
 * 6. expiry — "Invalid login token. Token expired: <now> >= <exp>" (aws-amplify/amplify-js#3675).
 *
 * Then, stricter than the service is known to be (fail closed; the messages are ours): `nbf` not in
 * the future, `token_use` is `id`, a non-empty `sub`. Real Cognito tokens always pass these.
 *
 * Signatures are checked with `node:crypto` alone: only `authorizer/token.ts` may use aws-jwt-verify,
 * and an independent implementation is what makes this a second opinion on our verifier.
 */
import { createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import { ServiceError, ServiceErrorType } from './errors.js';

/** A JSON Web Key Set as a user pool serves it. */
export interface JsonWebKeySet {
  readonly keys: readonly Record<string, unknown>[];
}

/** A Cognito user pool the identity pool trusts (`CognitoIdentityProviders` of the template). */
export interface IdentityPoolProvider {
  /** `cognito-idp.<region>.amazonaws.com/<userPoolId>`: the `Logins` key. */
  readonly providerName: string;
  /** App client ids whose ID tokens are accepted (`aud`). */
  readonly clientIds: readonly string[];
  /** The pool's keys, given. Exactly one of `jwks` and `jwksUri`. */
  readonly jwks?: JsonWebKeySet;
  /** Where to fetch the pool's keys: a loopback http(s) URL (cognito-local). */
  readonly jwksUri?: string;
}

/** A login whose token passed every check. */
export interface VerifiedLogin {
  readonly providerName: string;
  readonly sub: string;
  /** The token's claims, frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface LoginVerifierOptions {
  readonly providers: readonly IdentityPoolProvider[];
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly fetch: typeof fetch;
  readonly jwksTimeoutMs: number;
  /** A token with an unknown `kid` refetches the JWKS at most once per this interval. */
  readonly jwksRefetchIntervalMs: number;
}

export interface LoginVerifier {
  /**
   * Checks every login of a `Logins` map. One login is all the stand-in links: several valid logins
   * are an InvalidParameterException (the service would link them into one identity).
   * @throws ServiceError NotAuthorizedException, InvalidParameterException, ExternalServiceException.
   */
  verify(logins: Readonly<Record<string, string>>): Promise<VerifiedLogin>;
  /** JWKS downloads so far (tests and benchmarks). */
  jwksFetches(): number;
}

/** Cognito user pool ids are `<region>_<id>`; the Logins key repeats the region in the host. */
const PROVIDER_NAME =
  /^cognito-idp\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com\/([a-z]{2}(?:-[a-z]+)+-\d{1,2})_[0-9A-Za-z]+$/;
const CLIENT_ID = /^[\w+]{1,128}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Cognito signs with RSA-2048; a shorter key in a local JWKS is a misconfiguration. */
const MIN_MODULUS_BITS = 2048;
const MAX_JWKS_BYTES = 1024 * 1024;

const notAuthorized = (message: string) =>
  new ServiceError(ServiceErrorType.notAuthorized, message);
const invalidToken = (why: string) => notAuthorized(`Invalid login token. ${why}`);
const NOT_A_JWT = 'Not a valid OpenId Connect identity token.';
const UNVERIFIED = "Couldn't verify signed token.";
const UNSUPPORTED_PROVIDER = 'Token is not from a supported provider of this identity pool.';

/** The problems with `providers`, for the factory's one configuration error. */
export function providerIssues(providers: unknown): string[] {
  // Empty is fine: a pool of developer-authenticated identities trusts no user pool.
  if (!Array.isArray(providers)) return ['providers must be an array'];
  const issues: string[] = [];
  const seen = new Set<string>();
  providers.forEach((entry: unknown, i) => {
    const at = `providers[${i}]`;
    if (typeof entry !== 'object' || entry === null) {
      issues.push(`${at} must be an object`);
      return;
    }
    const p = entry as Partial<Record<keyof IdentityPoolProvider, unknown>>;
    const match = typeof p.providerName === 'string' ? PROVIDER_NAME.exec(p.providerName) : null;
    if (!match) {
      issues.push(
        `${at}.providerName must be cognito-idp.<region>.amazonaws.com/<region>_<id>, got ${JSON.stringify(p.providerName)}`,
      );
    } else if (match[1] !== match[2]) {
      issues.push(`${at}.providerName: the user pool id's region differs from the host's`);
    } else if (seen.has(match[0])) {
      issues.push(`${at}.providerName ${match[0]} is listed twice`);
    } else {
      seen.add(match[0]);
    }
    if (
      !Array.isArray(p.clientIds) ||
      p.clientIds.length === 0 ||
      !p.clientIds.every((c) => typeof c === 'string' && CLIENT_ID.test(c))
    ) {
      issues.push(`${at}.clientIds must be a non-empty array of app client ids ([\\w+]{1,128})`);
    }
    if ((p.jwks === undefined) === (p.jwksUri === undefined)) {
      issues.push(`${at}: exactly one of jwks and jwksUri is required`);
    } else if (p.jwks !== undefined) {
      const { keys, problems } = importJwks(p.jwks);
      issues.push(...problems.map((problem) => `${at}.jwks: ${problem}`));
      if (problems.length === 0 && keys.size === 0) {
        issues.push(`${at}.jwks has no RS256 signing key with a kid`);
      }
    } else {
      const problem = jwksUriProblem(p.jwksUri);
      if (problem) issues.push(`${at}.jwksUri ${problem}`);
    }
  });
  return issues;
}

function jwksUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return 'must be a string';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `is not a URL: ${JSON.stringify(uri)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be http(s)';
  // The stand-in is part of the local stack: a JWKS off this machine is a configuration mistake
  // (and tests must never reach the internet).
  if (!LOOPBACK_HOSTS.has(url.hostname)) return `must be on loopback, got host ${url.hostname}`;
  return undefined;
}

/**
 * The usable keys of a key set, by kid: RSA, for signatures, RS256 when an `alg` is given, at least
 * 2048 bits. Other keys are skipped, as a verifier must; a set that is not `{keys: [...]}` or a key
 * that fails to import is a problem.
 */
function importJwks(jwks: unknown): { keys: Map<string, KeyObject>; problems: string[] } {
  const keys = new Map<string, KeyObject>();
  const problems: string[] = [];
  const list = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) return { keys, problems: ['must be {"keys": [...]}'] };
  list.forEach((jwk: unknown, i) => {
    if (typeof jwk !== 'object' || jwk === null) {
      problems.push(`keys[${i}] is not an object`);
      return;
    }
    const k = jwk as Record<string, unknown>;
    const usable =
      k.kty === 'RSA' &&
      typeof k.kid === 'string' &&
      k.kid !== '' &&
      (k.use === undefined || k.use === 'sig') &&
      (k.alg === undefined || k.alg === 'RS256');
    if (!usable) return;
    try {
      const key = createPublicKey({ key: k as JsonWebKey, format: 'jwk' });
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_MODULUS_BITS) {
        problems.push(
          `keys[${i}] (kid ${String(k.kid)}) has ${bits} bits, below ${MIN_MODULUS_BITS}`,
        );
        return;
      }
      keys.set(k.kid as string, key);
    } catch (cause) {
      problems.push(
        `keys[${i}] (kid ${String(k.kid)}) does not import: ${(cause as Error).message}`,
      );
    }
  });
  return { keys, problems };
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

interface KeyState {
  keys: Map<string, KeyObject> | undefined;
  loading: Promise<Map<string, KeyObject>> | undefined;
  lastRefetchAt: number | undefined;
}

/** Build once per stand-in; `providers` must have passed `providerIssues`. */
export function createLoginVerifier(options: LoginVerifierOptions): LoginVerifier {
  const providers = new Map(options.providers.map((p) => [p.providerName, p]));
  const state = new Map<string, KeyState>();
  for (const p of options.providers) {
    state.set(p.providerName, {
      keys: p.jwks ? importJwks(p.jwks).keys : undefined,
      loading: undefined,
      lastRefetchAt: undefined,
    });
  }
  let fetches = 0;

  const download = async (provider: IdentityPoolProvider): Promise<Map<string, KeyObject>> => {
    fetches++;
    const failed = (cause: unknown) =>
      new ServiceError(
        ServiceErrorType.externalService,
        `The signing keys of ${provider.providerName} could not be fetched`,
        { cause },
      );
    let text: string;
    try {
      const res = await options.fetch(provider.jwksUri ?? '', {
        signal: AbortSignal.timeout(options.jwksTimeoutMs),
        redirect: 'error',
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (cause) {
      throw failed(cause);
    }
    if (text.length > MAX_JWKS_BYTES) throw failed(new Error('JWKS larger than 1 MiB'));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw failed(cause);
    }
    const { keys, problems } = importJwks(parsed);
    if (keys.size === 0) throw failed(new Error(`no usable key: ${problems.join('; ')}`));
    return keys;
  };

  /** One download at a time per provider; concurrent callers share it. */
  const load = (provider: IdentityPoolProvider, s: KeyState) => {
    if (!s.loading) {
      s.loading = download(provider)
        .then((keys) => {
          s.keys = keys;
          return keys;
        })
        .finally(() => {
          s.loading = undefined;
        });
    }
    return s.loading;
  };

  const keyFor = async (provider: IdentityPoolProvider, kid: string) => {
    const s = state.get(provider.providerName) as KeyState;
    if (provider.jwks) return s.keys?.get(kid);
    const keys = s.keys ?? (await load(provider, s));
    const key = keys.get(kid);
    if (key) return key;
    // An unknown kid after a key rotation needs a fresh set; a flood of made-up kids must not turn
    // into a flood of downloads, hence at most one such refetch per interval.
    const t = options.now();
    if (s.lastRefetchAt !== undefined && t - s.lastRefetchAt < options.jwksRefetchIntervalMs) {
      return undefined;
    }
    s.lastRefetchAt = t;
    return (await load(provider, s)).get(kid);
  };

  const verifyOne = async (providerName: string, token: string): Promise<VerifiedLogin> => {
    const parts = token.split('.');
    const header = parts.length === 3 ? decodeSegment(parts[0] ?? '') : undefined;
    const claims = parts.length === 3 ? decodeSegment(parts[1] ?? '') : undefined;
    const signature = parts[2] ?? '';
    if (!header || !claims || !BASE64URL.test(signature)) throw invalidToken(NOT_A_JWT);

    if (claims.iss !== `https://${providerName}`) {
      throw invalidToken("Issuer doesn't match providerName");
    }
    if (claims.aud === undefined) throw invalidToken('Missing a required claim: aud');
    const provider = providers.get(providerName);
    if (!provider || typeof claims.aud !== 'string' || !provider.clientIds.includes(claims.aud)) {
      throw notAuthorized(UNSUPPORTED_PROVIDER);
    }

    // Cognito signs with RS256 only: `none`, HS256 (key confusion) and the rest never verify.
    if (header.alg !== 'RS256' || typeof header.kid !== 'string' || header.crit !== undefined) {
      throw invalidToken(UNVERIFIED);
    }
    const key = await keyFor(provider, header.kid);
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`, 'utf8');
    if (!key || !verify('RSA-SHA256', signed, key, Buffer.from(signature, 'base64url'))) {
      throw invalidToken(UNVERIFIED);
    }

    const nowSeconds = Math.floor(options.now() / 1000);
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) {
      throw invalidToken('Missing a required claim: exp');
    }
    if (nowSeconds >= claims.exp) {
      throw invalidToken(`Token expired: ${nowSeconds} >= ${claims.exp}`);
    }
    if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && claims.nbf <= nowSeconds)) {
      throw invalidToken('Token is not yet valid.');
    }
    if (claims.token_use !== 'id') throw invalidToken('Not an ID token.');
    if (typeof claims.sub !== 'string' || claims.sub === '') {
      throw invalidToken('Missing a required claim: sub');
    }
    return { providerName, sub: claims.sub, claims: Object.freeze(claims) };
  };

  return {
    async verify(logins) {
      const entries = Object.entries(logins);
      if (entries.length === 0) {
        // The template's pool has AllowUnauthenticatedIdentities: false (aws/aws-sdk-js-v3#3113).
        throw notAuthorized('Unauthenticated access is not supported for this identity pool.');
      }
      const verified: VerifiedLogin[] = [];
      for (const [providerName, token] of entries) {
        verified.push(await verifyOne(providerName, token));
      }
      const [first] = verified;
      if (!first || verified.length > 1) {
        throw new ServiceError(
          ServiceErrorType.invalidParameter,
          'The local stand-in does not link logins: send exactly one login',
        );
      }
      return first;
    },
    jwksFetches: () => fetches,
  };
}
