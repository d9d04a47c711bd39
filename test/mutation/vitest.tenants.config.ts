import { mutationVitestConfig } from './vitest.shared.js';

export default mutationVitestConfig(['test/tenants/**/*.test.ts', 'test/mutation/loads.test.ts']);
