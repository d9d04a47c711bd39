/**
 * Tenant isolation enforced locally: an HTTP proxy in front of DynamoDB Local that judges every call
 * signed with identity-pool credentials against the tenant data role's policy, as IAM would, and
 * answers `AccessDeniedException` as DynamoDB does. Calls with other credentials (the functions' own)
 * pass through. So a bug that builds another tenant's key fails here, not in production.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { accessChecks } from './dynamodb-requests.js';
import { evaluateIamPolicy, type IamPolicyDocument, principalTagContext } from './iam.js';

export interface SessionInfo {
  readonly principalTags: Readonly<Record<string, string>>;
  readonly expiration: Date;
  readonly identityId: string;
}

export interface IsolationProxyOptions {
  /** DynamoDB Local, e.g. http://127.0.0.1:8000. */
  readonly target: string;
  readonly lookupSession: (accessKeyId: string) => SessionInfo | undefined;
  /** The tenant data role's policy, `!Sub` resolved except the `${aws:PrincipalTag/…}` variables. */
  readonly policy: IamPolicyDocument;
  readonly region: string;
  readonly accountId: string;
  readonly now?: () => number;
  readonly port?: number;
}

export interface IsolationProxy {
  readonly endpoint: string;
  decisions(): { allowed: number; denied: number; passedThrough: number };
  stop(): Promise<void>;
}

const ACCESS_KEY = /Credential=([A-Z0-9]+)\//;

export async function startIsolationProxy(options: IsolationProxyOptions): Promise<IsolationProxy> {
  const now = options.now ?? Date.now;
  const counts = { allowed: 0, denied: 0, passedThrough: 0 };
  const admin = new DynamoDBClient({
    endpoint: options.target,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const schemas = new Map<string, Promise<string>>();
  const partitionKey = (table: string, index?: string) => {
    const id = `${table}/${index ?? ''}`;
    let found = schemas.get(id);
    if (!found) {
      found = admin.send(new DescribeTableCommand({ TableName: table })).then(({ Table }) => {
        const schema = index
          ? [
              ...(Table?.GlobalSecondaryIndexes ?? []),
              ...(Table?.LocalSecondaryIndexes ?? []),
            ].find((i) => i.IndexName === index)?.KeySchema
          : Table?.KeySchema;
        return schema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '';
      });
      schemas.set(id, found);
      found.catch(() => schemas.delete(id));
    }
    return found;
  };
  const arnOf = (table: string, index?: string) =>
    `arn:aws:dynamodb:${options.region}:${options.accountId}:table/${table}${index ? `/index/${index}` : ''}`;

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const deny = (type: string, message: string) => {
      counts.denied++;
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-errortype': type,
      });
      res.end(JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message }));
    };
    const accessKeyId = ACCESS_KEY.exec(String(req.headers.authorization ?? ''))?.[1];
    const session = accessKeyId ? options.lookupSession(accessKeyId) : undefined;
    if (session) {
      if (session.expiration.getTime() <= now())
        return deny(
          'ExpiredTokenException',
          'The security token included in the request is expired',
        );
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      try {
        const checks = await accessChecks(
          operation,
          JSON.parse(body.toString('utf8') || '{}'),
          partitionKey,
        );
        for (const check of checks) {
          const resource = arnOf(check.table, check.index);
          const { decision } = evaluateIamPolicy(options.policy, {
            action: check.action,
            resource,
            context: {
              ...principalTagContext(session.principalTags),
              ...(check.action === 'dynamodb:Scan'
                ? {}
                : { 'dynamodb:LeadingKeys': check.leadingKeys }),
            },
          });
          if (decision !== 'allow') {
            const role = `arn:aws:sts::${options.accountId}:assumed-role/TenantDataRole/CognitoIdentityCredentials`;
            const why =
              decision === 'explicit-deny'
                ? 'with an explicit deny in an identity-based policy'
                : `because no identity-based policy allows the ${check.action} action`;
            return deny(
              'AccessDeniedException',
              `User: ${role} is not authorized to perform: ${check.action} on resource: ${resource} ${why}`,
            );
          }
        }
        counts.allowed++;
      } catch {
        return deny('AccessDeniedException', 'request could not be authorized');
      }
    } else counts.passedThrough++;
    const target = new URL(options.target);
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    decisions: () => ({ ...counts }),
    stop: () =>
      new Promise<void>((resolve) => {
        admin.destroy();
        server.close(() => resolve());
      }),
  };
}
