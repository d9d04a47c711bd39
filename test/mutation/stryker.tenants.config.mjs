import { mutationGroup } from './stryker.shared.mjs';

export default mutationGroup('tenants', [
  'tenants/guarded-write.ts',
  'tenants/members.ts',
  'tenants/roles-admin.ts',
  'tenants/role-authorizer.ts',
  'tenants/membership-check.ts',
  // The membership check's cache and rule (moved out of membership-check.ts by issue 14).
  'tenants/membership-core.ts',
  'tenants/rights.ts',
  'tenants/limits.ts',
]);
