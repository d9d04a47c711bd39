/**
 * RolesFunction (`roles:*`): list, create, update (optimistic `version`), delete (`?version=N`; a role
 * still assigned cannot be deleted). Validation errors come from the policy engine, one per field.
 * Writes run with this function's own role (roles live in the control partitions, which tenant
 * credentials cannot write); no one but an admin writes a role beyond their own.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createRoleAuthorizer, createRolesAdmin, InvalidInputError } from '../../tenants/index.js';
import { ownTableClient, tenantTableClients } from '../clients.js';
import { readControlPlaneConfig } from '../config.js';
import { createRouter, json, tenantOf } from '../http.js';

const config = readControlPlaneConfig(process.env);
const logger = new Logger({ serviceName: config.serviceName });
const roles = createRolesAdmin({
  client: ownTableClient(config),
  tableName: config.tableName,
  roles: createRoleAuthorizer({
    tableName: config.tableName,
    ttlMs: config.roleCacheTtlMs,
    clientFor: tenantTableClients(config),
  }),
});

export const handler = createRouter(
  {
    async 'GET /roles'(request) {
      return json(200, { roles: await roles.list(tenantOf(request)) });
    },
    async 'POST /roles'(request) {
      return json(201, await roles.create(tenantOf(request), request.json()));
    },
    async 'PUT /roles/{roleId}'(request) {
      const roleId = request.pathParameters.roleId ?? '';
      return json(200, await roles.update(tenantOf(request), roleId, request.json()));
    },
    async 'DELETE /roles/{roleId}'(request) {
      const raw = request.query.version;
      const version = raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
      if (version === undefined) {
        throw new InvalidInputError([
          {
            field: 'version',
            message: 'query parameter ?version=N (the version you read) is required',
          },
        ]);
      }
      await roles.remove(tenantOf(request), request.pathParameters.roleId ?? '', version);
      return json(204);
    },
  },
  logger,
  { allowedOrigins: config.allowedOrigins },
);
