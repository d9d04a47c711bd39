/**
 * AircraftFunction, the seeds' example domain service: any member reads the tenant's aircraft; only a
 * role allowing `aircraft:create` / `aircraft:update` writes them, through the guarded transaction.
 * Every data call is signed with the caller's tenant-scoped credentials from the authorizer context;
 * this function's own role has no table access at all (template.yaml).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createAircraftService, createRoleAuthorizer } from '../../tenants/index.js';
import { tenantTableClients } from '../clients.js';
import { readControlPlaneConfig } from '../config.js';
import { createRouter, json, tenantOf } from '../http.js';

const config = readControlPlaneConfig(process.env);
const logger = new Logger({ serviceName: config.serviceName });
const clientFor = tenantTableClients(config);
const aircraft = createAircraftService({
  tableName: config.tableName,
  clientFor,
  roles: createRoleAuthorizer({
    tableName: config.tableName,
    ttlMs: config.roleCacheTtlMs,
    clientFor,
  }),
});

export const handler = createRouter(
  {
    async 'GET /aircraft'(request) {
      return json(200, { aircraft: await aircraft.list(tenantOf(request)) });
    },
    async 'GET /aircraft/{aircraftId}'(request) {
      return json(
        200,
        await aircraft.get(tenantOf(request), request.pathParameters.aircraftId ?? ''),
      );
    },
    async 'POST /aircraft'(request) {
      return json(201, await aircraft.create(tenantOf(request), request.json()));
    },
    async 'PUT /aircraft/{aircraftId}'(request) {
      const id = request.pathParameters.aircraftId ?? '';
      return json(200, await aircraft.update(tenantOf(request), id, request.json()));
    },
  },
  logger,
  { allowedOrigins: config.allowedOrigins },
);
