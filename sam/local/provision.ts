/**
 * template.yaml → local resources: the user pool(s) with their custom attributes, app clients,
 * groups, tables with their indexes, the identity pool (developer provider, trusted user pools and
 * their principal-tag mapping), and the Cognito triggers. Everything is read from the template, so the local stack runs the real
 * template, not a copy of it. Intrinsic functions are resolved against local physical ids.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  type ExplicitAuthFlowsType,
  type PreventUserExistenceErrorTypes,
  type TimeUnitsType,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
  type Projection,
} from '@aws-sdk/client-dynamodb';
import type { Template } from '../template.js';
import type { CognitoPoolSeed } from './cognito.js';
import { LocalStackConfigError } from './errors.js';

/** Where intrinsic functions are resolved: the local physical ids and parameter values. */
export interface LocalResolution {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /** Every template parameter: override, else default. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Logical id → `!Ref` value (physical id). Filled as resources are created. */
  readonly refs: Record<string, string>;
}

type Resources = Template['Resources'];
type Resource = Resources[string];
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Logical ids of the resources of one type, in template order. */
export const resourcesOfType = (template: Template, type: string): string[] =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);

const CUSTOM_ID = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A real-format user pool id, `<region>_<9 alphanumerics>`. */
export function userPoolIdFor(region: string, random: (n: number) => Buffer = randomBytes): string {
  const suffix = [...random(9)].map((b) => CUSTOM_ID[b % CUSTOM_ID.length]).join('');
  return `${region}_${suffix}`;
}

/**
 * Template parameters with `overrides` applied, checked against `AllowedValues`, `MinValue` and
 * `MaxValue`. @throws LocalStackConfigError listing every problem.
 */
export function resolveParameters(
  template: Template,
  overrides: Readonly<Record<string, string | number>> = {},
): Record<string, string> {
  const issues: string[] = [];
  const declared = (template.Parameters ?? {}) as Record<
    string,
    {
      Type: string;
      Default?: unknown;
      AllowedValues?: unknown[];
      MinValue?: number;
      MaxValue?: number;
    }
  >;
  for (const name of Object.keys(overrides))
    if (!(name in declared)) issues.push(`parameter ${name} is not declared in template.yaml`);
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries(declared)) {
    const raw = overrides[name] ?? p.Default;
    if (raw === undefined) {
      issues.push(`parameter ${name} has no default: pass a value`);
      continue;
    }
    const value = String(raw);
    if (p.AllowedValues && !p.AllowedValues.map(String).includes(value))
      issues.push(`parameter ${name}=${value}: allowed ${p.AllowedValues.join(', ')}`);
    if (p.Type === 'Number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n))
        issues.push(`parameter ${name}=${value} is not a number`);
      else if (
        (p.MinValue !== undefined && n < p.MinValue) ||
        (p.MaxValue !== undefined && n > p.MaxValue)
      )
        issues.push(
          `parameter ${name}=${value} is outside ${p.MinValue ?? '-∞'}–${p.MaxValue ?? '∞'}`,
        );
    }
    values[name] = value;
  }
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  return values;
}

/** The physical ids known before anything runs (app clients come from cognito-local later). */
export function initialRefs(
  template: Template,
  ids: { region: string; stackName: string; userPoolId?: (logicalId: string) => string },
): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = obj(r.Properties);
    switch (r.Type) {
      case 'AWS::Cognito::UserPool':
        refs[id] = ids.userPoolId?.(id) ?? userPoolIdFor(ids.region);
        break;
      case 'AWS::Cognito::IdentityPool':
        refs[id] = `${ids.region}:${randomUUID()}`;
        break;
      case 'AWS::DynamoDB::Table':
        refs[id] = typeof p.TableName === 'string' ? p.TableName : `${ids.stackName}-${id}`;
        break;
      case 'AWS::Cognito::UserPoolClient':
        break; // cognito-local makes the id
      default:
        refs[id] = id;
    }
  }
  return refs;
}

