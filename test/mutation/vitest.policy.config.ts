import { mutationVitestConfig } from './vitest.shared.js';

export default mutationVitestConfig(['test/policy/**/*.test.ts', 'test/mutation/loads.test.ts']);
