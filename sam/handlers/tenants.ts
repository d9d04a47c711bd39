/**
 * TenantsFunction: `POST /tenants` (create), `GET /me/tenants` (list), `POST /me/tenant` (switch).
 * The first two are the authorizer's tenant-less routes: a new user reaches them with no tenant and no
 * credentials, so this function uses its own role (least privilege in template.yaml).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { readCallerContext } from '../../authorizer/index.js';
import { createTenantService } from '../../tenants/index.js';
import { ownTableClient, userDirectory } from '../clients.js';
import { readControlPlaneConfig } from '../config.js';
import { createRouter, json } from '../http.js';

const config = readControlPlaneConfig(process.env, true);
const logger = new Logger({ serviceName: config.serviceName });
const tenants = createTenantService({
  client: ownTableClient(config),
  tableName: config.tableName,
  directory: userDirectory(config),
});

export const handler = createRouter(
  {
    async 'POST /tenants'(request) {
      const caller = readCallerContext(request.event);
      const body = request.json();
      const result = await tenants.createTenant({
        userId: caller.userId,
        name: body.name,
        ...(body.refreshToken === undefined ? {} : { refreshToken: body.refreshToken as string }),
      });
      return json(result.resumed ? 200 : 201, {
        tenant: result.tenant,
        resumed: result.resumed,
        tokens: result.tokens ?? null,
        ...(result.tokens
          ? {}
          : { next: 'sign in again (or switch) to get tokens that carry the new tenant' }),
      });
    },
    async 'GET /me/tenants'(request) {
      const caller = readCallerContext(request.event);
      const active = caller.scope === 'tenant' ? caller.tenantId : undefined;
      return json(200, { tenants: await tenants.listTenants(caller.userId, active) });
    },
    async 'POST /me/tenant'(request) {
      const caller = readCallerContext(request.event);
      const body = request.json();
      const result = await tenants.switchTenant({
        userId: caller.userId,
        groups: caller.groups,
        tenantId: body.tenantId as string,
        refreshToken: body.refreshToken as string,
      });
      return json(200, result);
    },
  },
  logger,
  { allowedOrigins: config.allowedOrigins },
);
