import { BACKENDS } from './backend.js';
import type { CommandSpec, FlagSpecs } from './options.js';
import { LR_SCHEDULES } from './schedule.js';

/** Every command's flags and their defaults, in one place. */
const TRUNKS = ['mobilenet-v1', 'resnet50', 'vgg-a', 'tiny'] as const;

const backend: FlagSpecs = {
  backend: {
    type: 'string',
    choices: BACKENDS,
    default: 'wasm',
    help: 'tfjs backend (tensorflow needs tfjs-node installed)',
  },
};

const replicas: FlagSpecs = {
  replicas: {
    type: 'integer',
    min: 1,
    default: 1,
    help: 'data-parallel worker threads sharing every batch, each with wasm on one thread (1: this thread)',
  },
};

const sampling: FlagSpecs = {
  'sampler-threads': {
    type: 'integer',
    min: 0,
    default: 1,
    help: 'worker threads that compose the training batches (0: this thread, between steps)',
  },
};

const optimisation: FlagSpecs = {
  'batch-size': { type: 'integer', min: 1, default: 32, help: 'patches per batch' },
  'batch-mode': {
    type: 'string',
    choices: ['mixed', 'alternating'],
    default: 'mixed',
    help: 'joint batches (paper) or one-head batches (official code)',
  },
  lr: { type: 'number', min: 0, default: 1e-3, help: 'base learning rate' },
  'lr-schedule': {
    type: 'string',
    choices: LR_SCHEDULES,
    default: 'official',
    help: 'official: base to epoch 50, /2 to 120, /10 after',
  },
  'epoch-steps': { type: 'integer', min: 1, default: 4000, help: 'batches per epoch of the schedule' },
  momentum: { type: 'number', min: 0, default: 0.9, help: 'SGD momentum' },
  lambda: { type: 'number', min: 0, default: 1 / 32, help: 'weight of the score loss (the paper: 1/32)' },
  'weight-decay': { type: 'number', min: 0, default: 5e-4, help: 'L2 weight decay' },
  seed: { type: 'integer', min: 0, default: 1, help: 'seed of the initial weights, sampler and dropout' },
};

export const TRAIN: CommandSpec = {
  name: 'train',
  summary: 'Train (or resume) a DeepMask model on COCO-format data.',
  usage: 'deepmask train --data DIR --ann instances.json --out RUN [--val-ann FILE] [--trunk T] [options]',
  flags: {
    data: { type: 'string', required: true, help: 'folder of the training images' },
    ann: { type: 'string', required: true, help: 'COCO instances JSON of the training images' },
    'val-data': { type: 'string', help: 'folder of the validation images (default: --data)' },
    'val-ann': {
      type: 'string',
      help: 'COCO instances JSON for periodic validation AR (none: no evaluation)',
    },
    trunk: { type: 'string', choices: TRUNKS, default: 'mobilenet-v1', help: 'trunk network' },
    'trunk-weights': {
      type: 'string',
      help: 'ImageNet MobileNet v1 weights: tfjs model.json, its folder or a URL',
    },
    'input-size': { type: 'integer', min: 16, help: "patch side iSz (default: the trunk's)" },
    head: {
      type: 'string',
      choices: ['paper', 'shared'],
      help: "heads: the paper's, or the official code's shared 1x1 conv to 128 + linear (default: the trunk's)",
    },
    out: { type: 'string', required: true, help: 'run folder to write' },
    resume: { type: 'boolean', default: false, help: 'continue the run in --out from its checkpoint' },
    'max-steps': { type: 'integer', min: 0, help: 'stop after this many steps in total' },
    'max-minutes': {
      type: 'number',
      min: 0,
      help: 'stop cleanly after this much wall time (final checkpoint)',
    },
    ...optimisation,
    'eval-every': {
      type: 'integer',
      min: 0,
      default: 500,
      help: 'steps between validation evaluations (0: at the end only)',
    },
    'eval-images': { type: 'integer', min: 1, default: 50, help: 'validation images per evaluation' },
    'eval-top-n': { type: 'integer', min: 1, default: 1000, help: 'proposals per image in evaluation' },
    'checkpoint-every': {
      type: 'integer',
      min: 0,
      default: 200,
      help: 'steps between checkpoints (0: at the end only)',
    },
    ...sampling,
    ...backend,
    ...replicas,
  },
};

