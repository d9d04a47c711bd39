/**
 * MembersFunction (`members:*`): list, invite by email, change a member's role, remove a member.
 * Everything runs with this function's own role: the table's control partitions (memberships, role
 * counts), which tenant credentials cannot write, and the Cognito admin actions template.yaml grants.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createMembersService, createRoleAuthorizer } from '../../tenants/index.js';
import { ownTableClient, tenantTableClients, userDirectory } from '../clients.js';
import { readControlPlaneConfig } from '../config.js';
import { createRouter, json, tenantOf } from '../http.js';

const config = readControlPlaneConfig(process.env, true);
const logger = new Logger({ serviceName: config.serviceName });
const members = createMembersService({
  client: ownTableClient(config),
  tableName: config.tableName,
  roles: createRoleAuthorizer({
    tableName: config.tableName,
    ttlMs: config.roleCacheTtlMs,
    clientFor: tenantTableClients(config),
  }),
  directory: userDirectory(config),
});

export const handler = createRouter(
  {
    async 'GET /members'(request) {
      return json(200, { members: await members.list(tenantOf(request)) });
    },
    async 'POST /members'(request) {
      const body = request.json();
      const member = await members.invite(tenantOf(request), {
        email: body.email,
        role: body.role,
      });
      return json(201, member);
    },
    async 'PUT /members/{userId}'(request) {
      const body = request.json();
      const userId = request.pathParameters.userId ?? '';
      return json(200, await members.changeRole(tenantOf(request), userId, { role: body.role }));
    },
    async 'DELETE /members/{userId}'(request) {
      await members.remove(tenantOf(request), request.pathParameters.userId ?? '');
      return json(204);
    },
  },
  logger,
  { allowedOrigins: config.allowedOrigins },
);
