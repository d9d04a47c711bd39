/**
 * The seeds' example domain service: a flight school's aircraft. Every call uses the caller's
 * tenant-scoped credentials from the authorizer context, never the function's own role, so IAM confines
 * it to `TENANT#<caller's tenant>` whatever this code gets wrong. Reads are checked by the role
 * authorizer (any member: `aircraft:list`, `aircraft:read`); writes by the guarded transaction
 * (`aircraft:create`, `aircraft:update`), so a refused write leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type TenantContext, tenantDynamoClient } from '../authorizer/index.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  TenantsConfigError,
  WriteConditionError,
} from './errors.js';
import { createTenantGuardedWriter } from './guarded-write.js';
import { AIRCRAFT_SK_PREFIX, aircraftSk, tenantPk } from './keys.js';
import { isVersion, MAX_VERSION } from './limits.js';
import { queryAll, tableOptionIssues } from './query-all.js';
import type { RoleAuthorizer } from './role-authorizer.js';

/** The statuses an aircraft can have. */
export const AircraftStatus = {
  airworthy: 'airworthy',
  maintenance: 'maintenance',
  grounded: 'grounded',
} as const;
export type AircraftStatus = (typeof AircraftStatus)[keyof typeof AircraftStatus];
const STATUSES = Object.values(AircraftStatus) as string[];

/** The example domain item: one aircraft of a flight school (a tenant). */
export interface Aircraft {
  readonly aircraftId: string;
  /** e.g. `N172SP`, `G-ABCD`. */
  readonly registration: string;
  readonly model: string;
  readonly status: AircraftStatus;
  /** Optimistic-locking version, 1 on creation. */
  readonly version: number;
  /** The `userId` of the last writer. */
  readonly updatedBy: string;
}

/** Options of {@link createAircraftService}. */
export interface AircraftServiceOptions {
  /** The single table of template.yaml (`PK`/`SK`, index `GSI1`). */
  readonly tableName: string;
  /** Checks reads (`aircraft:list`, `aircraft:read`); writes are guarded transactions. */
  readonly roles: RoleAuthorizer;
  /** Default: `tenantDynamoClient(ctx)`, the caller's tenant-scoped credentials. */
  readonly clientFor?: (ctx: TenantContext) => DynamoDBDocumentClient;
  /** A new aircraft id. Default: 12 URL-safe characters from 72 random bits. */
  readonly newId?: () => string;
}

/** The example domain service: aircraft of the caller's tenant, every call checked against their role. */
export interface AircraftService {
  list(ctx: TenantContext): Promise<Aircraft[]>;
  get(ctx: TenantContext, aircraftId: string): Promise<Aircraft>;
  create(ctx: TenantContext, input: Record<string, unknown>): Promise<Aircraft>;
  /** Optimistic: `version` must be the stored one. */
  update(ctx: TenantContext, aircraftId: string, input: Record<string, unknown>): Promise<Aircraft>;
}

const REGISTRATION = /^[A-Z0-9-]{2,10}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

function validate(input: Record<string, unknown>, partial: boolean) {
  const problems: { field: string; message: string }[] = [];
  const { registration, model, status } = input;
  if (
    !(partial && registration === undefined) &&
    (typeof registration !== 'string' || !REGISTRATION.test(registration))
  )
    problems.push({ field: 'registration', message: 'must be 2 to 10 of A-Z 0-9 -' });
  if (
    !(partial && model === undefined) &&
    (typeof model !== 'string' || model.trim() === '' || model.length > 100)
  )
    problems.push({ field: 'model', message: 'must be 1 to 100 characters' });
  if (status !== undefined && (typeof status !== 'string' || !STATUSES.includes(status)))
    problems.push({ field: 'status', message: `must be one of ${STATUSES.join(', ')}` });
  // Bounded, so `version + 1` is exact (2^53 − 1 + 1 is not) and no request reaches DynamoDB with it.
  if (partial && !isVersion(input.version))
    problems.push({
      field: 'version',
      message: `must be the integer version you read (1 to ${MAX_VERSION})`,
    });
  if (problems.length > 0) throw new InvalidInputError(problems);
}

const toAircraft = (item: Record<string, unknown>): Aircraft => ({
  aircraftId: String(item.aircraftId),
  registration: String(item.registration),
  model: String(item.model),
  status: item.status as AircraftStatus,
  version: Number(item.version),
  updatedBy: String(item.updatedBy),
});