/** `!GetAtt X.Attr` as CloudFormation would answer it for the local physical ids. */
function getAtt(
  template: Template,
  ctx: LocalResolution,
  logicalId: string,
  attribute: string,
): string | undefined {
  const r = template.Resources[logicalId];
  const ref = ctx.refs[logicalId];
  if (!r || ref === undefined) return undefined;
  const { region, accountId } = ctx;
  switch (`${r.Type}.${attribute}`) {
    case 'AWS::Serverless::Function.Arn':
    case 'AWS::Lambda::Function.Arn':
      return `arn:aws:lambda:${region}:${accountId}:function:${ref}`;
    case 'AWS::DynamoDB::Table.Arn':
      return `arn:aws:dynamodb:${region}:${accountId}:table/${ref}`;
    case 'AWS::IAM::Role.Arn':
      return `arn:aws:iam::${accountId}:role/${ref}`;
    case 'AWS::Cognito::UserPool.Arn':
      return `arn:aws:cognito-idp:${region}:${accountId}:userpool/${ref}`;
    case 'AWS::Cognito::UserPool.ProviderName':
      return `cognito-idp.${region}.amazonaws.com/${ref}`;
    case 'AWS::Cognito::UserPool.ProviderURL':
      return `https://cognito-idp.${region}.amazonaws.com/${ref}`;
    case 'AWS::Cognito::UserPool.UserPoolId':
      return ref;
    default:
      return attribute === 'Arn'
        ? `arn:aws:local:${region}:${accountId}:${logicalId}/${ref}`
        : undefined;
  }
}

/**
 * Resolve a template value to a string for the local stack: literals, `Ref` (parameters, pseudo
 * parameters, resources), `Fn::GetAtt`, `Fn::Sub` (both forms, `${!x}` kept literal) and `Fn::Join`.
 * Returns `undefined` for what cannot be resolved (the caller reports it).
 */
export function resolveLocal(
  template: Template,
  ctx: LocalResolution,
  value: unknown,
): string | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  const o = obj(value);
  const pseudo: Record<string, string> = {
    'AWS::Region': ctx.region,
    'AWS::AccountId': ctx.accountId,
    'AWS::StackName': ctx.stackName,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const name = (n: string, vars: Record<string, unknown> = {}): string | undefined => {
    if (n in vars) return resolveLocal(template, ctx, vars[n]);
    if (n in pseudo) return pseudo[n];
    if (n in ctx.parameters) return ctx.parameters[n];
    const dot = n.indexOf('.');
    if (dot > 0) return getAtt(template, ctx, n.slice(0, dot), n.slice(dot + 1));
    return ctx.refs[n];
  };
  if ('Ref' in o) return name(String(o.Ref));
  if ('Fn::GetAtt' in o) {
    const [id, ...attr] = Array.isArray(o['Fn::GetAtt'])
      ? (o['Fn::GetAtt'] as unknown[]).map(String)
      : String(o['Fn::GetAtt']).split('.');
    return getAtt(template, ctx, id ?? '', attr.join('.'));
  }
  if ('Fn::Sub' in o) {
    const [text, vars] = Array.isArray(o['Fn::Sub']) ? o['Fn::Sub'] : [o['Fn::Sub']];
    if (typeof text !== 'string') return undefined;
    let failed = false;
    const out = text.replace(/\$\{(!?)([^}]*)\}/g, (_whole, bang: string, n: string) => {
      if (bang) return `\${${n}}`;
      const v = name(n, obj(vars));
      if (v === undefined) failed = true;
      return v ?? '';
    });
    return failed ? undefined : out;
  }
  if ('Fn::Join' in o) {
    const [sep, parts] = arr(o['Fn::Join']);
    const values = resolveLocalList(template, ctx, parts);
    return values?.join(String(sep ?? ''));
  }
  if ('Fn::Select' in o) {
    const [index, list] = arr(o['Fn::Select']);
    const i = Number(resolveLocal(template, ctx, index));
    const values = resolveLocalList(template, ctx, list);
    return values !== undefined && Number.isInteger(i) && i >= 0 ? values[i] : undefined;
  }
  return undefined;
}

/**
 * Resolve a list: a literal list of values, or one value naming a list — a `CommaDelimitedList`
 * parameter (kept as its comma-separated text locally) — split at its commas.
 */
export function resolveLocalList(
  template: Template,
  ctx: LocalResolution,
  value: unknown,
): string[] | undefined {
  if (Array.isArray(value)) {
    const values = value.map((v) => resolveLocal(template, ctx, v));
    return values.every((v) => v !== undefined) ? (values as string[]) : undefined;
  }
  return resolveLocal(template, ctx, value)?.split(',');
}

