import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDeepMask, defaultConfig, formatSummary } from '../src/index.js';

const conv = (k: number, cin: number, cout: number, bias = true) => k * k * cin * cout + (bias ? cout : 0);
const linear = (inSize: number, outSize: number) => inSize * outSize + outSize;

/** The paper's heads over 512 x 14 x 14 features (224 px, oSz 56). */
const PAPER_MASK_224 = conv(1, 512, 512) + linear(512 * 14 * 14, 512) + linear(512, 56 * 56);
const PAPER_SCORE_224 = linear(512 * 7 * 7, 512) + linear(512, 1024) + linear(1024, 1);

describe('parameter counts', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('ResNet-50 at 160 px matches the official code: 15,198,016 + 1,608,768 + 526,337 = 17,333,121', () => {
    const model = createDeepMask(defaultConfig('resnet50'));
    const { params, frozenValues } = model.summary();
    expect(params).toEqual({ trunk: 15_198_016, mask: 1_608_768, score: 526_337, total: 17_333_121 });
    // Batch norm frozen as affine: 2 values per channel of bn1 and every bottleneck's norms, not counted.
    const bottleneckChannels = (planes: number, blocks: number) =>
      blocks * (planes + planes + 4 * planes) + 4 * planes;
    expect(frozenValues).toBe(
      2 * (64 + bottleneckChannels(64, 3) + bottleneckChannels(128, 4) + bottleneckChannels(256, 6)),
    );
    model.dispose();
  });

  it('VGG-A at 224 px totals 75,844,545 (about 75M as the paper says)', () => {
    const model = createDeepMask(defaultConfig('vgg-a'));
    const trunk =
      conv(3, 3, 64) +
      conv(3, 64, 128) +
      conv(3, 128, 256) +
      conv(3, 256, 256) +
      conv(3, 256, 512) +
      3 * conv(3, 512, 512);
    expect(model.summary().params).toEqual({
      trunk,
      mask: PAPER_MASK_224,
      score: PAPER_SCORE_224,
      total: trunk + PAPER_MASK_224 + PAPER_SCORE_224,
    });
    expect(trunk + PAPER_MASK_224 + PAPER_SCORE_224).toBe(75_844_545);
    model.dispose();
  });

  it('MobileNet v1 through conv_pw_11 with the paper heads', () => {
    const model = createDeepMask(defaultConfig('mobilenet-v1'));
    const blocks: [number, number][] = [
      [32, 64],
      [64, 128],
      [128, 128],
      [128, 256],
      [256, 256],
      [256, 512],
      ...Array.from({ length: 5 }, (): [number, number] => [512, 512]),
    ];
    const trunk = conv(3, 3, 32, false) + blocks.reduce((n, [cin, cout]) => n + 9 * cin + cin * cout, 0);
    expect(model.summary().params).toEqual({
      trunk,
      mask: PAPER_MASK_224,
      score: PAPER_SCORE_224,
      total: trunk + PAPER_MASK_224 + PAPER_SCORE_224,
    });
    expect(model.summary().frozenValues).toBe(
      2 * (32 + blocks.reduce((n, [cin, cout]) => n + cin + cout, 0)),
    );
    model.dispose();
  });

  it('tiny: every size comes from the config', () => {
    const config = defaultConfig('tiny', {
      inputSizePx: 64,
      maskSizePx: 16,
      trunkWidths: [8, 16, 24, 32],
      reducedChannels: 16,
      embeddingSize: 64,
      scoreHiddenSizes: [48, 40],
    });
    const model = createDeepMask(config);
    const trunk = conv(3, 3, 8) + conv(3, 8, 16) + conv(3, 16, 24) + conv(3, 24, 32);
    const mask = conv(1, 32, 16) + linear(16 * 4 * 4, 64) + linear(64, 16 * 16);
    const score = linear(32 * 2 * 2, 48) + linear(48, 40) + linear(40, 1);
    expect(model.summary().params).toEqual({ trunk, mask, score, total: trunk + mask + score });
    const trainable = model.trainableVariables.reduce((n, v) => n + v.size, 0);
    expect(trainable).toBe(trunk + mask + score);
    model.dispose();
  });

  it('summary prints a layer table and the per-part counts', () => {
    const model = createDeepMask(defaultConfig('resnet50'));
    const text = formatSummary(model.summary());
    expect(text).toContain('trunk/layer3.5/conv3');
    expect(text).toContain('| number of parameters trunk: 15,198,016');
    expect(text).toContain('| number of parameters mask branch: 1,608,768');
    expect(text).toContain('| number of parameters score branch: 526,337');
    expect(text).toContain('| number of parameters total: 17,333,121');
    model.dispose();
  });

  it('trainable variables are named and in a stable order', () => {
    const a = createDeepMask(defaultConfig('tiny'), { seed: 3 });
    const b = createDeepMask(defaultConfig('tiny'), { seed: 3 });
    const names = (m: typeof a) => m.trainableVariables.map((v) => v.name.replace(/^deepmask(_\d+)?\//, ''));
    expect(names(a)).toEqual(names(b));
    expect(names(a)[0]).toBe('trunk/conv1/kernel');
    expect(names(a).at(-1)).toBe('score/linear3/bias');
    expect(new Set(a.trainableVariables.map((v) => v.name)).size).toBe(a.trainableVariables.length);
    a.dispose();
    b.dispose();
  });
});

describe('config', () => {
  it('rejects sizes that do not fit the heads, naming the field', () => {
    expect(() => defaultConfig('tiny', { inputSizePx: 48 })).toThrow(
      /config.inputSizePx is 48; expected a positive multiple of 32/,
    );
    expect(() => defaultConfig('resnet50', { inputSizePx: 48 })).not.toThrow();
    expect(() => defaultConfig('vgg-a', { trunkWidths: [8] })).toThrow(/config.trunkWidths/);
    expect(() => defaultConfig('tiny', { dropoutRate: 1 })).toThrow(/config.dropoutRate/);
  });
});
