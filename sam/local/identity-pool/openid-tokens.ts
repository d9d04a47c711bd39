/**
 * The OpenID tokens the stand-in issues (GetOpenIdTokenForDeveloperIdentity, GetOpenIdToken) and
 * takes back as the `cognito-identity.amazonaws.com` login of GetCredentialsForIdentity.
 *
 * Shape (claims as AWS documents or as seen in decoded Cognito tokens):
 * ```
 * header  { alg: 'HS256', typ: 'JWT', kid: 'local-<8 hex>' }
 * payload { iss: 'https://cognito-identity.amazonaws.com', aud: <identity pool id>,
 *           sub: <IdentityId>, amr: ['authenticated', <provider>, <provider>:<pool id>:<user>],
 *           iat, exp, 'https://aws.amazon.com/tags': { principal_tags: { <key>: [<value>] } } }
 * ```
 * `amr` is the shape seen in a decoded developer-authenticated token (aws/aws-sdk-net#420). The tags
 * claim is STS's format for session tags in a web identity token (IAM "Passing session tags using
 * AssumeRoleWithWebIdentity"); that Cognito carries PrincipalTags this way is inferred.
 *
 * Differences from AWS, on purpose: Cognito signs RS256 with keys published at
 * `https://cognito-identity.amazonaws.com/.well-known/jwks_uri`; the stand-in signs HS256 with a
 * secret drawn at each start, because nobody but the stand-in itself must ever verify these tokens
 * (so tokens do not survive a restart: the authorizer then mints a fresh one, as it would after a
 * Cognito refusal). Verification accepts exactly HS256 with the current kid — no `none`, no RS/HS
 * confusion — and compares in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ServiceError, ServiceErrorType } from './errors.js';

/** The `Logins` key of a token issued by the identity pool itself. */
export const COGNITO_IDENTITY_LOGIN = 'cognito-identity.amazonaws.com';
export const COGNITO_IDENTITY_ISSUER = `https://${COGNITO_IDENTITY_LOGIN}`;
/** Where STS reads session tags from a web identity token. */
export const TAGS_CLAIM = 'https://aws.amazon.com/tags';

export interface OpenIdTokenContent {
  readonly identityId: string;
  /** `['authenticated', …providers]`. */
  readonly amr: readonly string[];
  readonly principalTags: Readonly<Record<string, string>>;
}

export interface VerifiedOpenIdToken extends OpenIdTokenContent {
  /** Seconds since the epoch. */
  readonly exp: number;
}

export interface OpenIdTokens {
  /** A signed token valid from now for `lifetimeSeconds`. */
  mint(content: OpenIdTokenContent, lifetimeSeconds: number): string;
  /**
   * The token's content when it is ours, for this pool, and unexpired.
   * @throws ServiceError NotAuthorizedException ("Invalid login token. …").
   */
  verify(token: string): VerifiedOpenIdToken;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const invalidToken = (why: string) =>
  new ServiceError(ServiceErrorType.notAuthorized, `Invalid login token. ${why}`);

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function decode(segment: string): Record<string, unknown> | undefined {
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

/** Tags as written in the token (`{ key: [value] }`) back to `{ key: value }`; undefined if malformed. */
function readTags(claim: unknown): Record<string, string> | undefined {
  const tags = (claim as { principal_tags?: unknown } | undefined)?.principal_tags;
  if (claim === undefined) return {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(tags)) {
    if (!Array.isArray(values) || values.length !== 1 || typeof values[0] !== 'string')
      return undefined;
    out[key] = values[0];
  }
  return out;
}

/**
 * @param secret at least 32 bytes, drawn at each start.
 * @param now milliseconds since the epoch.
 */
export function createOpenIdTokens(options: {
  readonly identityPoolId: string;
  readonly secret: Buffer;
  readonly now: () => number;
}): OpenIdTokens {
  const { identityPoolId, secret, now } = options;
  // The kid names this start's secret: a token of an earlier start fails as "couldn't verify".
  const kid = `local-${createHmac('sha256', secret).update('kid').digest('hex').slice(0, 8)}`;
  const sign = (input: string) => createHmac('sha256', secret).update(input).digest();

  return {
    mint(content, lifetimeSeconds) {
      const iat = Math.floor(now() / 1000);
      const head = b64url({ alg: 'HS256', typ: 'JWT', kid });
      const body = b64url({
        iss: COGNITO_IDENTITY_ISSUER,
        aud: identityPoolId,
        sub: content.identityId,
        amr: [...content.amr],
        iat,
        exp: iat + lifetimeSeconds,
        ...(Object.keys(content.principalTags).length === 0
          ? {}
          : {
              [TAGS_CLAIM]: {
                principal_tags: Object.fromEntries(
                  Object.entries(content.principalTags).map(([k, v]) => [k, [v]]),
                ),
              },
            }),
      });
      return `${head}.${body}.${sign(`${head}.${body}`).toString('base64url')}`;
    },

    verify(token) {
      const parts = token.split('.');
      const header = parts.length === 3 ? decode(parts[0] ?? '') : undefined;
      const claims = parts.length === 3 ? decode(parts[1] ?? '') : undefined;
      const signature = parts[2] ?? '';
      if (!header || !claims || !BASE64URL.test(signature))
        throw invalidToken('Not a valid OpenId Connect identity token.');
      // Exactly our algorithm and this start's key; everything else never verifies.
      const given = Buffer.from(signature, 'base64url');
      const expected = sign(`${parts[0]}.${parts[1]}`);
      if (
        header.alg !== 'HS256' ||
        header.kid !== kid ||
        header.crit !== undefined ||
        given.length !== expected.length ||
        !timingSafeEqual(given, expected)
      )
        throw invalidToken("Couldn't verify signed token.");
      // Signed by us, so these hold unless the stand-in has a bug; checked anyway (fail closed).
      if (claims.iss !== COGNITO_IDENTITY_ISSUER)
        throw invalidToken("Issuer doesn't match providerName");
      if (claims.aud !== identityPoolId)
        throw invalidToken('Token is not from this identity pool.');
      const nowSeconds = Math.floor(now() / 1000);
      if (typeof claims.exp !== 'number') throw invalidToken('Missing a required claim: exp');
      if (nowSeconds >= claims.exp)
        throw invalidToken(`Token expired: ${nowSeconds} >= ${claims.exp}`);
      const amr = claims.amr;
      const tags = readTags(claims[TAGS_CLAIM]);
      if (
        typeof claims.sub !== 'string' ||
        !Array.isArray(amr) ||
        !amr.every((a) => typeof a === 'string') ||
        !tags
      )
        throw invalidToken('Not a valid OpenId Connect identity token.');
      return Object.freeze({
        identityId: claims.sub,
        amr: Object.freeze([...(amr as string[])]),
        principalTags: Object.freeze(tags),
        exp: claims.exp,
      });
    },
  };
}
