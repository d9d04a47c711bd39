/**
 * Example protected function (`GET /me`): who the authorizer says the caller is. Never returns the
 * credentials, only who and where.
 */
import { readCallerContext, TenantContextError } from '../../authorizer/index.js';
import { readAllowedOrigins } from '../config.js';
import { withCors } from '../cors.js';

const json = (statusCode: number, body: unknown) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const allowedOrigins = readAllowedOrigins(process.env);

export const handler = withCors(async (event: unknown) => {
  try {
    const caller = readCallerContext(event);
    return caller.scope === 'tenant'
      ? json(200, {
          tenantId: caller.tenantId,
          userId: caller.userId,
          role: caller.role,
          groups: caller.groups,
        })
      : json(200, { tenantId: null, userId: caller.userId, groups: caller.groups });
  } catch (error) {
    if (error instanceof TenantContextError) return json(401, { message: 'no caller context' });
    throw error;
  }
}, allowedOrigins);
