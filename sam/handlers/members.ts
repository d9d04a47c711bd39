/**
 * MembersFunction (`members:*`): list, invite by email, change a member's role, remove a member.
 * Table writes use the caller's tenant-scoped credentials; Cognito group and attribute calls use this
 * function's own role (the only admin actions it is granted in template.yaml).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createMembersService, createRoleAuthorizer } from '../../tenants/index.js';
import { userDirectory } from '../clients.js';
import { readControlPlaneConfig } from '../config.js';
import { createRouter, json, tenantOf } from '../http.js';

const config = readControlPlaneConfig(process.env, true);
const logger = new Logger({ serviceName: config.serviceName });
const members = createMembersService({
  tableName: config.tableName,
  roles: createRoleAuthorizer({ tableName: config.tableName, ttlMs: config.roleCacheTtlMs }),
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
);
