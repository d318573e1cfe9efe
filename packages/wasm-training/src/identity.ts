import { Identity, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

interface SharingBackend {
  incRef(dataId: object): void;
}

/**
 * A clone that shares the input's memory (reference-counted), as the cpu backend's Identity and wasm's own
 * Reshape do: wasm kernels never write into an input. wasm's Identity copies, and tfjs clones every tensor
 * that a gradient keeps (inputs and outputs of each recorded op), so a training step made hundreds of
 * copies of activations.
 */
function identity(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  (args.backend as SharingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelFunc,
};
