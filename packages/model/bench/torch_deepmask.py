"""The same DeepMask architectures as @deepmask/model, in PyTorch on CPU, for side-by-side timings.

A worker that bench.ts drives one line at a time, so that both sides alternate run by run (this
machine's speed drifts by 2x within minutes). Each stdin line is a JSON request, answered by one line:
  {"op": "about"} -> {"torch": version, "threads": count, "blas": the BLAS library that matrix products use}
  {"op": "case", "case": {name, config, patchBatch, trainBatch, denseSizePx}} -> {"ready": true}
  {"op": "ceiling", "conv": [batch, size, channels], "pointwise": [batch, size, in, out], "matMul": side}
                                                                         -> {"ready": true}
  {"op": "run", "measure": "patch" | "dense" | "train" | "conv" | "pointwise" | "matMul", "repeat": k}
                                                                         -> {"ms": mean wall time}
"run" times k back-to-back calls of the measure of the last "case" or "ceiling". Uses 2 threads.
"""
import json
import sys
import time

from torch_reference import blas_library, prepare_reference_process

prepare_reference_process()

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)


class Affine(nn.Module):
    """Batch norm frozen as a per-channel affine (buffers: not trained)."""

    def __init__(self, c):
        super().__init__()
        self.register_buffer('scale', torch.ones(1, c, 1, 1))
        self.register_buffer('offset', torch.zeros(1, c, 1, 1))

    def forward(self, x):
        return x * self.scale + self.offset


class SamePad(nn.Module):
    """TensorFlow 'same' padding for a stride-2 3x3 conv on an even input: one row/column after."""

    def forward(self, x):
        return F.pad(x, (0, 1, 0, 1))


def vgg_a():
    layers, c = [], 3
    for step in [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512]:
        if step == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, step, 3, padding=1), nn.ReLU(inplace=True)]
            c = step
    return nn.Sequential(*layers), 512


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, planes, 1, bias=False), Affine(planes), nn.ReLU(inplace=True),
            nn.Conv2d(planes, planes, 3, stride, 1, bias=False), Affine(planes), nn.ReLU(inplace=True),
            nn.Conv2d(planes, planes * 4, 1, bias=False), Affine(planes * 4))
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False), Affine(planes * 4))
                         if stride != 1 or cin != planes * 4 else nn.Identity())

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


def resnet50_layer3():
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), Affine(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for planes, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2)]:
        for b in range(blocks):
            layers.append(Bottleneck(cin, planes, stride if b == 0 else 1))
            cin = planes * 4
    return nn.Sequential(*layers), 1024


