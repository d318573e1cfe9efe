// The wat of a strided convolution's input gradient tap by tap, without a window matrix (part of the
// product module, scripts/matrix-product-wat.ts, so that it takes relaxed SIMD's fused multiply-adds and the
// product's helper thread).

import { add, get, multiplyAdd, set } from './wat.js';
/** Bytes of an input-gradient tap record (`inputGradientTaps`): ten i32s. */
export const INPUT_TAP_RECORD_BYTES = 40;

/** The positions of a group (four: splat from dy) by the two vectors of a block of eight dx channels. */
const GROUP = [0, 1, 2, 3];

/** `(if live > r) (then ...)`: the group's position r exists. */
const ifLive = (r: number, body: string) => `(if (i32.gt_u ${get('live')} (i32.const ${r})) (then ${body}))`;
/** Position r's byte offset in the group (dy: `dyLane`, dx: `dxLane`); lane 0 at the group's start. */
const at = (base: string, lane: string, r: number) =>
  r === 0 ? get(base) : add(get(base), get(`${lane}${r}`));

/**
 * `$tapInputGradient`: one filter tap's share of a strided convolution's input gradient: dx[p(i, j), c] +=
 * sum over o of dy[i, j, o] W[o, c] for rows i < rows and cols j < cols of dy positions (dyRow bytes apart
 * by row, 4 outChannels by col) and their dx pixels (dxRow and dxCol bytes apart), with W the tap's
 * [outChannels, channels] packed in panels of 8 channels (packPanels). Groups of 4 positions (splat from dy)
 * by blocks of 8 channels (two vectors of dx, channels a multiple of 8) keep their sums in eight registers
 * over all of o; a last group of fewer positions repeats its last one in the unused lanes (read in bounds,
 * not stored).
 */
function tapInputGradient(fused: boolean): string {
  const acc = (r: number, v: number) => `a${r}${v}`;
  const clamped = (r: number) =>
    `(select (i32.const ${r}) (i32.sub ${get('live')} (i32.const 1)) (i32.gt_u ${get('live')} (i32.const ${r})))`;
  const lanes = [1, 2, 3].flatMap((r) => [
    set(`dyLane${r}`, `(i32.mul ${clamped(r)} ${get('dyCol')})`),
    set(`dxLane${r}`, `(i32.mul ${clamped(r)} ${get('dxCol')})`),
  ]);
  const load = GROUP.map((r) =>
    ifLive(
      r,
      `${set('xp', at('dxBlock', 'dxLane', r))} ${set(acc(r, 0), `(v128.load ${get('xp')})`)} ${set(acc(r, 1), `(v128.load offset=16 ${get('xp')})`)}`,
    ),
  );
  const store = GROUP.map((r) =>
    ifLive(
      r,
      `${set('xp', at('dxBlock', 'dxLane', r))} (v128.store ${get('xp')} ${get(acc(r, 0))}) (v128.store offset=16 ${get('xp')} ${get(acc(r, 1))})`,
    ),
  );
  const step = GROUP.flatMap((r) => [
    set('s', `(v128.load32_splat ${at('dp', 'dyLane', r)})`),
    multiplyAdd(fused, acc(r, 0), 'w0'),
    multiplyAdd(fused, acc(r, 1), 'w1'),
  ]);
  const accumulators = GROUP.flatMap((r) => [acc(r, 0), acc(r, 1)]);
  return `
  (func $tapInputGradient
    (param $dy i32) (param $dx i32) (param $w i32) (param $rows i32) (param $cols i32)
    (param $dyRow i32) (param $dxRow i32) (param $dxCol i32) (param $channels i32) (param $outChannels i32)
    (local $dyCol i32) (local $j i32) (local $live i32) (local $c i32) (local $o i32)
    (local $dyLane1 i32) (local $dyLane2 i32) (local $dyLane3 i32) (local $dxLane1 i32) (local $dxLane2 i32) (local $dxLane3 i32)
    (local $dyGroup i32) (local $dxGroup i32) (local $dxBlock i32) (local $dp i32) (local $wp i32) (local $xp i32)
    (local $w0 v128) (local $w1 v128) (local $s v128) ${accumulators.map((a) => `(local $${a} v128)`).join(' ')}
    ${set('dyCol', `(i32.shl ${get('outChannels')} (i32.const 2))`)}
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.eqz ${get('rows')}))
        ${set('dyGroup', get('dy'))}
        ${set('dxGroup', get('dx'))}
        ${set('j', get('cols'))}
        (block $groupsDone
          (loop $groups
            (br_if $groupsDone (i32.eqz ${get('j')}))
            ${set('live', `(select (i32.const 4) ${get('j')} (i32.gt_u ${get('j')} (i32.const 4)))`)}
            ${lanes.join('\n            ')}
            ${set('c', '(i32.const 0)')}
            (block $blocksDone
              (loop $blocks
                (br_if $blocksDone (i32.ge_u ${get('c')} ${get('channels')}))
                ${set('dxBlock', add(get('dxGroup'), `(i32.shl ${get('c')} (i32.const 2))`))}
                ${load.join('\n                ')}
                ${set('dp', get('dyGroup'))}
                ${set('wp', add(get('w'), `(i32.mul ${get('c')} ${get('dyCol')})`))}
                ${set('o', get('outChannels'))}
                (loop $steps
                  ${set('w0', `(v128.load ${get('wp')})`)}
                  ${set('w1', `(v128.load offset=16 ${get('wp')})`)}
                  ${step.join('\n                  ')}
                  ${set('dp', add(get('dp'), '(i32.const 4)'))}
                  ${set('wp', add(get('wp'), '(i32.const 32)'))}
                  ${set('o', `(i32.sub ${get('o')} (i32.const 1))`)}
                  (br_if $steps ${get('o')}))
                ${store.join('\n                ')}
                ${set('c', add(get('c'), '(i32.const 8)'))}
                (br $blocks)))
            ${set('dyGroup', add(get('dyGroup'), `(i32.shl ${get('dyCol')} (i32.const 2))`))}
            ${set('dxGroup', add(get('dxGroup'), `(i32.shl ${get('dxCol')} (i32.const 2))`))}
            ${set('j', `(i32.sub ${get('j')} ${get('live')})`)}
            (br $groups)))
        ${set('dy', add(get('dy'), get('dyRow')))}
        ${set('dx', add(get('dx'), get('dxRow')))}
        ${set('rows', `(i32.sub ${get('rows')} (i32.const 1))`)}
        (br $rowLoop))))`;
}

