export { registerWasmTrainingKernels } from './register.js';
export { initWasmBackend } from './init-wasm-backend.js';
export type { WasmBackendChoice, WasmBackendOptions } from './init-wasm-backend.js';