/** Never echo a long or odd path segment back in full. */
const notFound = (aircraftId: string) =>
  new NotFoundError('aircraft', `no aircraft ${aircraftId.slice(0, 64)}`);

/** @throws TenantsConfigError listing every invalid option. */
export function createAircraftService(options: AircraftServiceOptions): AircraftService {
  const issues: string[] = [];
  tableOptionIssues(options, issues, false);
  if (typeof options?.roles?.enforce !== 'function') issues.push('roles must be a RoleAuthorizer');
  if (issues.length > 0) throw new TenantsConfigError(issues);
  const { tableName, roles } = options;
  const clientFor = options.clientFor ?? ((ctx: TenantContext) => tenantDynamoClient(ctx));
  const newId = options.newId ?? (() => randomBytes(9).toString('base64url'));
  const guarded = createTenantGuardedWriter({ tableName, clientFor });

  const read = async (ctx: TenantContext, aircraftId: string) => {
    if (!ID.test(aircraftId)) throw notFound(aircraftId);
    const { Item } = await clientFor(ctx).send(
      new GetCommand({
        TableName: tableName,
        Key: { PK: tenantPk(ctx.tenantId), SK: aircraftSk(aircraftId) },
        ConsistentRead: true,
      }),
    );
    if (!Item) throw notFound(aircraftId);
    return toAircraft(Item);
  };

  return {
    async list(ctx) {
      await roles.enforce(ctx, 'aircraft:list');
      const items = await queryAll(clientFor(ctx), {
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :a)',
        ExpressionAttributeValues: { ':pk': tenantPk(ctx.tenantId), ':a': AIRCRAFT_SK_PREFIX },
      });
      return items.map(toAircraft);
    },

    async get(ctx, aircraftId) {
      await roles.enforce(ctx, 'aircraft:read');
      return read(ctx, aircraftId);
    },

    async create(ctx, input) {
      validate(input, false);
      const aircraft: Aircraft = {
        aircraftId: newId(),
        registration: input.registration as string,
        model: (input.model as string).trim(),
        status: (input.status as AircraftStatus | undefined) ?? AircraftStatus.airworthy,
        version: 1,
        updatedBy: ctx.userId,
      };
      const write = guarded(ctx, 'aircraft:create', [
        {
          Put: {
            TableName: tableName,
            Item: {
              PK: tenantPk(ctx.tenantId),
              SK: aircraftSk(aircraft.aircraftId),
              type: 'aircraft',
              ...aircraft,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
      ]);
      try {
        await write;
      } catch (error) {
        // 72 random bits make a clash unlikely; if one happens, it is a retryable 409, not a 500.
        if (error instanceof WriteConditionError)
          throw new ConflictError('already-exists', 'aircraft id clash: retry', { cause: error });
        throw error;
      }
      return aircraft;
    },

    async update(ctx, aircraftId, input) {
      validate(input, true);
      if (!ID.test(aircraftId)) throw notFound(aircraftId);
      const sets: string[] = ['version = :next', 'updatedBy = :by'];
      const values: Record<string, unknown> = {
        ':next': (input.version as number) + 1,
        ':expected': input.version,
        ':by': ctx.userId,
      };
      const names: Record<string, string> = {};
      for (const field of ['registration', 'model', 'status'] as const) {
        if (input[field] === undefined) continue;
        sets.push(`#${field} = :${field}`);
        names[`#${field}`] = field;
        values[`:${field}`] = field === 'model' ? (input[field] as string).trim() : input[field];
      }
      try {
        await guarded(ctx, 'aircraft:update', [
          {
            Update: {
              TableName: tableName,
              Key: { PK: tenantPk(ctx.tenantId), SK: aircraftSk(aircraftId) },
              UpdateExpression: `SET ${sets.join(', ')}`,
              ConditionExpression: 'attribute_exists(PK) AND version = :expected',
              ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
              ExpressionAttributeValues: values,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ]);
      } catch (error) {
        if (error instanceof WriteConditionError) {
          if (!error.failed[0]?.item)
            throw new NotFoundError('aircraft', `no aircraft ${aircraftId}`, { cause: error });
          throw new ConflictError(
            'stale-version',
            `aircraft ${aircraftId} is not at version ${String(input.version)}`,
            { cause: error },
          );
        }
        throw error;
      }
      return read(ctx, aircraftId);
    },
  };
}