/** A template condition's value (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`). */
export function resolveCondition(
  template: Template,
  ctx: LocalResolution,
  value: unknown,
): boolean | undefined {
  const o = obj(value);
  const each = (v: unknown) => arr(v).map((c) => resolveCondition(template, ctx, c));
  if ('Condition' in o) {
    const name = String(o.Condition);
    const definition = template.Conditions?.[name];
    return definition === undefined ? undefined : resolveCondition(template, ctx, definition);
  }
  if ('Fn::Equals' in o) {
    const [a, b] = arr(o['Fn::Equals']).map((v) => resolveLocal(template, ctx, v));
    return a === undefined || b === undefined ? undefined : a === b;
  }
  if ('Fn::Not' in o) {
    const [c] = each(o['Fn::Not']);
    return c === undefined ? undefined : !c;
  }
  for (const [fn, all] of [
    ['Fn::And', true],
    ['Fn::Or', false],
  ] as const) {
    if (fn in o) {
      const values = each(o[fn]);
      if (values.some((v) => v === undefined)) return undefined;
      return all ? values.every(Boolean) : values.some(Boolean);
    }
  }
  return undefined;
}

/**
 * A property value with a top-level `Fn::If` chosen by its condition; `AWS::NoValue` is `undefined`.
 * @throws LocalStackConfigError when the condition cannot be decided locally.
 */
export function chooseLocal(template: Template, ctx: LocalResolution, value: unknown): unknown {
  const o = obj(value);
  if ('Fn::If' in o) {
    const [name, yes, no] = arr(o['Fn::If']);
    const decided = resolveCondition(template, ctx, { Condition: name });
    if (decided === undefined)
      throw new LocalStackConfigError([`condition ${String(name)} cannot be decided locally`]);
    return chooseLocal(template, ctx, decided ? yes : no);
  }
  return obj(value).Ref === 'AWS::NoValue' ? undefined : value;
}

/** Like `resolveLocal`, recording what cannot be resolved. */
function resolver(template: Template, ctx: LocalResolution, issues: string[]) {
  return (value: unknown, at: string): string | undefined => {
    const v = resolveLocal(template, ctx, value);
    if (v === undefined && value !== undefined)
      issues.push(`${at}: cannot resolve ${JSON.stringify(value)} locally`);
    return v;
  };
}

/** The logical id an ARN-valued property points at (`!GetAtt X.Arn`, `!Ref X`), else undefined. */
export function referencedLogicalId(value: unknown): string | undefined {
  const o = obj(value);
  if ('Fn::GetAtt' in o) {
    const g = o['Fn::GetAtt'];
    return Array.isArray(g) ? String(g[0]) : String(g).split('.')[0];
  }
  if ('Ref' in o) return String(o.Ref);
  if ('Fn::Sub' in o && typeof o['Fn::Sub'] === 'string')
    return /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(o['Fn::Sub'])?.[1];
  return undefined;
}

/** Standard attributes of a user pool; other Schema entries are custom (`custom:<name>`). */
const STANDARD_ATTRIBUTES = new Set([
  'address',
  'birthdate',
  'email',
  'email_verified',
  'family_name',
  'gender',
  'given_name',
  'locale',
  'middle_name',
  'name',
  'nickname',
  'phone_number',
  'phone_number_verified',
  'picture',
  'preferred_username',
  'profile',
  'sub',
  'updated_at',
  'website',
  'zoneinfo',
]);

