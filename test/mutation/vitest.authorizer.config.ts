import { mutationVitestConfig } from './vitest.shared.js';

export default mutationVitestConfig([
  'test/authorizer/**/*.test.ts',
  'test/mutation/loads.test.ts',
]);