const field = (offset: number) => `(i32.load offset=${offset} ${get('at')})`;

/**
 * `inputGradientTaps(records, count, dy, dx, packed, imageStart, imageEnd, channels, outChannels)`:
 * `$tapInputGradient` for the images imageStart .. imageEnd - 1 and each of the `count` tap records at
 * `records` (ten i32s: the byte offsets of image 0's first value in dy, its pixel in dx and the tap's
 * packed W[a, b]^T from `packed`; the rows and cols of dy positions whose pixel is inside the image; the
 * byte strides of dy's rows, dx's rows and dx's cols; dy's and dx's image sizes in bytes). Images outer:
 * an image's dx stays in the caches while every tap adds to it, and threads that take different images
 * write apart.
 */
const inputGradientTaps = `
  (func (export "inputGradientTaps")
    (param $records i32) (param $count i32) (param $dy i32) (param $dx i32) (param $packed i32)
    (param $imageStart i32) (param $imageEnd i32) (param $channels i32) (param $outChannels i32)
    (local $n i32) (local $at i32) (local $end i32)
    ${set('end', add(get('records'), `(i32.mul ${get('count')} (i32.const ${INPUT_TAP_RECORD_BYTES}))`))}
    ${set('n', get('imageStart'))}
    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u ${get('n')} ${get('imageEnd')}))
        ${set('at', get('records'))}
        (block $tapsDone
          (loop $taps
            (br_if $tapsDone (i32.ge_u ${get('at')} ${get('end')}))
            (call $tapInputGradient
              ${add(get('dy'), add(field(0), `(i32.mul ${get('n')} ${field(32)})`))}
              ${add(get('dx'), add(field(4), `(i32.mul ${get('n')} ${field(36)})`))}
              ${add(get('packed'), field(8))}
              ${[12, 16, 20, 24, 28].map(field).join(' ')} ${get('channels')} ${get('outChannels')})
            ${set('at', add(get('at'), `(i32.const ${INPUT_TAP_RECORD_BYTES})`))}
            (br $taps)))
        ${set('n', add(get('n'), '(i32.const 1)'))}
        (br $images))))`;

/** The functions above, for the product module's text. */
export function tapInputGradientWat(fused: boolean): string {
  return `${tapInputGradient(fused)}\n${inputGradientTaps}`;
}
