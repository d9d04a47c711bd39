/**
 * `startLocalStack(options)`: the whole system on loopback, derived from template.yaml — cognito-local
 * with the template's user pool, client and triggers; DynamoDB Local with its tables; the isolation
 * proxy in front of it enforcing IAM for every principal of the stack (tenant sessions: the tenant
 * data role's policy; each function: its own role's policy); the identity-pool stand-in with the
 * template's developer provider, whose IAM-signed operation it authorizes against the same
 * principals; the template's functions, each in its own worker with its own role's key; and one
 * local API Gateway per API of the template, routes and authorizer from the functions' events and the
 * API's Auth. `npm start` (start.ts) and the integration tests both use it.
 */

import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../authorizer/index.js';
import { type LocalStackFile, loadTemplate, type Template } from '../template.js';
import { launchCognitoLocal } from './cognito.js';
import { startConsole } from './console/server.js';
import { launchDynamoDbLocal } from './dynamodb.js';
import {
  LocalServiceError,
  LocalStackConfigError,
  LocalStackError,
  LocalStackStartError,
} from './errors.js';
import { createFunctionRoles, type FunctionRoles } from './function-roles.js';
import { type LocalFunctions, startFunctions } from './functions.js';
import {
  type GatewayResponseOptions,
  type HttpCorsOptions,
  type LocalApi,
  type LocalApiStats,
  type LocalRoute,
  type RestCorsOptions,
  startLocalApi,
} from './gateway/index.js';
import {
  type IamCaller,
  type IdentityPool,
  type IdentityPoolStats,
  startIdentityPool,
} from './identity-pool/index.js';
import {
  createIamEvaluator,
  IamDecision,
  type IsolationDecisions,
  type SessionInfo,
  startIsolationProxy,
  tenantRolePolicy,
} from './isolation/index.js';
import { startJanitor } from './janitor.js';
import { startLambdaService } from './lambda-service.js';
import { claimPort } from './ports.js';
import {
  chooseLocal,
  cognitoTriggers,
  identityPoolConfig,
  initialRefs,
  type LocalResolution,
  principalTagMapping,
  provisionTables,
  provisionUserPools,
  referencedLogicalId,
  resolveLocal,
  resolveLocalList,
  resolveParameters,
  resourcesOfType,
  tableDefinitions,
  userPoolSeeds,
} from './provision.js';
import {
  startUserPoolFront,
  type UserPoolFrontStats,
  type UserPoolMessage,
} from './user-pool/index.js';

/** The local stack's ports; each 0 (default) picks a free one. */
export interface LocalStackPorts {
  readonly restApi?: number;
  readonly httpApi?: number;
  readonly cognito?: number;
  readonly identityPool?: number;
  readonly lambda?: number;
  readonly dynamodb?: number;
  readonly isolation?: number;
  /** The demo console; its origin is the APIs' allowed origin unless AllowedOrigins says otherwise. */
  readonly console?: number;
}

/** The command-line flag naming each port, for port-taken messages. */
export const PORT_FLAGS: Readonly<Record<keyof LocalStackPorts, string>> = {
  restApi: '--rest-port',
  httpApi: '--http-port',
  cognito: '--cognito-port',
  identityPool: '--identity-pool-port',
  lambda: '--lambda-port',
  dynamodb: '--dynamodb-port',
  isolation: '--isolation-port',
  console: '--console-port',
};

export interface LocalStackOptions {
  readonly ports?: LocalStackPorts;
  /** Default `us-east-1`. */
  readonly region?: string;
  /**
   * Template parameter overrides, e.g. `{ ResultTtlSeconds: 1 }`. `AllowedOrigins` (no default in the
   * template: a deploy must name its front ends) defaults to the demo console's origin here.
   */
  readonly parameters?: Readonly<Record<string, string | number>>;
  /** Lifetime of identity-pool credentials. Default 3600 (Cognito's). */
  readonly credentialsTtlSeconds?: number;
  /** Default: template.yaml of this repository. */
  readonly template?: Template;
  /** `AWS::StackName`, the prefix of generated names. Default `tenantgate-local`. */
  readonly stackName?: string;
  /** Progress and per-request lines of the local services. Default: silent. */
  readonly logger?: Logger;
  /** Each line a function writes (Powertools logs). Default: dropped. */
  readonly onFunctionLog?: (functionName: string, line: string) => void;
  /**
   * Each code or temporary password the user pool "sends" (sign-up confirmation, password reset,
   * attribute verification, admin-created users). Default: dropped.
   */
  readonly onUserPoolMessage?: (message: UserPoolMessage) => void;
}

/** One local API Gateway of the stack. */
export interface LocalStackApi {
  readonly logicalId: string;
  readonly kind: 'rest' | 'http';
  readonly url: string;
  readonly routes: readonly { method: string; path: string; functionName: string }[];
  stats(): LocalApiStats;
}