/** The user pools to seed into cognito-local (ids from `ctx.refs`). */
export function userPoolSeeds(template: Template, ctx: LocalResolution): CognitoPoolSeed[] {
  const issues: string[] = [];
  const resolve = resolver(template, ctx, issues);
  const seeds = resourcesOfType(template, 'AWS::Cognito::UserPool').map((id): CognitoPoolSeed => {
    const p = obj((template.Resources[id] as Resource).Properties);
    const custom = arr(p.Schema)
      .map((a) => String(obj(a).Name ?? ''))
      .filter((n) => n !== '' && !STANDARD_ATTRIBUTES.has(n))
      .map((n) => n.replace(/^custom:/, ''));
    const auto = arr(p.AutoVerifiedAttributes).map(String);
    // The template's password policy over Cognito's default (which cognito-local's seed holds);
    // the user-pool front enforces it.
    const declared = obj(obj(p.Policies).PasswordPolicy);
    const policy: Record<string, number | boolean> = {};
    for (const [key, value] of Object.entries(declared)) {
      const v = resolve(value, `${id}.Policies.PasswordPolicy.${key}`);
      if (v !== undefined) policy[key] = /^\d+$/.test(v) ? Number(v) : v === 'true';
    }
    return {
      id: ctx.refs[id] ?? '',
      name: resolve(p.UserPoolName, `${id}.UserPoolName`) ?? id,
      usernameAttributes: arr(p.UsernameAttributes).map(String),
      customAttributes: custom,
      options: {
        ...(auto.length > 0 ? { AutoVerifiedAttributes: auto } : {}),
        ...(Object.keys(policy).length > 0 ? { PasswordPolicy: policy } : {}),
      },
    };
  });
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  return seeds;
}

/**
 * Cognito triggers from the pools' `LambdaConfig` (`PostConfirmation: !GetAtt Fn.Arn`): trigger →
 * the function's logical id, the name the local Lambda service answers to.
 */
export function cognitoTriggers(template: Template): Record<string, string> {
  const issues: string[] = [];
  const triggers: Record<string, string> = {};
  for (const id of resourcesOfType(template, 'AWS::Cognito::UserPool')) {
    const config = obj(obj((template.Resources[id] as Resource).Properties).LambdaConfig);
    for (const [trigger, target] of Object.entries(config)) {
      const fn = referencedLogicalId(target);
      if (!fn || !template.Resources[fn])
        issues.push(`${id}.LambdaConfig.${trigger}: no template function`);
      else if (triggers[trigger] && triggers[trigger] !== fn)
        issues.push(`${trigger}: cognito-local supports one function per trigger for all pools`);
      else triggers[trigger] = fn;
    }
  }
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  return triggers;
}

/**
 * An app client's token lifetimes: the template's, else Cognito's defaults — ID and access tokens
 * 1 hour, refresh tokens 30 days (CloudFormation's units: hours, hours, days). Always explicit,
 * because cognito-local's own defaults are 24 hours and 7 days.
 */
export function tokenValidity(
  p: Record<string, unknown>,
  resolve: (value: unknown, at: string) => string | undefined,
): {
  AccessTokenValidity: number;
  IdTokenValidity: number;
  RefreshTokenValidity: number;
  TokenValidityUnits: {
    AccessToken: TimeUnitsType;
    IdToken: TimeUnitsType;
    RefreshToken: TimeUnitsType;
  };
} {
  const units = obj(p.TokenValidityUnits);
  const unit = (name: string, fallback: TimeUnitsType) =>
    (units[name] === undefined
      ? fallback
      : resolve(units[name], `TokenValidityUnits.${name}`)) as TimeUnitsType;
  const value = (name: string, fallback: number) =>
    p[name] === undefined ? fallback : Number(resolve(p[name], name));
  return {
    AccessTokenValidity: value('AccessTokenValidity', 1),
    IdTokenValidity: value('IdTokenValidity', 1),
    RefreshTokenValidity: value('RefreshTokenValidity', 30),
    TokenValidityUnits: {
      AccessToken: unit('AccessToken', 'hours'),
      IdToken: unit('IdToken', 'hours'),
      RefreshToken: unit('RefreshToken', 'days'),
    },
  };
}

