import { mutationGroup } from './stryker.shared.mjs';

export default mutationGroup('tenants', [
  'tenants/guarded-write.ts',
  'tenants/members.ts',
  'tenants/roles-admin.ts',
  'tenants/role-authorizer.ts',
  'tenants/membership-check.ts',
  'tenants/rights.ts',
  'tenants/limits.ts',
]);
