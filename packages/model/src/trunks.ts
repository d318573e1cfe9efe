import type { DeepMaskConfig, TrunkName } from './config.js';
import type { LayerSpec } from './layers.js';

/** VGG-A (configuration A of Simonyan & Zisserman) without its FC layers and its last max-pool. */
function vggA(): LayerSpec[] {
  const plan: (number | 'pool')[] = [64, 'pool', 128, 'pool', 256, 256, 'pool', 512, 512, 'pool', 512, 512];
  const specs: LayerSpec[] = [];
  let block = 1;
  let index = 1;
  for (const step of plan) {
    if (step === 'pool') {
      specs.push({ kind: 'maxPool', name: `pool${block}`, size: 2, stride: 2, pad: 'valid' });
      block += 1;
      index = 1;
    } else {
      specs.push({
        kind: 'conv',
        name: `conv${block}_${index}`,
        size: 3,
        stride: 1,
        pad: 1,
        outChannels: step,
        bias: true,
      });
      specs.push({ kind: 'relu' });
      index += 1;
    }
  }
  return specs;
}

function convAffine(name: string, size: number, stride: number, outChannels: number): LayerSpec[] {
  const pad = (size - 1) / 2;
  return [
    { kind: 'conv', name, size, stride, pad, outChannels, bias: false },
    { kind: 'affine', name: `${name}_bn` },
  ];
}

/** torchvision/fb.resnet.torch bottleneck: 1x1, 3x3 (carrying the stride), 1x1 to 4x planes. */
function bottleneck(name: string, planes: number, stride: number, project: boolean): LayerSpec {
  return {
    kind: 'residual',
    name,
    body: [
      ...convAffine('conv1', 1, 1, planes),
      { kind: 'relu' },
      ...convAffine('conv2', 3, stride, planes),
      { kind: 'relu' },
      ...convAffine('conv3', 1, 1, planes * 4),
    ],
    shortcut: project ? convAffine('downsample', 1, stride, planes * 4) : [],
  };
}

/** ResNet-50 through layer3 (1024 channels at stride 16), batch norm frozen as affine. */
function resnet50(): LayerSpec[] {
  const specs: LayerSpec[] = [
    ...convAffine('conv1', 7, 2, 64),
    { kind: 'relu' },
    { kind: 'maxPool', name: 'maxpool', size: 3, stride: 2, pad: 1 },
  ];
  const layers: [number, number, number][] = [
    [64, 3, 1],
    [128, 4, 2],
    [256, 6, 2],
  ];
  layers.forEach(([planes, blocks, stride], i) => {
    for (let b = 0; b < blocks; b++) {
      specs.push(bottleneck(`layer${i + 1}.${b}`, planes, b === 0 ? stride : 1, b === 0));
    }
  });
  return specs;
}

/**
 * MobileNet v1 (alpha 1.0) through conv_pw_11, with the Keras layer names its published weights use.
 * Keras 2.1 pads every conv 'same' (for even inputs the same as ZeroPadding((0,1),(0,1)) + 'valid').
 */
function mobilenetV1(): LayerSpec[] {
  const bnRelu6 = (name: string): LayerSpec[] => [{ kind: 'affine', name: `${name}_bn` }, { kind: 'relu6' }];
  const specs: LayerSpec[] = [
    { kind: 'conv', name: 'conv1', size: 3, stride: 2, pad: 'same', outChannels: 32, bias: false },
    ...bnRelu6('conv1'),
  ];
  const blocks: [number, number][] = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
  ];
  blocks.forEach(([outChannels, stride], i) => {
    const dw = `conv_dw_${i + 1}`;
    const pw = `conv_pw_${i + 1}`;
    specs.push({ kind: 'depthwise', name: dw, size: 3, stride, pad: 'same' }, ...bnRelu6(dw));
    specs.push(
      { kind: 'conv', name: pw, size: 1, stride: 1, pad: 'same', outChannels, bias: false },
      ...bnRelu6(pw),
    );
  });
  return specs;
}

/** Four stride-2 3x3 convs with ReLU: a trunk small enough to train in seconds on a CPU. */
function tiny(widths: number[]): LayerSpec[] {
  return widths.flatMap((outChannels, i): LayerSpec[] => [
    { kind: 'conv', name: `conv${i + 1}`, size: 3, stride: 2, pad: 'same', outChannels, bias: true },
    { kind: 'relu' },
  ]);
}

export function trunkSpecs(config: DeepMaskConfig): LayerSpec[] {
  const byName: Record<TrunkName, () => LayerSpec[]> = {
    'vgg-a': vggA,
    resnet50,
    'mobilenet-v1': mobilenetV1,
    tiny: () => tiny(config.trunkWidths),
  };
  return byName[config.trunk]();
}
