/**
 * A training sampler's worker thread (`ThreadedSampler`): loads the training split, makes the sampler it is
 * asked for, then answers each batch index with its batch, whose arrays move to the trainer's thread
 * rather than being copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSampler, type PatchSampler } from '@deepmask/sampling';
import { type CocoData, loadCocoData } from './coco-data.js';
import type { SamplerThreadInit, SamplerThreadReply, SamplerThreadRequest } from './threaded-sampler.js';

const port = parentPort!;
const post = (reply: SamplerThreadReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);
const { data, ann } = workerData as SamplerThreadInit;

function answer(train: CocoData): void {
  let sampler: PatchSampler | Error = new Error('sampling thread: asked for a batch before its sampler');
  port.on('message', async (request: SamplerThreadRequest) => {
    if (request.kind === 'sample') {
      try {
        const { dataset, images, decoder } = train;
        sampler = createSampler({ dataset, images, decoder, config: request.config, seed: request.seed });
      } catch (error) {
        sampler = error as Error;
      }
      return;
    }
    const { index } = request;
    try {
      if (sampler instanceof Error) throw sampler;
      const batch = await sampler.batch(index);
      const { patches, maskTargets, labels } = batch;
      post({ kind: 'batch', index, batch }, [
        patches.buffer,
        maskTargets.buffer,
        labels.buffer,
      ] as ArrayBuffer[]);
    } catch (error) {
      post({ kind: 'batch-failed', index, message: (error as Error).message });
    }
  });
}

try {
  answer(await loadCocoData(data, ann));
  post({ kind: 'ready' });
} catch (error) {
  post({ kind: 'failed', name: (error as Error).name, message: (error as Error).message });
}