/** What `startLocalStack` returns: the `.local/stack.json` description plus handles for tests. */
export interface LocalStack extends LocalStackFile {
  /** Tables by logical id. */
  readonly tables: Readonly<Record<string, string>>;
  readonly apis: readonly LocalStackApi[];
  /** DynamoDB Local itself, bypassing the isolation proxy: for test assertions and seeding. */
  readonly directDynamoDbEndpoint: string;
  /** The local Lambda service (cognito-local's triggers call it). */
  readonly lambdaEndpoint: string;
  /** `https://cognito-idp.<region>.amazonaws.com/<poolId>`: the `iss` of the pool's tokens. */
  readonly issuer: string;
  readonly functions: LocalFunctions;
  /** The description alone, as `.local/stack.json` holds it (with `users` filled in by the caller). */
  describe(users?: LocalStackFile['users']): LocalStackFile;
  identityPoolStats(): IdentityPoolStats;
  /** Calls the user-pool front received and what it refused itself. */
  userPoolStats(): UserPoolFrontStats;
  resetIdentityPoolStats(): void;
  /** By API logical id. */
  gatewayStats(): Readonly<Record<string, LocalApiStats>>;
  isolationDecisions(): IsolationDecisions;
  /** Invocations of the Lambda service by function name (Cognito triggers). */
  lambdaStats(): Readonly<Record<string, number>>;
  /** Child processes (cognito-local, DynamoDB Local's watchdog, the janitor) expected to run. */
  childPids(): number[];
  /**
   * Resolves with the error if a child process the stack needs (cognito-local, DynamoDB Local)
   * exits while the stack runs; never resolves otherwise. The stack then serves errors: stop it.
   */
  readonly failure: Promise<LocalStackError>;
  /** Also remove this file if the stack's process dies without stopping (e.g. `.local/stack.json`). */
  removeWhenGone(path: string): void;
  /** Stops everything, leaving no process behind. Idempotent. */
  stop(): Promise<void>;
}

/** One API of the template, as the local gateway serves it. */
export interface ApiDefinition {
  readonly logicalId: string;
  readonly kind: 'rest' | 'http';
  readonly stage: string;
  readonly apiId: string;
  readonly routes: readonly {
    method: string;
    path: string;
    functionLogicalId: string;
    authorization: 'CUSTOM' | 'NONE';
  }[];
  readonly authorizer?: {
    readonly functionLogicalId: string;
    readonly type: 'TOKEN' | 'REQUEST';
    readonly identitySources: readonly string[];
    readonly resultTtlSeconds: number;
    readonly simpleResponses?: boolean;
  };
  /** REST: SAM `Cors` (with `Auth.AddDefaultAuthorizerToCorsPreflight`); HTTP: `CorsConfiguration`. */
  readonly cors?: RestCorsOptions | HttpCorsOptions;
  /** REST: `GatewayResponses`, header values resolved. */
  readonly gatewayResponses?: Readonly<Record<string, GatewayResponseOptions>>;
}