/** Create the template's app clients and groups in cognito-local; records client ids in `ctx.refs`. */
export async function provisionUserPools(
  client: CognitoIdentityProviderClient,
  template: Template,
  ctx: LocalResolution,
): Promise<void> {
  const issues: string[] = [];
  const resolve = resolver(template, ctx, issues);
  const clients = resourcesOfType(template, 'AWS::Cognito::UserPoolClient').map((id) => {
    const p = obj((template.Resources[id] as Resource).Properties);
    const list = (v: unknown) => arr(v).map(String);
    return {
      id,
      input: {
        UserPoolId: resolve(p.UserPoolId, `${id}.UserPoolId`) ?? '',
        ClientName: resolve(p.ClientName, `${id}.ClientName`) ?? id,
        ...(p.ExplicitAuthFlows
          ? { ExplicitAuthFlows: list(p.ExplicitAuthFlows) as ExplicitAuthFlowsType[] }
          : {}),
        ...(p.ReadAttributes ? { ReadAttributes: list(p.ReadAttributes) } : {}),
        ...(p.WriteAttributes ? { WriteAttributes: list(p.WriteAttributes) } : {}),
        GenerateSecret: p.GenerateSecret === true || p.GenerateSecret === 'true',
        ...(p.PreventUserExistenceErrors
          ? {
              PreventUserExistenceErrors: resolve(
                p.PreventUserExistenceErrors,
                `${id}.PreventUserExistenceErrors`,
              ) as PreventUserExistenceErrorTypes,
            }
          : {}),
        ...tokenValidity(p, (v, at) => resolve(v, `${id}.${at}`)),
      },
    };
  });
  const groups = resourcesOfType(template, 'AWS::Cognito::UserPoolGroup').map((id) => {
    const p = obj((template.Resources[id] as Resource).Properties);
    return {
      UserPoolId: resolve(p.UserPoolId, `${id}.UserPoolId`) ?? '',
      GroupName: resolve(p.GroupName, `${id}.GroupName`) ?? id,
      ...(p.Description ? { Description: resolve(p.Description, `${id}.Description`) } : {}),
      ...(p.Precedence !== undefined ? { Precedence: Number(p.Precedence) } : {}),
    };
  });
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  for (const c of clients) {
    const { UserPoolClient } = await client.send(new CreateUserPoolClientCommand(c.input));
    if (!UserPoolClient?.ClientId)
      throw new LocalStackConfigError([`${c.id}: cognito-local returned no client id`]);
    ctx.refs[c.id] = UserPoolClient.ClientId;
  }
  for (const g of groups) await client.send(new CreateGroupCommand(g));
}

/** CreateTable inputs of the template's tables: keys, attributes, GSIs and LSIs, billing mode. */
export function tableDefinitions(
  template: Template,
  ctx: LocalResolution,
): CreateTableCommandInput[] {
  const issues: string[] = [];
  const throughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
  const defs = resourcesOfType(template, 'AWS::DynamoDB::Table').map((id) => {
    const p = obj((template.Resources[id] as Resource).Properties);
    const provisioned = p.BillingMode !== 'PAY_PER_REQUEST';
    const keys = (v: unknown, at: string): KeySchemaElement[] => {
      const ks = arr(v).map((k) => ({
        AttributeName: String(obj(k).AttributeName),
        KeyType: String(obj(k).KeyType) as KeySchemaElement['KeyType'],
      }));
      if (ks.length === 0) issues.push(`${at}: KeySchema is empty`);
      return ks;
    };
    const index = (i: unknown, n: number, kind: string) => {
      const x = obj(i);
      return {
        IndexName: String(x.IndexName),
        KeySchema: keys(x.KeySchema, `${id}.${kind}[${n}]`),
        Projection: obj(x.Projection) as Projection,
      };
    };
    const gsis = arr(p.GlobalSecondaryIndexes).map((g, n) => ({
      ...index(g, n, 'GlobalSecondaryIndexes'),
      ...(provisioned ? { ProvisionedThroughput: throughput } : {}),
    }));
    const lsis = arr(p.LocalSecondaryIndexes).map((l, n) => index(l, n, 'LocalSecondaryIndexes'));
    return {
      TableName: ctx.refs[id],
      AttributeDefinitions: arr(p.AttributeDefinitions).map((a) => ({
        AttributeName: String(obj(a).AttributeName),
        AttributeType: String(obj(a).AttributeType),
      })) as AttributeDefinition[],
      KeySchema: keys(p.KeySchema, id),
      ...(provisioned
        ? { BillingMode: 'PROVISIONED' as const, ProvisionedThroughput: throughput }
        : { BillingMode: 'PAY_PER_REQUEST' as const }),
      ...(gsis.length > 0 ? { GlobalSecondaryIndexes: gsis } : {}),
      ...(lsis.length > 0 ? { LocalSecondaryIndexes: lsis } : {}),
    };
  });
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  return defs;
}

