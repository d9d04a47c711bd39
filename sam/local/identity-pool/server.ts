/**
 * A stand-in for Cognito Identity (identity pools), which has no emulator anywhere. It speaks AWS's
 * awsJson1_1 protocol for GetId and GetCredentialsForIdentity, so the production
 * `@aws-sdk/client-cognito-identity` talks to it unchanged (`AWS_ENDPOINT_URL_COGNITO_IDENTITY`). It
 * checks every Logins token as the service does — RS256 signature against the pool's JWKS, issuer,
 * audience among the configured clients, `token_use: id`, expiry — and answers with AWS's error names.
 * IdentityIds are stable per user; credentials carry the principal tags the template maps, and are
 * registered in `sessions` for the local DynamoDB isolation layer.
 */
import { createHash, createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SamError } from '../../errors.js';

export interface IdentityPoolProvider {
  /** `cognito-idp.<region>.amazonaws.com/<userPoolId>`: the Logins key. */
  readonly providerName: string;
  readonly clientIds: readonly string[];
  /** The pool's JWKS, or where to fetch it (cognito-local's `/<poolId>/.well-known/jwks.json`). */
  readonly jwks?: { keys: Record<string, unknown>[] };
  readonly jwksUri?: string;
}

export interface IdentityPoolOptions {
  readonly region: string;
  readonly identityPoolId: string;
  readonly providers: readonly IdentityPoolProvider[];
  /** Principal tag → claim, as in `AWS::Cognito::IdentityPoolPrincipalTag`. */
  readonly principalTags: Readonly<Record<string, string>>;
  readonly credentialsTtlSeconds?: number;
  readonly now?: () => number;
  readonly port?: number;
  readonly host?: string;
}

export interface Session {
  readonly identityId: string;
  readonly principalTags: Readonly<Record<string, string>>;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface IdentityPool {
  readonly endpoint: string;
  readonly identityPoolId: string;
  /** Credentials handed out, by access key id (for the isolation layer). */
  readonly sessions: { lookup(accessKeyId: string): Session | undefined };
  stats(): { GetId: number; GetCredentialsForIdentity: number };
  stop(): Promise<void>;
}

/** An error the service answers with: HTTP 400, `__type` = the AWS exception name. */
class ServiceError extends SamError {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

const b64json = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

/** A name-based UUID: the same pool, provider and sub always give the same IdentityId. */
function stableUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const accessKeyId = () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return `ASIA${Array.from(randomBytes(16), (b) => alphabet[b % 32]).join('')}`;
};

export async function startIdentityPool(options: IdentityPoolOptions): Promise<IdentityPool> {
  const issues: string[] = [];
  if (!/^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f-]{36}$/.test(options.identityPoolId)) {
    issues.push(`identityPoolId must look like <region>:<uuid>, got "${options.identityPoolId}"`);
  }
  if (options.providers.length === 0) issues.push('at least one provider is required');
  for (const p of options.providers) {
    if (!/^cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/[\w-]+_\w+$/.test(p.providerName)) {
      issues.push(
        `providerName must be cognito-idp.<region>.amazonaws.com/<poolId>, got "${p.providerName}"`,
      );
    }
    if (!p.jwks && !p.jwksUri) issues.push(`${p.providerName}: jwks or jwksUri is required`);
    if (p.clientIds.length === 0)
      issues.push(`${p.providerName}: at least one client id is required`);
  }
  if (issues.length > 0)
    throw new SamError(`invalid identity pool options:\n- ${issues.join('\n- ')}`);

  const now = options.now ?? Date.now;
  const ttl = options.credentialsTtlSeconds ?? 3600;
  const identities = new Map<string, { providerName: string; sub: string }>();
  const sessions = new Map<string, Session>();
  const counts = { GetId: 0, GetCredentialsForIdentity: 0 };
  const jwksCache = new Map<string, { keys: Record<string, unknown>[] }>();

  const jwksOf = async (provider: IdentityPoolProvider, refresh = false) => {
    if (provider.jwks) return provider.jwks;
    const cached = jwksCache.get(provider.providerName);
    if (cached && !refresh) return cached;
    const res = await fetch(provider.jwksUri ?? '');
    if (!res.ok)
      throw new ServiceError('ExternalServiceException', 'could not fetch the provider keys');
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    jwksCache.set(provider.providerName, jwks);
    return jwks;
  };