const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * The APIs of the template with their routes (functions' `Api`/`HttpApi` events) and authorizer
 * (`Auth.DefaultAuthorizer`). Nothing is added by hand. @throws LocalStackConfigError.
 */
export function apiDefinitions(template: Template, ctx: LocalResolution): ApiDefinition[] {
  const issues: string[] = [];
  const resolve = (value: unknown, at: string) => {
    const v = resolveLocal(template, ctx, value);
    if (v === undefined && value !== undefined)
      issues.push(`${at}: cannot resolve ${JSON.stringify(value)}`);
    return v;
  };
  const kinds = { 'AWS::Serverless::Api': 'rest', 'AWS::Serverless::HttpApi': 'http' } as const;
  type Kind = (typeof kinds)[keyof typeof kinds];
  const apis = new Map<
    string,
    { kind: Kind; properties: Record<string, unknown>; routes: ApiDefinition['routes'][number][] }
  >();
  for (const [type, kind] of Object.entries(kinds)) {
    for (const id of resourcesOfType(template, type))
      apis.set(id, { kind, properties: obj(template.Resources[id]?.Properties), routes: [] });
  }
  const routeAuth = new Map<string, Set<string>>();
  for (const fnId of resourcesOfType(template, 'AWS::Serverless::Function')) {
    const events = obj(obj(template.Resources[fnId]?.Properties).Events);
    for (const [eventId, e] of Object.entries(events)) {
      const event = obj(e);
      const kind = event.Type === 'Api' ? 'rest' : event.Type === 'HttpApi' ? 'http' : undefined;
      if (!kind) continue;
      const p = obj(event.Properties);
      const at = `${fnId}.Events.${eventId}`;
      const implicit = kind === 'rest' ? 'ServerlessRestApi' : 'ServerlessHttpApi';
      const apiRef = kind === 'rest' ? p.RestApiId : p.ApiId;
      const apiId = apiRef === undefined ? implicit : referencedLogicalId(apiRef);
      if (!apiId) {
        issues.push(`${at}: cannot tell its API`);
        continue;
      }
      if (!apis.has(apiId)) {
        if (apiId !== implicit) {
          issues.push(
            `${at}: ${apiId} is not an ${kind === 'rest' ? 'AWS::Serverless::Api' : 'AWS::Serverless::HttpApi'}`,
          );
          continue;
        }
        apis.set(apiId, { kind, properties: {}, routes: [] });
      }
      const api = apis.get(apiId) as { kind: Kind; routes: ApiDefinition['routes'][number][] };
      if (api.kind !== kind) {
        issues.push(`${at}: a ${event.Type} event on ${apiId}`);
        continue;
      }
      const named = obj(p.Auth).Authorizer;
      const authorization = named === 'NONE' ? 'NONE' : 'CUSTOM';
      if (typeof named === 'string' && named !== 'NONE')
        routeAuth.set(apiId, new Set([...(routeAuth.get(apiId) ?? []), named]));
      const path =
        p.Path === undefined && kind === 'http' ? '$default' : resolve(p.Path, `${at}.Path`);
      const method =
        p.Method === undefined ? 'ANY' : String(resolve(p.Method, `${at}.Method`)).toUpperCase();
      if (path !== undefined)
        api.routes.push({ method, path, functionLogicalId: fnId, authorization });
    }
  }
  const definitions: ApiDefinition[] = [];
  for (const [logicalId, api] of apis) {
    const at = logicalId;
    const auth = obj(api.properties.Auth);
    const authorizers = obj(auth.Authorizers);
    const named = new Set([...(routeAuth.get(logicalId) ?? [])]);
    if (typeof auth.DefaultAuthorizer === 'string' && auth.DefaultAuthorizer !== 'AWS_IAM')
      named.add(auth.DefaultAuthorizer);
    if (named.size > 1)
      issues.push(
        `${at}: the local gateway runs one authorizer per API, the template names ${[...named].join(', ')}`,
      );
    const [authorizerName] = named;
    let authorizer: ApiDefinition['authorizer'];
    if (authorizerName !== undefined) {
      const a = obj(authorizers[authorizerName]);
      const fn = referencedLogicalId(a.FunctionArn);
      if (!fn || template.Resources[fn]?.Type !== 'AWS::Serverless::Function') {
        issues.push(
          `${at}.Auth.Authorizers.${authorizerName}: FunctionArn must point at a template function`,
        );
      } else {
        const identity = obj(a.Identity);
        const ttlRaw =
          identity.ReauthorizeEvery === undefined
            ? '300'
            : resolve(
                identity.ReauthorizeEvery,
                `${at}.Auth.Authorizers.${authorizerName}.Identity.ReauthorizeEvery`,
              );
        const ttl = Number(ttlRaw);
        const list = (v: unknown) => arr(v).map(String);
        if (api.kind === 'rest') {
          const type = String(a.FunctionPayloadType ?? 'TOKEN') === 'REQUEST' ? 'REQUEST' : 'TOKEN';
          const identitySources =
            type === 'TOKEN'
              ? [`method.request.header.${String(identity.Header ?? 'Authorization')}`]
              : [
                  ...list(identity.Headers).map((h) => `method.request.header.${h}`),
                  ...list(identity.QueryStrings).map((q) => `method.request.querystring.${q}`),
                  ...list(identity.Context).map((c) => `context.${c}`),
                ];
          if (identity.StageVariables !== undefined)
            issues.push(`${at}: stage variables as identity sources are not supported locally`);
          authorizer = { functionLogicalId: fn, type, identitySources, resultTtlSeconds: ttl };
        } else {
          const version = String(a.AuthorizerPayloadFormatVersion ?? '2.0');
          if (version !== '2.0')
            issues.push(
              `${at}: the local gateway runs HTTP API authorizers with payload 2.0, not ${version}`,
            );
          const identitySources = [
            ...list(identity.Headers).map((h) => `$request.header.${h}`),
            ...list(identity.QueryStrings).map((q) => `$request.querystring.${q}`),
            ...list(identity.Context).map((c) => `$context.${c}`),
          ];
          if (identity.StageVariables !== undefined)
            issues.push(`${at}: stage variables as identity sources are not supported locally`);
          authorizer = {
            functionLogicalId: fn,
            type: 'REQUEST',
            identitySources,
            resultTtlSeconds: ttl,
            simpleResponses: a.EnableSimpleResponses === true || a.EnableSimpleResponses === 'true',
          };
        }
      }
    }
    if (api.routes.length === 0) continue; // an API without routes serves nothing
    const cors =
      api.kind === 'rest'
        ? restCors(template, ctx, api.properties, issues, at)
        : httpCors(template, ctx, api.properties, issues, at);
    const gatewayResponses =
      api.kind === 'rest' ? restGatewayResponses(template, ctx, api.properties, issues, at) : {};
    const stage =
      api.kind === 'rest'
        ? (resolve(api.properties.StageName, `${at}.StageName`) ?? 'Prod')
        : (resolve(api.properties.StageName, `${at}.StageName`) ?? '$default');
    definitions.push({
      logicalId,
      kind: api.kind,
      stage,
      apiId:
        logicalId
          .toLowerCase()
          .replace(/[^a-z0-9]/g, '')
          .slice(0, 10) || 'localapi',
      routes: api.routes,
      ...(authorizer ? { authorizer } : {}),
      ...(cors ? { cors } : {}),
      ...(Object.keys(gatewayResponses).length > 0 ? { gatewayResponses } : {}),
    });
  }
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  return definitions;
}

/** The stack's own access key: provisioning, the demo seed and tests sign with it. */
export const STACK_CREDENTIALS = Object.freeze({ accessKeyId: 'local', secretAccessKey: 'local' });

/**
 * Who may make the user pool's IAM-authorized calls (`Admin*`, …): the stack itself and the
 * functions' roles (each its own key) — in AWS, the principals the template grants `cognito-idp:*`
 * actions to. Tenants' identity-pool credentials are not among them (the tenant data role grants no
 * cognito-idp action). One small function, so a change of the functions' keys is one change here.
 */
export function iamSecrets(roles: FunctionRoles): (accessKeyId: string) => string | undefined {
  return (accessKeyId) =>
    accessKeyId === STACK_CREDENTIALS.accessKeyId
      ? STACK_CREDENTIALS.secretAccessKey
      : roles.byAccessKeyId(accessKeyId)?.secretAccessKey;
}

/**
 * What a function's role may do in the user pool: IAM over the function's template `Policies`, as
 * for DynamoDB and the identity pool — so a function calling a Cognito action its template does not
 * grant is refused locally (AccessDeniedException) as it would be in AWS. The stack's own key
 * (provisioning, demo, tests) stands for an administrator and is allowed everything.
 */
export function cognitoIdpAuthorizer(
  roles: FunctionRoles,
  where: { readonly region: string; readonly accountId: string },
): (accessKeyId: string, operation: string, userPoolId: string | undefined) => string | undefined {
  return (accessKeyId, operation, userPoolId) => {
    const role = roles.byAccessKeyId(accessKeyId);
    if (!role) return undefined;
    const action = `cognito-idp:${operation}`;
    const resource =
      userPoolId === undefined
        ? '*'
        : `arn:aws:cognito-idp:${where.region}:${where.accountId}:userpool/${userPoolId}`;
    const { decision } = role.evaluator.evaluate({
      action,
      resource,
      context: {
        'aws:PrincipalType': 'AssumedRole',
        'aws:PrincipalAccount': where.accountId,
        'aws:RequestedRegion': where.region,
        'aws:PrincipalArn': role.roleArn,
      },
    });
    if (decision === IamDecision.allow) return undefined;
    const why =
      decision === IamDecision.explicitDeny
        ? 'with an explicit deny in an identity-based policy'
        : `because no identity-based policy allows the ${action} action`;
    return `User: ${role.principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  };
}

/** The demo console's origin on `port`: what the local APIs allow unless told otherwise. */
export const consoleOrigin = (port: number) => `http://127.0.0.1:${port}`;

/** SAM wants REST CORS values as quoted strings (`"'https://app.example.com'"`): the quotes go. */
function quoted(value: string | undefined, at: string, issues: string[]): string | undefined {
  if (value === undefined) return undefined;
  const m = /^'(.*)'$/s.exec(value);
  if (!m) issues.push(`${at}: SAM takes a quoted string here, e.g. "'${value}'"`);
  return m?.[1];
}

/** A REST API's SAM `Cors`: a string (the origin) or the object form. */
function restCors(
  template: Template,
  ctx: LocalResolution,
  properties: Record<string, unknown>,
  issues: string[],
  at: string,
): RestCorsOptions | undefined {
  const cors = chooseLocal(template, ctx, properties.Cors);
  if (cors === undefined) return undefined;
  const value = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    const resolved = resolveLocal(template, ctx, v);
    if (resolved === undefined)
      issues.push(`${at}.Cors.${name}: cannot resolve ${JSON.stringify(v)}`);
    return quoted(resolved, `${at}.Cors.${name}`, issues);
  };
  const c = typeof cors === 'object' ? obj(cors) : { AllowOrigin: cors };
  for (const key of Object.keys(c))
    if (
      !['AllowOrigin', 'AllowHeaders', 'AllowMethods', 'MaxAge', 'AllowCredentials'].includes(key)
    )
      issues.push(`${at}.Cors.${key} is not a SAM Cors property`);
  // SAM's default origin is '*'.
  const allowOrigin = value(c.AllowOrigin ?? "'*'", 'AllowOrigin') ?? '';
  const allowHeaders = value(c.AllowHeaders, 'AllowHeaders');
  const allowMethods = value(c.AllowMethods, 'AllowMethods');
  const maxAge = value(c.MaxAge, 'MaxAge');
  const addToPreflight = obj(properties.Auth).AddDefaultAuthorizerToCorsPreflight;
  return {
    allowOrigin,
    ...(allowHeaders === undefined ? {} : { allowHeaders }),
    ...(allowMethods === undefined ? {} : { allowMethods }),
    ...(maxAge === undefined ? {} : { maxAge }),
    ...(c.AllowCredentials === true ? { allowCredentials: true } : {}),
    preflightAuthorized: addToPreflight !== false && addToPreflight !== 'false',
  };
}

/** A REST API's `GatewayResponses`: header values resolved to their mapping expressions. */
function restGatewayResponses(
  template: Template,
  ctx: LocalResolution,
  properties: Record<string, unknown>,
  issues: string[],
  at: string,
): Record<string, GatewayResponseOptions> {
  const responses: Record<string, GatewayResponseOptions> = {};
  for (const [type, r] of Object.entries(obj(properties.GatewayResponses))) {
    const where = `${at}.GatewayResponses.${type}`;
    const response = obj(r);
    const parameters = obj(response.ResponseParameters);
    for (const key of Object.keys(parameters))
      if (key !== 'Headers')
        issues.push(`${where}.ResponseParameters.${key}: not supported locally`);
    if (response.ResponseTemplates !== undefined)
      issues.push(`${where}.ResponseTemplates: not supported locally`);
    const headers: Record<string, string> = {};
    for (const [name, v] of Object.entries(obj(parameters.Headers))) {
      const resolved = resolveLocal(template, ctx, v);
      if (resolved === undefined) issues.push(`${where}: cannot resolve header ${name}`);
      else headers[name] = resolved;
    }
    const status = response.StatusCode === undefined ? undefined : Number(response.StatusCode);
    responses[type] = { headers, ...(status === undefined ? {} : { statusCode: status }) };
  }
  return responses;
}

/** An HTTP API's `CorsConfiguration` (an `!If` around it chosen locally; `true` means `*`). */
function httpCors(
  template: Template,
  ctx: LocalResolution,
  properties: Record<string, unknown>,
  issues: string[],
  at: string,
): HttpCorsOptions | undefined {
  const cors = chooseLocal(template, ctx, properties.CorsConfiguration);
  if (cors === undefined || cors === false) return undefined;
  if (cors === true) return { allowOrigins: ['*'] };
  const c = obj(cors);
  const list = (name: string) => {
    if (c[name] === undefined) return undefined;
    const values = resolveLocalList(template, ctx, c[name]);
    if (values === undefined) issues.push(`${at}.CorsConfiguration.${name}: cannot resolve`);
    return values;
  };
  const allowHeaders = list('AllowHeaders');
  const allowMethods = list('AllowMethods');
  const exposeHeaders = list('ExposeHeaders');
  const maxAge = c.MaxAge === undefined ? undefined : Number(resolveLocal(template, ctx, c.MaxAge));
  return {
    allowOrigins: list('AllowOrigins') ?? [],
    ...(allowHeaders ? { allowHeaders } : {}),
    ...(allowMethods ? { allowMethods } : {}),
    ...(exposeHeaders ? { exposeHeaders } : {}),
    ...(maxAge === undefined ? {} : { maxAge }),
    ...(c.AllowCredentials === true ? { allowCredentials: true } : {}),
  };
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ACCOUNT_ID = '123456789012';

function validate(options: LocalStackOptions): string[] {
  const issues: string[] = [];
  if (options.region !== undefined && !REGION.test(options.region))
    issues.push(`region must look like us-east-1, got "${options.region}"`);
  for (const [name, port] of Object.entries(options.ports ?? {})) {
    if (!(name in PORT_FLAGS)) issues.push(`ports.${name} is not a port of the local stack`);
    else if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535))
      issues.push(`ports.${name} must be an integer in 0–65535, got ${port}`);
  }
  const ports = Object.values(options.ports ?? {}).filter((p) => p !== undefined && p !== 0);
  if (new Set(ports).size !== ports.length) issues.push('two parts cannot share a fixed port');
  const ttl = options.credentialsTtlSeconds;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > 43_200))
    issues.push('credentialsTtlSeconds must be an integer in 1–43200');
  if (options.stackName !== undefined && !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(options.stackName))
    issues.push('stackName must be a CloudFormation stack name');
  return issues;
}