export const EVAL: CommandSpec = {
  name: 'eval',
  summary: 'Evaluate a model with the pyramid: class-agnostic COCO AR for masks and boxes.',
  usage: 'deepmask eval --model RUN --data DIR --ann instances.json [--json] [options]',
  flags: {
    model: { type: 'string', required: true, help: 'run folder, model folder (model.json) or URL' },
    data: { type: 'string', required: true, help: 'folder of the images' },
    ann: { type: 'string', required: true, help: 'COCO instances JSON' },
    json: {
      type: 'boolean',
      default: false,
      help: 'print {"segm": ..., "bbox": ...} as coco-eval --proposals does',
    },
    results: {
      type: 'string',
      help: 'where to write the COCO results JSON (default: RUN/eval/results.json)',
    },
    'max-images': { type: 'integer', min: 1, help: 'evaluate the first N images only' },
    'top-n': { type: 'integer', min: 1, default: 1000, help: 'proposals per image' },
    ...backend,
  },
};

export const INFER: CommandSpec = {
  name: 'infer',
  summary: 'Propose object masks for images: a proposals JSON and an overlay PNG per image.',
  usage: 'deepmask infer --model RUN [--out DIR] IMAGE...',
  positionals: 'IMAGE...',
  flags: {
    model: { type: 'string', required: true, help: 'run folder, model folder (model.json) or URL' },
    out: {
      type: 'string',
      default: 'proposals',
      help: 'folder for <image>.proposals.json and <image>.overlay.png',
    },
    'top-n': { type: 'integer', min: 1, default: 100, help: 'proposals per image in the JSON' },
    show: { type: 'integer', min: 0, default: 8, help: 'best proposals drawn on the overlay' },
    ...backend,
  },
};

export const SUMMARY: CommandSpec = {
  name: 'summary',
  summary: 'Print the layer table and parameter counts (trunk, mask head, score head, total).',
  usage: 'deepmask summary --trunk T [--input N]',
  flags: {
    trunk: { type: 'string', choices: TRUNKS, default: 'mobilenet-v1', help: 'trunk network' },
    input: { type: 'integer', min: 16, help: "patch side iSz (default: the trunk's)" },
    backend: { ...backend.backend, default: 'cpu' },
  },
};

export const DEMO: CommandSpec = {
  name: 'demo',
  summary:
    'Make a synthetic COCO-format dataset, train a tiny DeepMask on it for a few minutes, and compare its AR ' +
    'with the untrained model.',
  usage: 'deepmask demo [--out RUN] [--minutes M] [--max-steps N]',
  flags: {
    out: { type: 'string', help: 'run folder (default: runs/demo-<date>-<time>)' },
    minutes: { type: 'number', min: 0, default: 5, help: 'training wall time' },
    'max-steps': { type: 'integer', min: 0, help: 'stop training after this many steps (a quick look)' },
    'train-images': { type: 'integer', min: 1, default: 300, help: 'synthetic training images' },
    'val-images': {
      type: 'integer',
      min: 1,
      default: 50,
      help: 'synthetic validation images (all are evaluated)',
    },
    ...optimisation,
    lr: { ...optimisation.lr, default: 0.05 },
    lambda: { ...optimisation.lambda, default: 1 },
    'lr-schedule': { ...optimisation['lr-schedule'], default: 'constant' },
    ...sampling,
    ...backend,
    ...replicas,
  },
};

export const COMMANDS = [DEMO, TRAIN, EVAL, INFER, SUMMARY];
