import { mutationGroup } from './stryker.shared.mjs';

export default mutationGroup('authorizer', [
  'authorizer/token.ts',
  'authorizer/tenant.ts',
  'authorizer/events.ts',
  'authorizer/context.ts',
  'authorizer/credentials.ts',
  'authorizer/authorize.ts',
  // Issue 14 moved code out of the files above: the request budget, and the tenant DynamoDB client
  // (formerly in context.ts).
  'authorizer/deadline.ts',
  'authorizer/tenant-client.ts',
]);
