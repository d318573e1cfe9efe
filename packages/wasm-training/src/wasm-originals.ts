import type { KernelConfig, KernelSetupFunc } from '@tensorflow/tfjs-core';

/** wasm's own kernels that this package's replacements took the place of, by kernel name. */
const originals = new Map<string, KernelConfig>();

/** Keeps wasm's own kernel for a replacement to delegate to (called when registering the replacement). */
export function adoptWasmKernel(kernel: KernelConfig): void {
  originals.set(kernel.kernelName, kernel);
}

/** wasm's own `kernelName` kernel, as registered before this package replaced it. */
export function adoptedWasmKernel(kernelName: string): KernelConfig {
  const kernel = originals.get(kernelName);
  if (kernel === undefined) {
    throw new Error(
      `@deepmask/wasm-training: wasm's ${kernelName} kernel was not registered when the training kernels were; ` +
        "import '@tensorflow/tfjs-backend-wasm' before registerWasmTrainingKernels()",
    );
  }
  return kernel;
}

/**
 * The setup of a replacement that delegates to wasm's own kernel: wasm's kernels bind their C++ function in
 * their setup, which the engine runs only for registered kernels.
 */
export function wasmSetupOf(kernelName: string): KernelSetupFunc {
  return (backend) => originals.get(kernelName)?.setupFunc?.(backend);
}
