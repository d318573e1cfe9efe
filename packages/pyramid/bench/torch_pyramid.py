"""The pyramid of @deepmask/pyramid in PyTorch (CPU): the same architectures (random weights),
scales, padding, fine-stride pooling, ranking, mask embedding of the top N only, decoding and pasting,
timed per stage.

usage: python3 torch_pyramid.py TRUNK TOP_N RAW_IMAGE... (RAW_IMAGE: path:height:width of uint8 RGB)
Prints one JSON line: {"trunk", "images", "threads", "torch", "blas", "trunkMs", "headsMs", "rankMs", "embedMs", "decodeMs", "pasteMs",
"totalMs"} (means; trunkMs includes resizing and padding; headsMs is the score branch and the mask features).
"""
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../model/bench'))
from torch_reference import blas_library, prepare_reference_process  # noqa: E402

prepare_reference_process()

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(1)

IMAGENET = ([0.485 * 255, 0.456 * 255, 0.406 * 255], [0.229 * 255, 0.224 * 255, 0.225 * 255])
KERAS = ([127.5] * 3, [127.5] * 3)
# trunk: (iSz, oSz, head, reducedChannels, embeddingSize, scoreHiddenSizes, mean/std)
CONFIGS = {
    'vgg-a': (224, 56, 'paper', 512, 512, [512, 1024], IMAGENET),
    'resnet50': (160, 56, 'shared', 128, 512, [1024], IMAGENET),
    'mobilenet-v1': (224, 56, 'paper', 512, 512, [512, 1024], KERAS),
    'tiny': (64, 16, 'paper', 32, 64, [64, 64], IMAGENET),
}
SCALES = [2 ** (-2 + 0.5 * k) for k in range(7)]
# Windows of the top N per embedding call: oneDNN repacks the 200 MB F x F kernel per call (about 0.5 s). The
# linear runs as a convolution, all scales' windows in one call: on Netlib's reference BLAS a matrix product
# would take seconds, and on OpenBLAS it took the same time as the convolution within the machine's drift
# (0.38-1.17 s against 0.40-1.28 s for MobileNet-v1's image).
WINDOW_CHUNK_BYTES = 512 * 2 ** 20


def vgg_a():
    layers, c = [], 3
    for step in [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512]:
        if step == 'M':
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, step, 3, 1, 1), nn.ReLU()]
            c = step
    return nn.Sequential(*layers), c


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(),
            nn.Conv2d(planes, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(),
            nn.Conv2d(planes, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4))
        self.shortcut = nn.Sequential(
            nn.Conv2d(cin, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)) if cin != planes * 4 or stride != 1 else nn.Identity()

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


def resnet50():
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    c = 64
    for planes, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2)]:
        for b in range(blocks):
            layers.append(Bottleneck(c, planes, stride if b == 0 else 1))
            c = planes * 4
    return nn.Sequential(*layers), c


def mobilenet_v1():
    layers = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()]
    c = 32
    for cout, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5:
        layers += [nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False), nn.BatchNorm2d(c), nn.ReLU6(),
                   nn.Conv2d(c, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]
        c = cout
    return nn.Sequential(*layers), c


def tiny():
    layers, c = [], 3
    for w in [8, 16, 32, 32]:
        layers += [nn.Conv2d(c, w, 3, 2, 1), nn.ReLU()]
        c = w
    return nn.Sequential(*layers), c