def mobilenet_v1():
    def conv_bn(cin, cout, k, stride, groups=1):
        pad = [SamePad()] if stride == 2 else []
        return pad + [nn.Conv2d(cin, cout, k, stride, 0 if stride == 2 else k // 2, groups=groups, bias=False),
                      Affine(cout), nn.ReLU6(inplace=True)]
    layers, c = conv_bn(3, 32, 3, 2), 32
    for cout, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5:
        layers += conv_bn(c, c, 3, stride, groups=c) + conv_bn(c, cout, 1, 1)
        c = cout
    return nn.Sequential(*layers), 512


def tiny(widths):
    layers, c = [], 3
    for w in widths:
        layers += [SamePad(), nn.Conv2d(c, w, 3, 2), nn.ReLU(inplace=True)]
        c = w
    return nn.Sequential(*layers), c


def build_trunk(config):
    name = config['trunk']
    if name == 'vgg-a':
        return vgg_a()
    if name == 'resnet50':
        return resnet50_layer3()
    if name == 'mobilenet-v1':
        return mobilenet_v1()
    return tiny(config['trunkWidths'])


class DeepMask(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        # @deepmask/model takes raw pixels and normalises them in its forward, so this one does too.
        std = torch.tensor(config['pixelStd']).view(1, 3, 1, 1)
        self.register_buffer('pixel_scale', 1 / std)
        self.register_buffer('pixel_offset', -torch.tensor(config['pixelMean']).view(1, 3, 1, 1) / std)
        self.trunk, c = build_trunk(config)
        f = config['inputSizePx'] // 16
        r, e, o = config['reducedChannels'], config['embeddingSize'], config['maskSizePx']
        hidden = config['scoreHiddenSizes']
        p = config['dropoutRate']
        self.f = f
        self.reduce = nn.Conv2d(c, r, 1)
        self.embed = nn.Linear(r * f * f, e)
        self.decode = nn.Linear(e, o * o)
        sizes = hidden + [1]
        if config['head'] == 'paper':
            first = nn.Linear(c * (f // 2) ** 2, hidden[0])
            rest = []
            for a, b in zip(sizes[:-1], sizes[1:]):
                rest += [nn.ReLU(), nn.Dropout(p), nn.Linear(a, b)]
            self.score_first, self.score_rest = first, nn.Sequential(*rest)
        else:
            layers, a = [], e
            for i, b in enumerate(sizes):
                layers += ([nn.ReLU()] if i > 0 else []) + [nn.Dropout(p), nn.Linear(a, b)]
                a = b
            self.score_rest = nn.Sequential(*layers)

    def embedding(self, features):
        return self.embed(torch.flatten(F.relu(self.reduce(features)), 1))

    def normalise(self, x):
        return x * self.pixel_scale + self.pixel_offset

    def forward(self, x):
        features = self.trunk(self.normalise(x))
        emb = self.embedding(features)
        o = self.config['maskSizePx']
        masks = self.decode(emb).view(-1, o, o)
        if self.config['head'] == 'paper':
            score = self.score_rest(self.score_first(torch.flatten(F.max_pool2d(features, 2), 1)))
        else:
            score = self.score_rest(emb)
        return masks, score.view(-1)

    def dense(self, x, by_product):
        """Linears as convolutions (by_product: as unfold + matrix product); the score's 2x2 pool at stride 16
        by fine-stride pooling."""
        features = self.trunk(self.normalise(x))
        f, r = self.f, self.config['reducedChannels']
        e = self.config['embeddingSize']
        emb = dense_linear(F.relu(self.reduce(features)), self.embed.weight.view(e, r, f, f), self.embed.bias,
                           by_product)
        if self.config['head'] == 'shared':
            return emb, conv_mlp(self.score_rest, emb)
        rows, cols = emb.shape[2], emb.shape[3]
        k = f // 2
        w = self.score_first.weight.view(-1, features.shape[1], k, k)
        out = emb.new_zeros(x.shape[0], 1, 2 * ((rows + 1) // 2), 2 * ((cols + 1) // 2))
        for dy in (0, 1):
            for dx in (0, 1):
                pooled = F.max_pool2d(features[:, :, dy:, dx:], 2)
                s = conv_mlp(self.score_rest, dense_linear(pooled, w, self.score_first.bias, by_product))
                out[:, :, dy::2, dx::2][:, :, :s.shape[2], :s.shape[3]] = s
        return emb, out[:, 0, :rows, :cols]


def dense_linear(x, weight, bias, by_product):
    """A linear over k x k windows at every position, as a convolution or as unfold + matrix product (which is
    faster depends on the shapes and the BLAS: case_measures times both)."""
    if not by_product:
        return F.conv2d(x, weight, bias)
    k = weight.shape[2]
    rows, cols = x.shape[2] - k + 1, x.shape[3] - k + 1
    windows = F.unfold(x, k).transpose(1, 2)
    return F.linear(windows, weight.flatten(1), bias).transpose(1, 2).reshape(x.shape[0], -1, rows, cols)


def conv_mlp(seq, x):
    for layer in seq:
        if isinstance(layer, nn.Linear):
            x = F.conv2d(x, layer.weight[:, :, None, None], layer.bias)
        elif isinstance(layer, nn.ReLU):
            x = F.relu(x)
    return x


def joint_loss(masks, scores, mask_targets, labels):
    """@deepmask/loss's deepMaskLoss: both terms averaged over the batch, mask term for positives only."""
    positives = (labels + 1) / 2
    per_pixel = F.softplus(-mask_targets * masks).mean(dim=(1, 2))
    return (per_pixel * positives).mean() + F.softplus(-labels * scores).mean() / 32


def case_measures(case):
    """One callable per measure of a DeepMask case: patch and dense forward, one SGD step."""
    config = case['config']
    torch.manual_seed(0)
    model = DeepMask(config)
    size, o = config['inputSizePx'], config['maskSizePx']
    patches = torch.rand(case['patchBatch'], 3, size, size) * 255
    image = torch.rand(1, 3, case['denseSizePx'], case['denseSizePx']) * 255
    n = case['trainBatch']
    batch = torch.rand(n, 3, size, size) * 255
    targets = torch.randint(0, 2, (n, o, o)).float() * 2 - 1
    labels = torch.randint(0, 2, (n,)).float() * 2 - 1
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def inference(fn):
        def run():
            model.eval()
            with torch.no_grad():
                fn()
        return run

    def step():
        model.train()
        optimizer.zero_grad()
        masks, scores = model(batch)
        joint_loss(masks, scores, targets, labels).backward()
        optimizer.step()

    dense_by_product = fastest_dense_form(model, image)
    return {'patch': inference(lambda: model(patches)),
            'dense': inference(lambda: model.dense(image, dense_by_product)), 'train': step}


def fastest_dense_form(model, image):
    """Whether the dense form runs faster with its linears as matrix products than as convolutions."""
    model.eval()
    seconds = {}
    with torch.no_grad():
        for by_product in (False, True):
            model.dense(image, by_product)
            start = time.perf_counter()
            model.dense(image, by_product)
            seconds[by_product] = time.perf_counter() - start
    return seconds[True] < seconds[False]


def ceiling_measures(request):
    """The three kernels that bound the trunks' speed, on the shapes bench.ts gives."""
    n, size, channels = request['conv']
    x = torch.rand(n, channels, size, size)
    w = torch.rand(channels, channels, 3, 3)
    pn, p_size, p_in, p_out = request['pointwise']
    px = torch.rand(pn, p_in, p_size, p_size)
    pw = torch.rand(p_out, p_in, 1, 1)
    a = torch.rand(request['matMul'], request['matMul'])

    def no_grad(fn):
        def run():
            with torch.no_grad():
                fn()
        return run

    return {'conv': no_grad(lambda: F.conv2d(x, w, padding=1)), 'pointwise': no_grad(lambda: F.conv2d(px, pw)),
            'matMul': no_grad(lambda: a @ a)}


def serve():
    measures = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request['op'] == 'about':
            reply = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas_library()}
        elif request['op'] == 'case':
            measures = case_measures(request['case'])
            reply = {'ready': True}
        elif request['op'] == 'ceiling':
            measures = ceiling_measures(request)
            reply = {'ready': True}
        else:
            run, repeat = measures[request['measure']], request['repeat']
            start = time.perf_counter()
            for _ in range(repeat):
                run()
            reply = {'ms': (time.perf_counter() - start) * 1000 / repeat}
        print(json.dumps(reply), flush=True)


if __name__ == '__main__':
    serve()
