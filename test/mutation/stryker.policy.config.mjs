import { mutationGroup } from './stryker.shared.mjs';

export default mutationGroup('policy', ['policy/*.ts', '!policy/index.ts']);