class DenseDeepMask(nn.Module):
    def __init__(self, trunk):
        super().__init__()
        self.isz, self.osz, self.head, r, e, hidden, (mean, std) = CONFIGS[trunk]
        self.trunk, c = {'vgg-a': vgg_a, 'resnet50': resnet50, 'mobilenet-v1': mobilenet_v1, 'tiny': tiny}[trunk]()
        f = self.isz // 16
        self.reduce = nn.Conv2d(c, r, 1)
        self.embed = nn.Conv2d(r, e, f)  # the F x F linear, densely
        if self.head == 'paper':
            sizes = [hidden[0]] + hidden[1:] + [1]
            self.score_first = nn.Conv2d(c, hidden[0], f // 2)
            rest = []
            for a, b in zip(sizes[:-1], sizes[1:]):
                rest += [nn.ReLU(), nn.Conv2d(a, b, 1)]
            self.score_rest = nn.Sequential(*rest)
        else:
            sizes = [e] + hidden + [1]
            rest = []
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
                rest += ([nn.ReLU()] if i > 0 else []) + [nn.Conv2d(a, b, 1)]
            self.score_rest = nn.Sequential(*rest)
        self.decode = nn.Conv2d(e, self.osz * self.osz, 1)  # the last mask linear, as a 1x1 conv (see above)
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1))

    def dense_scores(self, feats, height, width):
        """trunk features of an [1, 3, H, W] input -> score logits [h, w] and the mask features: the reduced
        features [1, r, h + F - 1, w + F - 1] ('paper') or the dense embedding [1, E, h, w] ('shared')."""
        rows, cols = height // 16, width // 16
        feats = feats[:, :, :rows, :cols]
        reduced = F.relu(self.reduce(feats))
        if self.head == 'shared':
            emb = self.embed(reduced)
            return self.score_rest(emb)[0, 0], emb
        f = self.isz // 16
        h, w = rows - f + 1, cols - f + 1
        # OverFeat fine-stride pooling: pool at the 4 offsets, interleave
        score = torch.zeros(2 * math.ceil(h / 2), 2 * math.ceil(w / 2))
        for dy in (0, 1):
            for dx in (0, 1):
                s = self.score_rest(self.score_first(F.max_pool2d(feats[:, :, dy:, dx:], 2)))[0, 0]
                score[dy::2, dx::2][:s.shape[0], :s.shape[1]] = s[:math.ceil((h - dy) / 2), :math.ceil((w - dx) / 2)]
        return score[:h, :w], reduced

    def cell_inputs(self, features, rows, cols):
        """mask features of one scale -> what the embedding of cells (rows[k], cols[k]) reads: their
        embeddings [K, E] ('shared') or their F x F windows [K, r, F, F] ('paper')."""
        if self.head == 'shared':
            return features[0][:, rows, cols].t()
        f = self.isz // 16
        # slices: faster than advanced indexing here
        return torch.stack([features[0, :, i:i + f, j:j + f] for i, j in zip(rows.tolist(), cols.tolist())])

    def embed_cells(self, inputs):
        """cell_inputs of any scales, concatenated -> the embeddings [K, E]: the F x F linear as a conv."""
        if self.head == 'shared':
            return inputs
        per_chunk = max(1, WINDOW_CHUNK_BYTES // (4 * inputs[0].numel()))
        return torch.cat([self.embed(inputs[k:k + per_chunk]).flatten(1) for k in range(0, len(inputs), per_chunk)])


def rle_counts(mask):
    flat = mask.T.reshape(-1)
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    counts = np.diff(bounds)
    return counts if flat[0] == 0 else np.concatenate(([0], counts))


@torch.no_grad()
def propose(model, image, top_n, threshold=0.2):
    t0 = time.perf_counter()
    height, width = image.shape[:2]
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    x = (x - model.mean) / model.std
    border = model.isz // 2
    per_scale = []
    trunk_s = 0
    for s in SCALES:
        ta = time.perf_counter()
        hs, ws = max(1, round(height * s)), max(1, round(width * s))
        xs = F.pad(F.interpolate(x, size=(hs, ws), mode='bilinear', align_corners=False), (border,) * 4)
        feats = model.trunk(xs)
        trunk_s += time.perf_counter() - ta
        score, features = model.dense_scores(feats, xs.shape[2], xs.shape[3])
        per_scale.append((ws / width, hs / height, features, score))
    t1 = time.perf_counter()
    scores = torch.cat([p[3].reshape(-1) for p in per_scale])
    best = torch.topk(scores, min(top_n, scores.numel())).indices
    offsets = torch.tensor(np.cumsum([0] + [p[3].numel() for p in per_scale]))
    scale_of = torch.searchsorted(offsets, best, right=True) - 1
    cell = best - offsets[scale_of]
    t2 = time.perf_counter()
    # the mask embedding of the top N only: their inputs gathered per scale, then back in ranking order
    inputs, chosen, order = [], [], []
    for si, (sx, sy, features, score) in enumerate(per_scale):
        at = (scale_of == si).nonzero()[:, 0]
        i, j = cell[at] // score.shape[1], cell[at] % score.shape[1]
        if at.numel() > 0:
            inputs.append(model.cell_inputs(features, i, j))
        order += at.tolist()
        chosen += [(k, si, a, b) for k, a, b in zip(at.tolist(), i.tolist(), j.tolist())]
    embeddings = torch.empty(best.numel(), model.decode.in_channels)
    embeddings[torch.tensor(order)] = model.embed_cells(torch.cat(inputs))
    chosen = [c[1:] for c in sorted(chosen)]
    t3 = time.perf_counter()
    masks = model.decode(embeddings[:, :, None, None]).view(-1, 1, model.osz, model.osz)
    t4 = time.perf_counter()
    logit = math.log(threshold / (1 - threshold))
    proposals = 0
    for (si, i, j), m in zip(chosen, masks):
        sx, sy, _, _ = per_scale[si]
        pw, ph = model.isz / sx, model.isz / sy
        x0, y0 = 16 * j / sx - pw / 2, 16 * i / sy - ph / 2
        up = F.interpolate(m[None], size=(max(1, round(ph)), max(1, round(pw))), mode='bilinear', align_corners=False)[0, 0]
        full = np.zeros((height, width), dtype=np.uint8)
        ax, ay = round(x0), round(y0)
        cx0, cy0, cx1, cy1 = max(0, ax), max(0, ay), min(width, ax + up.shape[1]), min(height, ay + up.shape[0])
        if cx1 > cx0 and cy1 > cy0:
            full[cy0:cy1, cx0:cx1] = (up[cy0 - ay:cy1 - ay, cx0 - ax:cx1 - ax] > logit).numpy()
        if full.any():
            rle_counts(full)
            proposals += 1
    t5 = time.perf_counter()
    return {'trunkMs': trunk_s * 1e3, 'headsMs': (t1 - t0 - trunk_s) * 1e3, 'rankMs': (t2 - t1) * 1e3,
            'embedMs': (t3 - t2) * 1e3, 'decodeMs': (t4 - t3) * 1e3, 'pasteMs': (t5 - t4) * 1e3,
            'totalMs': (t5 - t0) * 1e3, 'proposals': proposals}


def main():
    trunk, top_n, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    model = DenseDeepMask(trunk).eval()
    images = []
    for spec in specs:
        path, h, w = spec.split(':')
        images.append(np.fromfile(path, dtype=np.uint8).reshape(int(h), int(w), 3))
    propose(model, images[0], top_n)  # warm-up at full size, as the wasm side
    runs = [propose(model, im, top_n) for im in images]
    out = {'trunk': trunk, 'images': len(runs), 'threads': torch.get_num_threads(), 'torch': torch.__version__,
           'blas': blas_library()}
    for key in ['trunkMs', 'headsMs', 'rankMs', 'embedMs', 'decodeMs', 'pasteMs', 'totalMs', 'proposals']:
        out[key] = sum(r[key] for r in runs) / len(runs)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