  /** The Logins map → its one provider and verified claims, or NotAuthorized as the service says. */
  const checkLogins = async (logins: unknown) => {
    const entries = Object.entries((logins ?? {}) as Record<string, unknown>);
    if (entries.length === 0)
      throw new ServiceError(
        'NotAuthorizedException',
        'Unauthenticated access is not supported for this identity pool.',
      );
    if (entries.length > 1)
      throw new ServiceError(
        'InvalidParameterException',
        'Only one user pool login is supported here.',
      );
    const [providerName, token] = entries[0] as [string, unknown];
    const provider = options.providers.find((p) => p.providerName === providerName);
    if (!provider)
      throw new ServiceError(
        'NotAuthorizedException',
        'Token is not from a supported provider of this identity pool.',
      );
    const invalid = (why: string) =>
      new ServiceError('NotAuthorizedException', `Invalid login token. ${why}`);
    const parts = typeof token === 'string' ? token.split('.') : [];
    if (parts.length !== 3) throw invalid('Not a valid OpenId Connect identity token.');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = b64json(parts[0] ?? '');
      claims = b64json(parts[1] ?? '');
    } catch {
      throw invalid('Not a valid OpenId Connect identity token.');
    }
    if (header.alg !== 'RS256') throw invalid('Unsupported signing algorithm.');
    let jwk = (await jwksOf(provider)).keys.find((k) => k.kid === header.kid);
    if (!jwk) jwk = (await jwksOf(provider, true)).keys.find((k) => k.kid === header.kid);
    if (!jwk) throw invalid('Unknown signing key.');
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    if (!verify('RSA-SHA256', signed, key, Buffer.from(parts[2] ?? '', 'base64url')))
      throw invalid('Invalid signature.');
    if (claims.iss !== `https://${providerName}`)
      throw invalid("Issuer doesn't match providerName.");
    if (claims.token_use !== 'id') throw invalid('Not an ID token.');
    if (typeof claims.aud !== 'string' || !provider.clientIds.includes(claims.aud))
      throw invalid('Incorrect client.');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now())
      throw invalid('Token expired.');
    if (typeof claims.sub !== 'string') throw invalid('Missing sub.');
    return { providerName, claims, sub: claims.sub };
  };

  const getId = async (input: Record<string, unknown>) => {
    if (input.IdentityPoolId !== options.identityPoolId) {
      throw new ServiceError(
        'ResourceNotFoundException',
        `IdentityPool '${String(input.IdentityPoolId)}' not found.`,
      );
    }
    const { providerName, sub } = await checkLogins(input.Logins);
    const identityId = `${options.region}:${stableUuid(options.identityPoolId, providerName, sub)}`;
    identities.set(identityId, { providerName, sub });
    return { IdentityId: identityId };
  };

  const getCredentials = async (input: Record<string, unknown>) => {
    const identityId = String(input.IdentityId ?? '');
    const identity = identities.get(identityId);
    if (!identity)
      throw new ServiceError('ResourceNotFoundException', `Identity '${identityId}' not found.`);
    const { providerName, sub, claims } = await checkLogins(input.Logins);
    if (providerName !== identity.providerName || sub !== identity.sub) {
      throw new ServiceError(
        'NotAuthorizedException',
        "Logins don't match. Please include at least one valid login for this identity or identity pool.",
      );
    }
    // A mapped claim the token lacks gives no tag, as in AWS.
    const principalTags: Record<string, string> = {};
    for (const [tag, claim] of Object.entries(options.principalTags)) {
      const value = claims[claim];
      if (typeof value === 'string' && value !== '') principalTags[tag] = value;
    }
    const id = accessKeyId();
    const session: Session = Object.freeze({
      identityId,
      principalTags: Object.freeze(principalTags),
      secretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
      sessionToken: randomBytes(256).toString('base64'),
      expiration: new Date(Math.floor(now() / 1000 + ttl) * 1000),
    });
    sessions.set(id, session);
    return {
      IdentityId: identityId,
      Credentials: {
        AccessKeyId: id,
        SecretKey: session.secretAccessKey,
        SessionToken: session.sessionToken,
        Expiration: session.expiration.getTime() / 1000,
      },
    };
  };

  const operations: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    GetId: getId,
    GetCredentialsForIdentity: getCredentials,
  };

  const send = (res: ServerResponse, status: number, body: unknown, errorType?: string) => {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const [service, operation = ''] = target.split('.');
    const run = service === 'AWSCognitoIdentityService' ? operations[operation] : undefined;
    try {
      if (req.method !== 'POST' || !run)
        throw new ServiceError('UnknownOperationException', `Unknown operation ${target}`);
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        throw new ServiceError('SerializationException', 'Request body is not valid JSON.');
      }
      counts[operation as keyof typeof counts]++;
      send(res, 200, await run(input));
    } catch (error) {
      const e =
        error instanceof ServiceError
          ? error
          : new ServiceError('InternalErrorException', 'internal error');
      send(
        res,
        e.type === 'InternalErrorException' ? 500 : 400,
        { __type: e.type, message: e.message },
        e.type,
      );
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    identityPoolId: options.identityPoolId,
    sessions: { lookup: (id) => sessions.get(id) },
    stats: () => ({ ...counts }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
