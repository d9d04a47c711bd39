import { mutationGroup } from './stryker.shared.mjs';

export default mutationGroup('authorizer', [
  'authorizer/token.ts',
  'authorizer/tenant.ts',
  'authorizer/events.ts',
  'authorizer/context.ts',
  'authorizer/credentials.ts',
  'authorizer/authorize.ts',
]);