/**
 * Start the local stack. Everything listens on 127.0.0.1.
 * @throws LocalStackConfigError for bad options or template parts the stack cannot run;
 *   LocalStackStartError naming the part that failed (its `cause` is e.g. a PortTakenError or
 *   JavaMissingError) after stopping the parts already started.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const issues = validate(options);
  const template = options.template ?? loadTemplate();
  const region = options.region ?? 'us-east-1';
  const logger = options.logger ?? silent;
  const ports = options.ports ?? {};
  let parameters: Record<string, string> = {};
  // Drawn now when free (0), so the origin the APIs allow is known before anything starts.
  const consolePort =
    issues.length === 0 && !ports.console
      ? await claimPort(0, PORT_FLAGS.console)
      : (ports.console ?? 0);
  try {
    parameters = resolveParameters(template, {
      ...(template.Parameters?.AllowedOrigins
        ? { AllowedOrigins: consoleOrigin(consolePort) }
        : {}),
      ...options.parameters,
    });
  } catch (error) {
    if (error instanceof LocalStackConfigError) issues.push(...error.issues);
    else throw error;
  }
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  const stackName = options.stackName ?? 'tenantgate-local';
  const ctx: LocalResolution = {
    region,
    accountId: ACCOUNT_ID,
    stackName,
    parameters,
    refs: initialRefs(template, { region, stackName }),
  };
  // Everything derivable from the template is checked before any process starts.
  const seeds = userPoolSeeds(template, ctx);
  const triggers = cognitoTriggers(template);
  const tables = tableDefinitions(template, ctx);
  const principalTags = principalTagMapping(template);
  const apiDefs = apiDefinitions(template, ctx);
  const [tableLogicalId] = resourcesOfType(template, 'AWS::DynamoDB::Table');
  const [userPoolLogicalId] = resourcesOfType(template, 'AWS::Cognito::UserPool');
  const [clientLogicalId] = resourcesOfType(template, 'AWS::Cognito::UserPoolClient');
  const attachment = resourcesOfType(template, 'AWS::Cognito::IdentityPoolRoleAttachment')[0];
  const roleLogicalId =
    referencedLogicalId(
      obj(obj(template.Resources[attachment ?? '']?.Properties).Roles).authenticated,
    ) ?? 'TenantDataRole';
  const missing = [
    ['AWS::DynamoDB::Table', tableLogicalId],
    ['AWS::Cognito::UserPool', userPoolLogicalId],
    ['AWS::Cognito::UserPoolClient', clientLogicalId],
  ].filter(([, id]) => id === undefined);
  if (missing.length > 0)
    throw new LocalStackConfigError(
      missing.map(([type]) => `the local stack needs an ${type} in the template`),
    );
  const tableName = ctx.refs[tableLogicalId as string] as string;
  const userPoolId = ctx.refs[userPoolLogicalId as string] as string;
  const tableArn = `arn:aws:dynamodb:${region}:${ACCOUNT_ID}:table/${tableName}`;
  const policy = tenantRolePolicy(template, tableArn, roleLogicalId);
  const pool = identityPoolConfig(template, ctx);
  const roles = createFunctionRoles(template, ctx);
  const tenantRoleName = ctx.refs[roleLogicalId] ?? roleLogicalId;
  const tenantEvaluator = createIamEvaluator(policy);
  /** Who signed a call to the identity pool: a function's role, or a tenant session. */
  const iamCaller = (accessKeyId: string, identityPool: IdentityPool): IamCaller | undefined => {
    const role = roles.byAccessKeyId(accessKeyId);
    if (role) return role;
    const session = identityPool.sessions.lookup(accessKeyId);
    return (
      session && {
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
        expiration: session.expiration,
        principalTags: session.principalTags,
        evaluator: tenantEvaluator,
        principalArn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${tenantRoleName}/CognitoIdentityCredentials`,
        roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${tenantRoleName}`,
      }
    );
  };

  // Parts started so far, stopped in reverse order on failure or stop().
  const stoppers: { part: string; stop: () => Promise<void> }[] = [];
  const pids: (() => number | undefined)[] = [];
  const started = async <T extends { stop(): Promise<void> }>(
    part: string,
    start: () => Promise<T>,
  ): Promise<T> => {
    let value: T;
    try {
      value = await start();
    } catch (error) {
      throw error instanceof LocalStackStartError ? error : new LocalStackStartError(part, error);
    }
    stoppers.push({ part, stop: () => value.stop() });
    logger.info(`${part} started`);
    return value;
  };
  const stopAll = async () => {
    const errors: unknown[] = [];
    for (const { stop } of stoppers.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0)
      throw new LocalStackError('some parts did not stop cleanly', { cause: errors });
  };

  // Every temporary folder of the stack lives under one root, which a janitor process removes
  // should this process die without stopping (kill -9); stop() removes it itself.
  const tempRoot = mkdtempSync(join(tmpdir(), 'tenantgate-stack-'));
  const janitor = startJanitor([tempRoot]);
  pids.push(() => janitor.pid);
  stoppers.push({
    part: 'temporary files',
    stop: async () => {
      await rm(tempRoot, { recursive: true, force: true });
      await janitor.stop();
    },
  });

  try {
    // Fixed ports are checked first, so a taken one fails before a JVM is started.
    for (const [name, flag] of Object.entries(PORT_FLAGS) as [keyof LocalStackPorts, string][]) {
      const port = ports[name] ?? 0;
      if (port !== 0) {
        try {
          await claimPort(port, flag);
        } catch (error) {
          throw new LocalStackStartError(partName(name), error);
        }
      }
    }
    let functions: LocalFunctions | undefined;
    const dynamoPart = (async () => {
      const dynamodb = await started('DynamoDB Local', () =>
        launchDynamoDbLocal({ port: ports.dynamodb ?? 0, portFlag: PORT_FLAGS.dynamodb }),
      );
      pids.push(() => dynamodb.pid);
      const client = new DynamoDBClient({
        endpoint: dynamodb.endpoint,
        region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      try {
        await provisionTables(client, tables);
      } catch (error) {
        throw new LocalStackStartError('tables', error);
      } finally {
        client.destroy();
      }
      return dynamodb;
    })();
    const cognitoPart = (async () => {
      const lambda = await started('Lambda service', () =>
        startLambdaService({
          port: ports.lambda ?? 0,
          portFlag: PORT_FLAGS.lambda,
          resolve: (name) => functions?.get(name)?.handler,
          logger,
        }),
      );
      // cognito-local on a free loopback port of its own: clients only ever get the front's.
      const cognito = await started('cognito-local', () =>
        launchCognitoLocal({
          pools: seeds,
          port: 0,
          tempDir: tempRoot,
          lambda: { endpoint: lambda.endpoint, triggers },
        }),
      );
      pids.push(() => cognito.pid);
      const client = new CognitoIdentityProviderClient({
        endpoint: cognito.endpoint,
        region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      try {
        await provisionUserPools(client, template, ctx);
      } catch (error) {
        throw new LocalStackStartError('user pool clients', error);
      } finally {
        client.destroy();
      }
      const userPool = await started('user pool', () =>
        startUserPoolFront({
          target: cognito.endpoint,
          dataDir: cognito.dataDir,
          region,
          secretFor: iamSecrets(roles),
          authorize: cognitoIdpAuthorizer(roles, { region, accountId: ACCOUNT_ID }),
          port: ports.cognito ?? 0,
          logger,
          ...(options.onUserPoolMessage ? { onMessage: options.onUserPoolMessage } : {}),
        }),
      );
      const { identityPoolId, providers, developerProviderName } = pool;
      // ServerSideTokenCheck: the stand-in asks cognito-local whether the user still stands.
      const checked = new Set(
        providers.filter((p) => p.serverSideTokenCheck).map((p) => p.providerName),
      );
      const admin = new CognitoIdentityProviderClient({
        endpoint: cognito.endpoint,
        region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      stoppers.push({ part: 'server-side token check', stop: async () => admin.destroy() });
      const serverSideTokenCheck = async (providerName: string, sub: string) => {
        if (!checked.has(providerName)) return true;
        try {
          const user = await admin.send(
            new AdminGetUserCommand({
              UserPoolId: providerName.slice(providerName.indexOf('/') + 1),
              Username: sub,
            }),
          );
          return user.Enabled !== false;
        } catch (error) {
          if ((error as Error).name === 'UserNotFoundException') return false;
          throw error; // the stand-in answers 500: fail closed
        }
      };
      const identityPool: IdentityPool = await started('identity pool', () =>
        startIdentityPool({
          serverSideTokenCheck,
          region,
          identityPoolId,
          accountId: ACCOUNT_ID,
          ...(developerProviderName === undefined ? {} : { developerProviderName }),
          // GetOpenIdTokenForDeveloperIdentity is IAM-signed: the functions' roles (the authorizer's
          // policy allows it) and tenant sessions (the tenant data role's does not).
          callers: (accessKeyId) => iamCaller(accessKeyId, identityPool),
          providers: providers.map(({ serverSideTokenCheck: _checked, ...p }) => ({
            ...p,
            jwksUri: `${userPool.endpoint}/${p.providerName.slice(p.providerName.indexOf('/') + 1)}/.well-known/jwks.json`,
          })),
          principalTags,
          ...(options.credentialsTtlSeconds === undefined
            ? {}
            : { credentialsTtlSeconds: options.credentialsTtlSeconds }),
          port: ports.identityPool ?? 0,
          logger,
        }),
      );
      return { lambda, cognito, userPool, identityPool };
    })();
    const settled = await Promise.allSettled([dynamoPart, cognitoPart]);
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    const dynamodb = await dynamoPart;
    const { lambda, cognito, userPool, identityPool } = await cognitoPart;

    const proxy = await started('isolation proxy', () =>
      startIsolationProxy({
        target: dynamodb.endpoint,
        // A function's role is judged by its own policy; a tenant session by the tenant data role's.
        lookupSession: (accessKeyId) =>
          functionSession(roles, accessKeyId) ?? identityPool.sessions.lookup(accessKeyId),
        policy,
        region,
        accountId: ACCOUNT_ID,
        roleName: tenantRoleName,
        port: ports.isolation ?? 0,
        logger,
      }),
    );
    functions = await started('functions', () =>
      startFunctions({
        template,
        resolution: ctx,
        tempDir: tempRoot,
        endpoints: {
          dynamodb: proxy.endpoint,
          cognitoIdentityProvider: userPool.endpoint,
          cognitoIdentity: identityPool.endpoint,
        },
        roles,
        jwksEndpoint: userPool.endpoint,
        logger,
        ...(options.onFunctionLog ? { onLog: options.onFunctionLog } : {}),
      }),
    );
    const fns = functions;
    const handlerOf = (id: string) => {
      const fn = fns.get(id);
      if (!fn) throw new LocalStackConfigError([`no function ${id}`]);
      return fn.handler;
    };
    const apis: LocalStackApi[] = [];
    const usedPort = { rest: false, http: false };
    for (const def of apiDefs) {
      const portName = def.kind === 'rest' ? 'restApi' : 'httpApi';
      // The first API of each kind gets the fixed port; any further one a free port.
      const port = usedPort[def.kind] ? 0 : (ports[portName] ?? 0);
      usedPort[def.kind] = true;
      const routes: LocalRoute[] = def.routes.map((r) => ({
        method: r.method,
        path: r.path,
        handler: handlerOf(r.functionLogicalId),
        functionName: r.functionLogicalId,
        authorization: def.authorizer ? r.authorization : 'NONE',
      }));
      const api: LocalApi = await started(`gateway ${def.logicalId}`, () =>
        startLocalApi({
          kind: def.kind,
          stage: def.stage,
          apiId: def.apiId,
          region,
          accountId: ACCOUNT_ID,
          routes,
          ...(def.authorizer
            ? {
                authorizer: {
                  handler: handlerOf(def.authorizer.functionLogicalId),
                  type: def.authorizer.type,
                  identitySources: def.authorizer.identitySources,
                  resultTtlSeconds: def.authorizer.resultTtlSeconds,
                  functionName: def.authorizer.functionLogicalId,
                  ...(def.authorizer.simpleResponses === undefined
                    ? {}
                    : { simpleResponses: def.authorizer.simpleResponses }),
                },
              }
            : {}),
          ...(def.cors ? { cors: def.cors } : {}),
          ...(def.gatewayResponses ? { gatewayResponses: def.gatewayResponses } : {}),
          port,
          logger,
        }),
      );
      apis.push({
        logicalId: def.logicalId,
        kind: def.kind,
        url: api.url,
        routes: def.routes.map((r) => ({
          method: r.method,
          path: r.path,
          functionName: r.functionLogicalId,
        })),
        stats: () => api.stats(),
      });
    }

    const clientId = ctx.refs[clientLogicalId as string] as string;
    const restApi = apis.find((a) => a.kind === 'rest')?.url ?? '';
    const httpApi = apis.find((a) => a.kind === 'http')?.url ?? '';
    const consoleServer = await started('console', () =>
      startConsole({
        port: consolePort,
        logger,
        config: {
          region,
          userPoolId,
          userPoolClientId: clientId,
          userPoolEndpoint: userPool.endpoint,
          apis: { rest: restApi, http: httpApi },
        },
      }),
    );
    const allowed = (parameters.AllowedOrigins ?? '').split(',');
    if (template.Parameters?.AllowedOrigins && !allowed.includes(consoleServer.url))
      logger.warn(
        `the console's origin ${consoleServer.url} is not in AllowedOrigins (${allowed.join(', ')}): it cannot read the APIs`,
      );
    const describe = (users: LocalStackFile['users'] = []): LocalStackFile => ({
      region,
      endpoints: {
        userPool: userPool.endpoint,
        identityPool: identityPool.endpoint,
        dynamodb: proxy.endpoint,
        restApi,
        httpApi,
        console: consoleServer.url,
      },
      userPoolId,
      clientId,
      identityPoolId: identityPool.identityPoolId,
      tableName,
      users,
      functionCredentials: Object.fromEntries(
        [...roles.roles.values()].map((r) => [
          r.logicalId,
          { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey },
        ]),
      ),
    });
    let stopping: Promise<void> | undefined;
    return {
      ...describe(),
      tables: Object.fromEntries(
        resourcesOfType(template, 'AWS::DynamoDB::Table').map((id) => [id, ctx.refs[id] as string]),
      ),
      apis,
      directDynamoDbEndpoint: dynamodb.endpoint,
      lambdaEndpoint: lambda.endpoint,
      issuer: `${cognito.issuerDomain}/${userPoolId}`,
      functions: fns,
      describe,
      identityPoolStats: () => identityPool.stats(),
      userPoolStats: () => userPool.stats(),
      resetIdentityPoolStats: () => identityPool.resetStats(),
      gatewayStats: () => Object.fromEntries(apis.map((a) => [a.logicalId, a.stats()])),
      isolationDecisions: () => proxy.decisions(),
      lambdaStats: () => lambda.stats(),
      childPids: () => pids.map((p) => p()).filter((p): p is number => p !== undefined),
      failure: Promise.race([
        dynamodb.exited.then(
          (how) => new LocalServiceError(`DynamoDB Local exited unexpectedly (${how})`),
        ),
        cognito.exited.then(
          (how) => new LocalServiceError(`cognito-local exited unexpectedly (${how})`),
        ),
      ]),
      removeWhenGone: (path) => janitor.add(path),
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll().catch((stopError: unknown) =>
      logger.error('cleanup after a failed start', { error: String(stopError) }),
    );
    throw error;
  }
}

/** A function's stand-in role as the isolation proxy judges it, else undefined. */
function functionSession(roles: FunctionRoles, accessKeyId: string): SessionInfo | undefined {
  const role = roles.byAccessKeyId(accessKeyId);
  return (
    role && {
      secretAccessKey: role.secretAccessKey,
      evaluator: role.evaluator,
      principalArn: role.principalArn,
      roleArn: role.roleArn,
    }
  );
}

function partName(port: keyof LocalStackPorts): string {
  return {
    restApi: 'REST API gateway',
    httpApi: 'HTTP API gateway',
    cognito: 'user pool',
    identityPool: 'identity pool',
    lambda: 'Lambda service',
    dynamodb: 'DynamoDB Local',
    isolation: 'isolation proxy',
    console: 'console',
  }[port];
}
