export type TrunkName = 'vgg-a' | 'resnet50' | 'mobilenet-v1' | 'tiny';

/**
 * 'paper': the NIPS 2015 heads (mask: 1x1 conv, linear, linear; score: 2x2 max-pool, linears).
 * 'shared': the official code's heads (1x1 conv and the first linear belong to the trunk and feed both
 * heads; mask: one linear; score: dropout, linear, ReLU, dropout, linear).
 */
export type HeadStyle = 'paper' | 'shared';

export const STRIDE_PX = 16;

/** Plain JSON data: it travels inside `model.json`. */
export interface DeepMaskConfig {
  trunk: TrunkName;
  head: HeadStyle;
  /** iSz: patch side in pixels, a multiple of 16 (of 32 for 'paper' heads, whose score branch pools 2x2). */
  inputSizePx: number;
  /** oSz: side of the mask logits, covering the whole patch. */
  maskSizePx: number;
  /** Channel widths of the 'tiny' trunk's stride-2 3x3 convs (four of them reach stride 16); [] otherwise. */
  trunkWidths: number[];
  /** Channels of the 1x1 conv before the F x F linear (512 in the paper, 128 in the official code). */
  reducedChannels: number;
  /** Width of the linear layer that every mask is decoded from (512). */
  embeddingSize: number;
  /** Hidden widths of the score branch ([512, 1024] in the paper, [1024] in the official code). */
  scoreHiddenSizes: number[];
  dropoutRate: number;
  /** Per-channel RGB mean and std in raw 0..255 pixel units: the model normalises its input itself. */
  pixelMean: [number, number, number];
  pixelStd: [number, number, number];
}

const IMAGENET_MEAN: [number, number, number] = [0.485 * 255, 0.456 * 255, 0.406 * 255];
const IMAGENET_STD: [number, number, number] = [0.229 * 255, 0.224 * 255, 0.225 * 255];
/** Keras MobileNet preprocessing: x / 127.5 - 1. */
const KERAS_MEAN: [number, number, number] = [127.5, 127.5, 127.5];
const KERAS_STD: [number, number, number] = [127.5, 127.5, 127.5];

const DEFAULTS: Record<TrunkName, DeepMaskConfig> = {
  'vgg-a': {
    trunk: 'vgg-a',
    head: 'paper',
    inputSizePx: 224,
    maskSizePx: 56,
    trunkWidths: [],
    reducedChannels: 512,
    embeddingSize: 512,
    scoreHiddenSizes: [512, 1024],
    dropoutRate: 0.5,
    pixelMean: IMAGENET_MEAN,
    pixelStd: IMAGENET_STD,
  },
  resnet50: {
    trunk: 'resnet50',
    head: 'shared',
    inputSizePx: 160,
    maskSizePx: 56,
    trunkWidths: [],
    reducedChannels: 128,
    embeddingSize: 512,
    scoreHiddenSizes: [1024],
    dropoutRate: 0.5,
    pixelMean: IMAGENET_MEAN,
    pixelStd: IMAGENET_STD,
  },
  'mobilenet-v1': {
    trunk: 'mobilenet-v1',
    head: 'paper',
    inputSizePx: 224,
    maskSizePx: 56,
    trunkWidths: [],
    reducedChannels: 512,
    embeddingSize: 512,
    scoreHiddenSizes: [512, 1024],
    dropoutRate: 0.5,
    pixelMean: KERAS_MEAN,
    pixelStd: KERAS_STD,
  },
  tiny: {
    trunk: 'tiny',
    head: 'paper',
    inputSizePx: 64,
    maskSizePx: 16,
    trunkWidths: [8, 16, 32, 32],
    reducedChannels: 32,
    embeddingSize: 64,
    scoreHiddenSizes: [64, 64],
    dropoutRate: 0.5,
    pixelMean: IMAGENET_MEAN,
    pixelStd: IMAGENET_STD,
  },
};

export const TRUNK_NAMES = Object.keys(DEFAULTS) as TrunkName[];

/** The defaults of a trunk (the paper's or the official code's sizes), with any field overridden. */
export function defaultConfig(trunk: TrunkName, overrides: Partial<DeepMaskConfig> = {}): DeepMaskConfig {
  const base = DEFAULTS[trunk];
  if (base === undefined) {
    throw new Error(`defaultConfig: unknown trunk '${trunk}'; expected one of ${TRUNK_NAMES.join(', ')}`);
  }
  const config = structuredClone({ ...base, ...overrides, trunk });
  validateConfig(config, 'defaultConfig');
  return config;
}

/** F: side of the trunk's feature map for one patch. */
export function featureSizeOf(config: DeepMaskConfig): number {
  return config.inputSizePx / STRIDE_PX;
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Throws an error naming `where` and the offending field when `config` cannot build a model. */
export function validateConfig(config: DeepMaskConfig, where: string): void {
  const fail = (field: string, expected: string): never => {
    const got = JSON.stringify((config as unknown as Record<string, unknown>)[field]);
    throw new Error(`${where}: config.${field} is ${got}; expected ${expected}`);
  };
  if (config === null || typeof config !== 'object') throw new Error(`${where}: config must be an object`);
  if (!TRUNK_NAMES.includes(config.trunk)) fail('trunk', `one of ${TRUNK_NAMES.join(', ')}`);
  if (config.head !== 'paper' && config.head !== 'shared') fail('head', "'paper' or 'shared'");
  const poolFactor = config.head === 'paper' ? 2 * STRIDE_PX : STRIDE_PX;
  if (!isPositiveInt(config.inputSizePx) || config.inputSizePx % poolFactor !== 0) {
    fail('inputSizePx', `a positive multiple of ${poolFactor} for '${config.head}' heads`);
  }
  if (!isPositiveInt(config.maskSizePx)) fail('maskSizePx', 'a positive integer');
  if (!isPositiveInt(config.reducedChannels)) fail('reducedChannels', 'a positive integer');
  if (!isPositiveInt(config.embeddingSize)) fail('embeddingSize', 'a positive integer');
  if (!Array.isArray(config.scoreHiddenSizes) || !config.scoreHiddenSizes.every(isPositiveInt)) {
    fail('scoreHiddenSizes', 'an array of positive integers');
  }
  if (!Array.isArray(config.trunkWidths) || !config.trunkWidths.every(isPositiveInt)) {
    fail('trunkWidths', 'an array of positive integers');
  }
  if (config.trunk === 'tiny' && config.trunkWidths.length !== 4) {
    fail('trunkWidths', "4 widths for the 'tiny' trunk (four stride-2 convs reach stride 16)");
  }
  if (config.trunk !== 'tiny' && config.trunkWidths.length !== 0) {
    fail('trunkWidths', `[] for the fixed '${config.trunk}' trunk`);
  }
  if (typeof config.dropoutRate !== 'number' || !(config.dropoutRate >= 0 && config.dropoutRate < 1)) {
    fail('dropoutRate', 'a number in [0, 1)');
  }
  for (const field of ['pixelMean', 'pixelStd'] as const) {
    const value = config[field];
    if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number')) {
      fail(field, 'three numbers (R, G, B) in 0..255 units');
    }
  }
  if (!config.pixelStd.every((v) => v > 0)) fail('pixelStd', 'positive numbers');
}
