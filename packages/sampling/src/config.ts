export type BatchMode = 'mixed' | 'alternating';
export type ObjectChoice = 'uniform' | 'category-balanced';
export type Rgb = [number, number, number];

/**
 * Every knob of the sampler. Lengths in "px" are patch pixels; the defaults quoted "at 224" are the
 * paper's, and scale with `inputSizePx / 224` for other patch sizes.
 */
export interface SamplingConfig {
  /** iSz: patch side. */
  inputSizePx: number;
  /** oSz: the model's mask side (the default label size). */
  maskSizePx: number;
  /** L: side of the mask targets, covering the whole patch (default `maskSizePx`). */
  labelSizePx: number;
  batchSize: number;
  /** 'mixed': the paper's joint batches; 'alternating': the official code's one-head batches. */
  batchMode: BatchMode;
  /** Share of positives in a mixed batch and in an alternating score batch. */
  positiveFraction: number;
  /** Probability that an alternating batch is a mask batch (all positives). */
  maskBatchProbability: number;
  /** Largest box side of a positive's object, before jitter (128 at 224). */
  canonicalSizePx: number;
  /** Largest offset of a positive's object centre from the patch centre, per axis (16 at 224). */
  jitterPx: number;
  /** Largest |log2| of a positive's scale jitter (1/4). */
  scaleJitterLog2: number;
  /** A negative's patch centre is this far from every object's centre, per axis (32 at 224)... */
  negativeOffsetPx: number;
  /** ...or its scale is off the object's canonical scale by at least this |log2| (1). */
  negativeScaleLog2: number;
  /** A negative's window side is the image's larger side times 2^u, u uniform in this range. */
  negativeWindowLog2: [number, number];
  flipProbability: number;
  /** Positives skip crowd objects, objects of smaller area and boxes with a shorter side. */
  minObjectArea: number;
  minBoxSidePx: number;
  objectChoice: ObjectChoice;
  /** Padding outside the image; null: the mean of `meanColourImages` images spread over the dataset. */
  meanColour: Rgb | null;
  meanColourImages: number;
  /** Largest decode shrink (1, 2, 4 or 8): a patch of scale s reads an image decoded at 1/k, k <= 1/s. */
  maxDecodeShrink: number;
  /** Budget of the decoded-image cache. */
  cacheBytes: number;
  /** 'error': a missing, undecodable or mis-sized image fails the batch; 'skip': it is left out with a warning. */
  onBadImage: 'error' | 'skip';
}

/** `inputSizePx` and `maskSizePx` are required (a model config carries both); the rest default. */
export type SamplingConfigInput = Partial<SamplingConfig> &
  Pick<SamplingConfig, 'inputSizePx' | 'maskSizePx'>;

const PAPER_INPUT_SIZE_PX = 224;

/** The complete config: the defaults of the paper, scaled to `inputSizePx`, with `input` on top. */
export function resolveSamplingConfig(input: SamplingConfigInput): SamplingConfig {
  const perPaperPx = input.inputSizePx / PAPER_INPUT_SIZE_PX;
  const config: SamplingConfig = {
    labelSizePx: input.maskSizePx,
    batchSize: 32,
    batchMode: 'mixed',
    positiveFraction: 0.5,
    maskBatchProbability: 0.5,
    canonicalSizePx: 128 * perPaperPx,
    jitterPx: 16 * perPaperPx,
    scaleJitterLog2: 0.25,
    negativeOffsetPx: 32 * perPaperPx,
    negativeScaleLog2: 1,
    negativeWindowLog2: [-3, 0.5],
    flipProbability: 0.5,
    minObjectArea: 100,
    minBoxSidePx: 5,
    objectChoice: 'uniform',
    meanColour: null,
    meanColourImages: 16,
    maxDecodeShrink: 8,
    cacheBytes: 512 * 2 ** 20,
    onBadImage: 'error',
    ...definedFields(input),
    inputSizePx: input.inputSizePx,
    maskSizePx: input.maskSizePx,
  };
  validateSamplingConfig(config);
  return config;
}

function definedFields<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function validateSamplingConfig(config: SamplingConfig): void {
  const fail = (field: keyof SamplingConfig, expected: string): never => {
    throw new Error(`sampling config: '${field}' is ${JSON.stringify(config[field])}; expected ${expected}`);
  };
  for (const field of [
    'inputSizePx',
    'maskSizePx',
    'labelSizePx',
    'batchSize',
    'meanColourImages',
  ] as const) {
    if (!Number.isInteger(config[field]) || config[field] <= 0) fail(field, 'a positive integer');
  }
  for (const field of ['canonicalSizePx', 'cacheBytes'] as const) {
    if (!(config[field] > 0)) fail(field, 'a positive number');
  }
  for (const field of [
    'jitterPx',
    'scaleJitterLog2',
    'negativeOffsetPx',
    'negativeScaleLog2',
    'minObjectArea',
    'minBoxSidePx',
  ] as const) {
    if (!(config[field] >= 0)) fail(field, 'a number >= 0');
  }
  for (const field of ['positiveFraction', 'maskBatchProbability', 'flipProbability'] as const) {
    if (!(config[field] >= 0 && config[field] <= 1)) fail(field, 'a probability in [0, 1]');
  }
  // A positive must never pass the negative rule against its own object.
  if (config.negativeOffsetPx <= config.jitterPx)
    fail('negativeOffsetPx', `more than jitterPx (${config.jitterPx})`);
  if (config.negativeScaleLog2 <= config.scaleJitterLog2) {
    fail('negativeScaleLog2', `more than scaleJitterLog2 (${config.scaleJitterLog2})`);
  }
  const [low, high] = config.negativeWindowLog2 ?? [];
  if (!(Number.isFinite(low) && Number.isFinite(high) && low <= high))
    fail('negativeWindowLog2', '[low, high]');
  if (![1, 2, 4, 8].includes(config.maxDecodeShrink)) fail('maxDecodeShrink', '1, 2, 4 or 8');
  if (!['mixed', 'alternating'].includes(config.batchMode)) fail('batchMode', "'mixed' or 'alternating'");
  if (!['uniform', 'category-balanced'].includes(config.objectChoice)) {
    fail('objectChoice', "'uniform' or 'category-balanced'");
  }
  if (!['error', 'skip'].includes(config.onBadImage)) fail('onBadImage', "'error' or 'skip'");
  const mean = config.meanColour;
  if (mean !== null && !(Array.isArray(mean) && mean.length === 3 && mean.every((v) => v >= 0 && v <= 255))) {
    fail('meanColour', 'null or [r, g, b] in 0..255');
  }
}
