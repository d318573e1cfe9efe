import { describeMemoryLimit } from './memory-limit.js';

describeMemoryLimit(2);