/** Create the tables in DynamoDB Local. */
export async function provisionTables(
  client: DynamoDBClient,
  definitions: readonly CreateTableCommandInput[],
): Promise<void> {
  for (const def of definitions) await client.send(new CreateTableCommand(def));
}

/** Cognito's default mapping when `UseDefaults: true`. */
const DEFAULT_PRINCIPAL_TAGS = { client: 'aud', username: 'sub' };

/**
 * Principal tag → claim, from the template's `AWS::Cognito::IdentityPoolPrincipalTag`: how a trusted
 * user pool's token claims become tags. None (`{}`) for a pool of developer-authenticated identities,
 * whose tags come with each GetOpenIdTokenForDeveloperIdentity call.
 */
export function principalTagMapping(template: Template): Record<string, string> {
  const [id, ...more] = resourcesOfType(template, 'AWS::Cognito::IdentityPoolPrincipalTag');
  if (more.length > 0)
    throw new LocalStackConfigError([
      'more than one IdentityPoolPrincipalTag: the stand-in takes one mapping',
    ]);
  if (!id) return {};
  const p = obj((template.Resources[id] as Resource).Properties);
  const tags = Object.fromEntries(
    Object.entries(obj(p.PrincipalTags)).map(([k, v]) => [k, String(v)]),
  );
  return Object.keys(tags).length === 0 && (p.UseDefaults === true || p.UseDefaults === 'true')
    ? { ...DEFAULT_PRINCIPAL_TAGS }
    : tags;
}

/** The identity pool as the stand-in serves it, from the template's `AWS::Cognito::IdentityPool`. */
export interface IdentityPoolConfig {
  readonly identityPoolId: string;
  /** `DeveloperProviderName`, resolved; absent when the pool has none. */
  readonly developerProviderName?: string;
  /** `CognitoIdentityProviders`, resolved: the user pools (and their clients) the pool trusts. */
  readonly providers: readonly {
    providerName: string;
    clientIds: string[];
    serverSideTokenCheck: boolean;
  }[];
}

/**
 * The identity pool of the template, resolved. The stand-in serves authenticated identities only: a
 * pool with `AllowUnauthenticatedIdentities: true` is refused rather than served weaker or stronger
 * than AWS would.
 * @throws LocalStackConfigError listing every problem.
 */
export function identityPoolConfig(template: Template, ctx: LocalResolution): IdentityPoolConfig {
  const issues: string[] = [];
  const resolve = resolver(template, ctx, issues);
  const ids = resourcesOfType(template, 'AWS::Cognito::IdentityPool');
  if (ids.length !== 1)
    issues.push(
      `the local stack needs exactly one AWS::Cognito::IdentityPool, found ${ids.length}`,
    );
  const id = ids[0] ?? '';
  const p = obj(template.Resources[id]?.Properties);
  const guests = resolve(p.AllowUnauthenticatedIdentities, `${id}.AllowUnauthenticatedIdentities`);
  if (guests !== 'false')
    issues.push(
      `${id}.AllowUnauthenticatedIdentities must be false: the local identity pool serves no unauthenticated identities`,
    );
  const developerProviderName =
    p.DeveloperProviderName === undefined
      ? undefined
      : resolve(p.DeveloperProviderName, `${id}.DeveloperProviderName`);
  const byProvider = new Map<string, string[]>();
  const checked = new Set<string>();
  arr(p.CognitoIdentityProviders).forEach((entry, n) => {
    const providerName = resolve(
      obj(entry).ProviderName,
      `${id}.CognitoIdentityProviders[${n}].ProviderName`,
    );
    const clientId = resolve(obj(entry).ClientId, `${id}.CognitoIdentityProviders[${n}].ClientId`);
    if (providerName && clientId)
      byProvider.set(providerName, [...(byProvider.get(providerName) ?? []), clientId]);
    const check = obj(entry).ServerSideTokenCheck;
    if (providerName && (check === true || check === 'true')) checked.add(providerName);
  });
  if (issues.length > 0) throw new LocalStackConfigError(issues);
  return {
    identityPoolId: ctx.refs[id] ?? '',
    ...(developerProviderName === undefined ? {} : { developerProviderName }),
    providers: [...byProvider].map(([providerName, clientIds]) => ({
      providerName,
      clientIds,
      serverSideTokenCheck: checked.has(providerName),
    })),
  };
}
