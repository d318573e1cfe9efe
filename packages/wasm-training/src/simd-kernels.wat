;; Loops that no tfjs-backend-wasm kernel offers, in 128-bit SIMD on its heap (imported; the threaded
;; build's memory is shared, so `gen:wasm` also writes a variant that imports it as shared).
;; Built into src/simd-kernels-wasm.ts by `pnpm --filter @deepmask/wasm-training gen:wasm`.
(module
  (import "env" "memory" (memory 1))

  ;; target[c, r] = source[r, c] for r < blockRows, c < blockCols (both multiples of 4): 4x4 blocks, each
  ;; four 128-bit loads, eight shuffles and four stores, in 64 x 64 tiles so that a tile's source and
  ;; target rows stay in the caches and the TLB. `rows` and `cols` are the full matrix's (row strides).
  (func (export "transposeBlocks")
    (param $source i32) (param $target i32) (param $rows i32) (param $cols i32)
    (param $blockRows i32) (param $blockCols i32)
    (local $tile i32) (local $tileEnd i32) (local $strip i32) (local $stripEnd i32) (local $r i32) (local $c i32)
    (local $from i32) (local $to i32) (local $sourceRow i32) (local $targetRow i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $sourceRow (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $targetRow (i32.shl (local.get $rows) (i32.const 2)))
    (block $tilesDone
      (loop $tiles
        (br_if $tilesDone (i32.ge_u (local.get $tile) (local.get $blockRows)))
        (local.set $tileEnd (i32.add (local.get $tile) (i32.const 64)))
        (if (i32.gt_u (local.get $tileEnd) (local.get $blockRows))
          (then (local.set $tileEnd (local.get $blockRows))))
        (local.set $strip (i32.const 0))
        (block $stripsDone
          (loop $strips
            (br_if $stripsDone (i32.ge_u (local.get $strip) (local.get $blockCols)))
            (local.set $stripEnd (i32.add (local.get $strip) (i32.const 64)))
            (if (i32.gt_u (local.get $stripEnd) (local.get $blockCols))
              (then (local.set $stripEnd (local.get $blockCols))))
            (local.set $r (local.get $tile))
            (block $rowsDone
              (loop $rowBlocks
                (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $tileEnd)))
                (local.set $c (local.get $strip))
                (block $colsDone
                  (loop $colBlocks
                    (br_if $colsDone (i32.ge_u (local.get $c) (local.get $stripEnd)))
                    (local.set $from
                      (i32.add (local.get $source)
                        (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2))))
                    (local.set $r0 (v128.load (local.get $from)))
                    (local.set $r1 (v128.load (i32.add (local.get $from) (local.get $sourceRow))))
                    (local.set $r2 (v128.load (i32.add (local.get $from) (i32.shl (local.get $sourceRow) (i32.const 1)))))
                    (local.set $r3 (v128.load (i32.add (local.get $from) (i32.mul (local.get $sourceRow) (i32.const 3)))))
                    ;; (a0 b0 a1 b1), (a2 b2 a3 b3), (c0 d0 c1 d1), (c2 d2 c3 d3)
                    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                    (local.set $to
                      (i32.add (local.get $target)
                        (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2))))
                    (v128.store (local.get $to)
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                    (v128.store (i32.add (local.get $to) (local.get $targetRow))
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store (i32.add (local.get $to) (i32.shl (local.get $targetRow) (i32.const 1)))
                      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store (i32.add (local.get $to) (i32.mul (local.get $targetRow) (i32.const 3)))
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (local.set $c (i32.add (local.get $c) (i32.const 4)))
                    (br $colBlocks)))
                (local.set $r (i32.add (local.get $r) (i32.const 4)))
                (br $rowBlocks)))
            (local.set $strip (i32.add (local.get $strip) (i32.const 64)))
            (br $strips)))
        (local.set $tile (i32.add (local.get $tile) (i32.const 64)))
        (br $tiles))))

  ;; The depthwise filter gradient: out[a, b, c] += sum_{n, i, j} x[n, i sh + a - pt, j sw + b - pl, c]
  ;; dy[n, i, j, c] for x [n, hw, ww, channels] and dy [n, oh, ow, channels], over the taps inside x (the
  ;; padding costs nothing; a padded copy of x took 0.2-1.5 ms of MobileNet-v1's layers at batch 4). For
  ;; each output row and tap, sixteen (then four) channels at a time sum along the row's positions inside x
  ;; in registers (float32, at most `ow` terms) before one add to `out`: rows are the partial sums.
  (func (export "depthwiseFilterGradient")
    (param $x i32) (param $dy i32) (param $out i32)
    (param $n i32) (param $hw i32) (param $ww i32) (param $channels i32)
    (param $oh i32) (param $ow i32) (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32)
    (param $pt i32) (param $pl i32)
    (local $pixel i32) (local $xStep i32) (local $image i32) (local $i i32) (local $a i32) (local $b i32)
    (local $c i32) (local $j i32) (local $vectorEnd i32) (local $r i32) (local $off i32) (local $jLo i32)
    (local $count i32) (local $dyTap i32)
    (local $dyRow i32) (local $xRow i32) (local $xTap i32) (local $outTap i32) (local $xp i32) (local $dp i32)
    (local $acc v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $sum f32)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $xStep (i32.mul (local.get $pixel) (local.get $sw)))
    (local.set $vectorEnd (i32.and (local.get $channels) (i32.const -4)))
    (local.set $dyRow (local.get $dy))
    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u (local.get $image) (local.get $n)))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $oh)))
            (local.set $a (i32.const 0))
            (block $tapRowsDone
              (loop $tapRows
                (br_if $tapRowsDone (i32.ge_u (local.get $a) (local.get $fh)))
                (local.set $r (i32.sub (i32.add (i32.mul (local.get $i) (local.get $sh)) (local.get $a)) (local.get $pt)))
                ;; a tap row in the padding adds nothing
                (br_if $tapRowsDone (i32.ge_s (local.get $r) (local.get $hw)))
                (local.set $xRow
                  (i32.add (local.get $x)
                    (i32.mul (local.get $pixel)
                      (i32.mul (local.get $ww)
                        (i32.add (i32.mul (local.get $image) (local.get $hw)) (local.get $r))))))
                (local.set $b (select (i32.const 0) (local.get $fw) (i32.ge_s (local.get $r) (i32.const 0))))
                (block $tapsDone
                  (loop $taps
                    (br_if $tapsDone (i32.ge_u (local.get $b) (local.get $fw)))
                    ;; the row's positions j in [jLo, jLo + count) whose tap column j sw + off is inside x
                    (local.set $off (i32.sub (local.get $b) (local.get $pl)))
                    (local.set $jLo
                      (select (i32.const 0)
                        (i32.div_u (i32.sub (i32.sub (local.get $sw) (i32.const 1)) (local.get $off)) (local.get $sw))
                        (i32.ge_s (local.get $off) (i32.const 0))))
                    (local.set $count
                      (i32.sub
                        (select (i32.const 0)
                          (select (local.get $ow)
                            (i32.add (i32.div_u (i32.sub (i32.sub (local.get $ww) (i32.const 1)) (local.get $off)) (local.get $sw)) (i32.const 1))
                            (i32.lt_s (local.get $ow)
                              (i32.add (i32.div_u (i32.sub (i32.sub (local.get $ww) (i32.const 1)) (local.get $off)) (local.get $sw)) (i32.const 1))))
                          (i32.ge_s (local.get $off) (local.get $ww)))
                        (local.get $jLo)))
                    (if (i32.gt_s (local.get $count) (i32.const 0)) (then
                    (local.set $xTap
                      (i32.add (local.get $xRow)
                        (i32.mul (i32.add (i32.mul (local.get $jLo) (local.get $sw)) (local.get $off)) (local.get $pixel))))
                    (local.set $dyTap (i32.add (local.get $dyRow) (i32.mul (local.get $jLo) (local.get $pixel))))
                    (local.set $outTap
                      (i32.add (local.get $out)
                        (i32.mul (local.get $pixel)
                          (i32.add (i32.mul (local.get $a) (local.get $fw)) (local.get $b)))))
                    (local.set $c (i32.const 0))
                    ;; sixteen channels at a time, a whole cache line: four independent sums (with one,
                    ;; its chain of adds bounded the loop). MobileNet-v1's layers at batch 4 took
                    ;; 0.57-2.00 ms where they took 0.61-3.34 (the 112 x 112 ones 1.8-2.0 against 3.2-3.3)
                    (block $quadsDone
                      (loop $quads
                        (br_if $quadsDone (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $vectorEnd)))
                        (local.set $xp (i32.add (local.get $xTap) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $dp (i32.add (local.get $dyTap) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $acc (v128.const i32x4 0 0 0 0))
                        (local.set $acc1 (v128.const i32x4 0 0 0 0))
                        (local.set $acc2 (v128.const i32x4 0 0 0 0))
                        (local.set $acc3 (v128.const i32x4 0 0 0 0))
                        (local.set $j (local.get $count))
                        (loop $quadColumns
                          (local.set $acc
                            (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $xp)) (v128.load (local.get $dp)))))
                          (local.set $acc1
                            (f32x4.add (local.get $acc1)
                              (f32x4.mul (v128.load offset=16 (local.get $xp)) (v128.load offset=16 (local.get $dp)))))
                          (local.set $acc2
                            (f32x4.add (local.get $acc2)
                              (f32x4.mul (v128.load offset=32 (local.get $xp)) (v128.load offset=32 (local.get $dp)))))
                          (local.set $acc3
                            (f32x4.add (local.get $acc3)
                              (f32x4.mul (v128.load offset=48 (local.get $xp)) (v128.load offset=48 (local.get $dp)))))
                          (local.set $xp (i32.add (local.get $xp) (local.get $xStep)))
                          (local.set $dp (i32.add (local.get $dp) (local.get $pixel)))
                          (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                          (br_if $quadColumns (local.get $j)))
                        (local.set $xp (i32.add (local.get $outTap) (i32.shl (local.get $c) (i32.const 2))))
                        (v128.store (local.get $xp) (f32x4.add (v128.load (local.get $xp)) (local.get $acc)))
                        (v128.store offset=16 (local.get $xp) (f32x4.add (v128.load offset=16 (local.get $xp)) (local.get $acc1)))
                        (v128.store offset=32 (local.get $xp) (f32x4.add (v128.load offset=32 (local.get $xp)) (local.get $acc2)))
                        (v128.store offset=48 (local.get $xp) (f32x4.add (v128.load offset=48 (local.get $xp)) (local.get $acc3)))
                        (local.set $c (i32.add (local.get $c) (i32.const 16)))
                        (br $quads)))
                    (block $vectorsDone
                      (loop $vectors
                        (br_if $vectorsDone (i32.ge_u (local.get $c) (local.get $vectorEnd)))
                        (local.set $xp (i32.add (local.get $xTap) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $dp (i32.add (local.get $dyTap) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $acc (v128.const i32x4 0 0 0 0))
                        (local.set $j (local.get $count))
                        (loop $columns
                          (local.set $acc
                            (f32x4.add (local.get $acc)
                              (f32x4.mul (v128.load (local.get $xp)) (v128.load (local.get $dp)))))
                          (local.set $xp (i32.add (local.get $xp) (local.get $xStep)))
                          (local.set $dp (i32.add (local.get $dp) (local.get $pixel)))
                          (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                          (br_if $columns (local.get $j)))
                        (local.set $xp (i32.add (local.get $outTap) (i32.shl (local.get $c) (i32.const 2))))
                        (v128.store (local.get $xp) (f32x4.add (v128.load (local.get $xp)) (local.get $acc)))
                        (local.set $c (i32.add (local.get $c) (i32.const 4)))
                        (br $vectors)))
                    (block $scalarsDone
                      (loop $scalars
                        (br_if $scalarsDone (i32.ge_u (local.get $c) (local.get $channels)))
                        (local.set $xp (i32.add (local.get $xTap) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $dp (i32.add (local.get $dyTap) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $sum (f32.const 0))
                        (local.set $j (local.get $count))
                        (loop $scalarColumns
                          (local.set $sum
                            (f32.add (local.get $sum) (f32.mul (f32.load (local.get $xp)) (f32.load (local.get $dp)))))
                          (local.set $xp (i32.add (local.get $xp) (local.get $xStep)))
                          (local.set $dp (i32.add (local.get $dp) (local.get $pixel)))
                          (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                          (br_if $scalarColumns (local.get $j)))
                        (local.set $xp (i32.add (local.get $outTap) (i32.shl (local.get $c) (i32.const 2))))
                        (f32.store (local.get $xp) (f32.add (f32.load (local.get $xp)) (local.get $sum)))
                        (local.set $c (i32.add (local.get $c) (i32.const 1)))
                        (br $scalars)))))
                    (local.set $b (i32.add (local.get $b) (i32.const 1)))
                    (br $taps)))
                (local.set $a (i32.add (local.get $a) (i32.const 1)))
                (br $tapRows)))
            (local.set $dyRow (i32.add (local.get $dyRow) (i32.mul (local.get $pixel) (local.get $ow))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $image (i32.add (local.get $image) (i32.const 1)))
        (br $images))))

  ;; The column sums of values [rows, width] added in float64 onto `acc`: the sums of the even rows' chain
  ;; [width], then the odd rows' [width] (rows in pairs from the first, a last odd row to the even chain;
  ;; the last width % 4 columns, one by one, all to the even chain). Rows in blocks of about 16 KB (an even
  ;; number of them) that every strip of four columns sums while they are in L1: strips down all rows read
  ;; a quarter of each cache line they fetched, and a large matrix came from memory four times over.
  (func (export "columnSumsRows") (param $values i32) (param $rows i32) (param $width i32) (param $acc i32)
    (local $stride i32) (local $vectorWidth i32) (local $blockRows i32) (local $first i32) (local $count i32)
    (local $c i32) (local $at i32) (local $end i32) (local $even i32) (local $odd i32)
    (local $v v128) (local $w v128) (local $low v128) (local $high v128) (local $low2 v128) (local $high2 v128)
    (local $sum f64)
    (local.set $stride (i32.shl (local.get $width) (i32.const 2)))
    (local.set $vectorWidth (i32.and (local.get $width) (i32.const -4)))
    (local.set $blockRows (i32.and (i32.div_u (i32.const 16384) (local.get $stride)) (i32.const -2)))
    (if (i32.lt_u (local.get $blockRows) (i32.const 2)) (then (local.set $blockRows (i32.const 2))))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $first) (local.get $rows)))
        (local.set $count (i32.sub (local.get $rows) (local.get $first)))
        (if (i32.gt_u (local.get $count) (local.get $blockRows)) (then (local.set $count (local.get $blockRows))))
        (local.set $c (i32.const 0))
        (block $stripsDone
          (loop $strips
            (br_if $stripsDone (i32.ge_u (local.get $c) (local.get $vectorWidth)))
            (local.set $even (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))))
            (local.set $odd (i32.add (local.get $even) (i32.shl (local.get $width) (i32.const 3))))
            (local.set $low (v128.load (local.get $even)))
            (local.set $high (v128.load offset=16 (local.get $even)))
            (local.set $low2 (v128.load (local.get $odd)))
            (local.set $high2 (v128.load offset=16 (local.get $odd)))
            (local.set $at (i32.add (local.get $values)
              (i32.shl (i32.add (i32.mul (local.get $first) (local.get $width)) (local.get $c)) (i32.const 2))))
            (local.set $end (i32.add (local.get $at)
              (i32.mul (i32.and (local.get $count) (i32.const -2)) (local.get $stride))))
            (block $pairsDone
              (loop $pairs
                (br_if $pairsDone (i32.ge_u (local.get $at) (local.get $end)))
                (local.set $v (v128.load (local.get $at)))
                (local.set $w (v128.load (i32.add (local.get $at) (local.get $stride))))
                (local.set $low (f64x2.add (local.get $low) (f64x2.promote_low_f32x4 (local.get $v))))
                (local.set $high (f64x2.add (local.get $high)
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                (local.set $low2 (f64x2.add (local.get $low2) (f64x2.promote_low_f32x4 (local.get $w))))
                (local.set $high2 (f64x2.add (local.get $high2)
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w)))))
                (local.set $at (i32.add (local.get $at) (i32.shl (local.get $stride) (i32.const 1))))
                (br $pairs)))
            (if (i32.and (local.get $count) (i32.const 1))
              (then
                (local.set $v (v128.load (local.get $at)))
                (local.set $low (f64x2.add (local.get $low) (f64x2.promote_low_f32x4 (local.get $v))))
                (local.set $high (f64x2.add (local.get $high)
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
            (v128.store (local.get $even) (local.get $low))
            (v128.store offset=16 (local.get $even) (local.get $high))
            (v128.store (local.get $odd) (local.get $low2))
            (v128.store offset=16 (local.get $odd) (local.get $high2))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $strips)))
        (block $columnsDone
          (loop $columns
            (br_if $columnsDone (i32.ge_u (local.get $c) (local.get $width)))
            (local.set $even (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))))
            (local.set $sum (f64.load (local.get $even)))
            (local.set $at (i32.add (local.get $values)
              (i32.shl (i32.add (i32.mul (local.get $first) (local.get $width)) (local.get $c)) (i32.const 2))))
            (local.set $end (i32.add (local.get $at) (i32.mul (local.get $count) (local.get $stride))))
            (block $valuesDone
              (loop $valuesLoop
                (br_if $valuesDone (i32.ge_u (local.get $at) (local.get $end)))
                (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.load (local.get $at)))))
                (local.set $at (i32.add (local.get $at) (local.get $stride)))
                (br $valuesLoop)))
            (f64.store (local.get $even) (local.get $sum))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $columns)))
        (local.set $first (i32.add (local.get $first) (local.get $count)))
        (br $blocks))))

  ;; out[i] = f(values[i] op pattern[i mod period]) for i < count, op an add ($multiply 0) or a multiply
  ;; (1), f a ReLU (x < 0 ? 0 : x, as tfjs' Relu: NaN and -0 kept) where $relu is 1, else none. `period`
  ;; (a multiple of 4) values of `pattern` repeat: a per-channel operand tiled to lcm(channels, 4) values,
  ;; so that no vector crosses the end of the pattern. Vectors, then the last count % 4 values one by one.
  (func (export "channelOp")
    (param $values i32) (param $pattern i32) (param $out i32) (param $count i32) (param $period i32)
    (param $multiply i32) (param $relu i32)
    (local $at i32) (local $p i32) (local $periodEnd i32) (local $vectorEnd i32) (local $end i32)
    (local $v v128) (local $s f32)
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (local.set $vectorEnd (i32.and (local.get $end) (i32.const -16)))
    (local.set $periodEnd (i32.shl (local.get $period) (i32.const 2)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $at) (local.get $vectorEnd)))
        (local.set $v (v128.load (i32.add (local.get $values) (local.get $at))))
        (if (local.get $multiply)
          (then (local.set $v (f32x4.mul (local.get $v) (v128.load (i32.add (local.get $pattern) (local.get $p))))))
          (else (local.set $v (f32x4.add (local.get $v) (v128.load (i32.add (local.get $pattern) (local.get $p)))))))
        (if (local.get $relu)
          (then (local.set $v (f32x4.pmax (local.get $v) (v128.const f32x4 0 0 0 0)))))
        (v128.store (i32.add (local.get $out) (local.get $at)) (local.get $v))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (if (i32.eq (local.get $p) (local.get $periodEnd)) (then (local.set $p (i32.const 0))))
        (br $vectors)))
    (block $scalarsDone
      (loop $scalars
        (br_if $scalarsDone (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $s (f32.load (i32.add (local.get $values) (local.get $at))))
        (if (local.get $multiply)
          (then (local.set $s (f32.mul (local.get $s) (f32.load (i32.add (local.get $pattern) (local.get $p))))))
          (else (local.set $s (f32.add (local.get $s) (f32.load (i32.add (local.get $pattern) (local.get $p)))))))
        (if (local.get $relu)
          (then (local.set $s (select (f32.const 0) (local.get $s) (f32.lt (local.get $s) (f32.const 0))))))
        (f32.store (i32.add (local.get $out) (local.get $at)) (local.get $s))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $scalars))))

;; out[i] = values[i] scales[i mod period] + offsets[i mod period] for i < count (a multiply, then an add,
  ;; each rounded, as the two tensor ops give it), the per-channel scales and offsets tiled to `period` (a
  ;; multiple of 4) values as for channelOp. Vectors, then the last count % 4 values one by one.
  (func (export "channelAffine")
    (param $values i32) (param $scales i32) (param $offsets i32) (param $out i32) (param $count i32)
    (param $period i32)
    (local $at i32) (local $p i32) (local $periodEnd i32) (local $vectorEnd i32) (local $end i32)
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (local.set $vectorEnd (i32.and (local.get $end) (i32.const -16)))
    (local.set $periodEnd (i32.shl (local.get $period) (i32.const 2)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $at) (local.get $vectorEnd)))
        (v128.store (i32.add (local.get $out) (local.get $at))
          (f32x4.add
            (f32x4.mul
              (v128.load (i32.add (local.get $values) (local.get $at)))
              (v128.load (i32.add (local.get $scales) (local.get $p))))
            (v128.load (i32.add (local.get $offsets) (local.get $p)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (if (i32.eq (local.get $p) (local.get $periodEnd)) (then (local.set $p (i32.const 0))))
        (br $vectors)))
    (block $scalarsDone
      (loop $scalars
        (br_if $scalarsDone (i32.ge_u (local.get $at) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $at))
          (f32.add
            (f32.mul
              (f32.load (i32.add (local.get $values) (local.get $at)))
              (f32.load (i32.add (local.get $scales) (local.get $p))))
            (f32.load (i32.add (local.get $offsets) (local.get $p)))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $scalars))))

;; The gradient through a ReLU (or a ReLU6, cap 6): out = dy where 0 < y <= cap, else 0, NaN where y is
  ;; NaN, over `count` values (y the ReLU's output or input, a ReLU6's input), one pass: the values of the
  ;; tensor ops dy step(y) (cap +Infinity) or dy (step(y) - step(y - cap)). The cap comes as its float32
  ;; bits: the product's helper thread, which runs parts of it, passes i32 arguments only.
  (func (export "reluGradient") (param $dy i32) (param $y i32) (param $out i32) (param $count i32)
    (param $capBits i32)
    (local $at i32) (local $vectorEnd i32) (local $end i32) (local $v v128) (local $s f32) (local $cap f32)
    (local $caps v128)
    (local.set $cap (f32.reinterpret_i32 (local.get $capBits)))
    (local.set $caps (f32x4.splat (local.get $cap)))
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (local.set $vectorEnd (i32.and (local.get $end) (i32.const -16)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $at) (local.get $vectorEnd)))
        (local.set $v (v128.load (i32.add (local.get $y) (local.get $at))))
        (v128.store (i32.add (local.get $out) (local.get $at))
          (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $at)))
            (v128.or
              (v128.and
                (v128.and (f32x4.gt (local.get $v) (v128.const f32x4 0 0 0 0)) (f32x4.le (local.get $v) (local.get $caps)))
                (v128.const f32x4 1 1 1 1))
              (v128.and (f32x4.ne (local.get $v) (local.get $v)) (local.get $v)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vectors)))
    (block $scalarsDone
      (loop $scalars
        (br_if $scalarsDone (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $s (f32.load (i32.add (local.get $y) (local.get $at))))
        (f32.store (i32.add (local.get $out) (local.get $at))
          (f32.mul (f32.load (i32.add (local.get $dy) (local.get $at)))
            (select (f32.const 1)
              (select (local.get $s) (f32.const 0) (f32.ne (local.get $s) (local.get $s)))
              (i32.and (f32.gt (local.get $s) (f32.const 0)) (f32.le (local.get $s) (local.get $cap))))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $scalars))))

  ;; One step of SGD with momentum and weight decay over `count` parameters, in one pass: d = g + wd w,
  ;; v' = mu v + d, w' = w - lr v' (into `valueOut` and `velocityOut`), each float32 operation as the
  ;; separate tensor ops round it. The rates come as their float32 bits: the product's helper thread,
  ;; which runs parts of it, passes i32 arguments only.
  (func (export "sgdMomentum")
    (param $value i32) (param $velocity i32) (param $gradient i32) (param $valueOut i32) (param $velocityOut i32)
    (param $count i32) (param $learningRateBits i32) (param $momentumBits i32) (param $weightDecayBits i32)
    (local $at i32) (local $vectorEnd i32) (local $end i32) (local $w v128) (local $v v128)
    (local $lr v128) (local $mu v128) (local $wd v128) (local $ws f32) (local $vs f32)
    (local $learningRate f32) (local $momentum f32) (local $weightDecay f32)
    (local.set $learningRate (f32.reinterpret_i32 (local.get $learningRateBits)))
    (local.set $momentum (f32.reinterpret_i32 (local.get $momentumBits)))
    (local.set $weightDecay (f32.reinterpret_i32 (local.get $weightDecayBits)))
    (local.set $lr (f32x4.splat (local.get $learningRate)))
    (local.set $mu (f32x4.splat (local.get $momentum)))
    (local.set $wd (f32x4.splat (local.get $weightDecay)))
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (local.set $vectorEnd (i32.and (local.get $end) (i32.const -16)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $at) (local.get $vectorEnd)))
        (local.set $w (v128.load (i32.add (local.get $value) (local.get $at))))
        (local.set $v
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $velocity) (local.get $at))) (local.get $mu))
            (f32x4.add (v128.load (i32.add (local.get $gradient) (local.get $at)))
              (f32x4.mul (local.get $w) (local.get $wd)))))
        (v128.store (i32.add (local.get $velocityOut) (local.get $at)) (local.get $v))
        (v128.store (i32.add (local.get $valueOut) (local.get $at))
          (f32x4.sub (local.get $w) (f32x4.mul (local.get $v) (local.get $lr))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vectors)))
    (block $scalarsDone
      (loop $scalars
        (br_if $scalarsDone (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $ws (f32.load (i32.add (local.get $value) (local.get $at))))
        (local.set $vs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $velocity) (local.get $at))) (local.get $momentum))
            (f32.add (f32.load (i32.add (local.get $gradient) (local.get $at)))
              (f32.mul (local.get $ws) (local.get $weightDecay)))))
        (f32.store (i32.add (local.get $velocityOut) (local.get $at)) (local.get $vs))
        (f32.store (i32.add (local.get $valueOut) (local.get $at))
          (f32.sub (local.get $ws) (f32.mul (local.get $vs) (local.get $learningRate))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $scalars))))

  ;; For each of `rows` rows of `width` values (`sourceRowBytes` apart), its even columns to the next row of
  ;; `even` and its odd columns to the next row of `odd` (rows packed): two 128-bit loads, two shuffles and
  ;; two stores per eight values.
  (func (export "deinterleaveRows")
    (param $source i32) (param $sourceRowBytes i32) (param $rows i32) (param $width i32)
    (param $even i32) (param $odd i32)
    (local $row i32) (local $from i32) (local $end i32) (local $vectorEnd i32) (local $k i32)
    (local $v0 v128) (local $v1 v128)
    (local.set $end (i32.shl (local.get $width) (i32.const 2)))
    (local.set $vectorEnd (i32.and (local.get $end) (i32.const -32)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $from (i32.add (local.get $source) (i32.mul (local.get $row) (local.get $sourceRowBytes))))
        (local.set $k (i32.const 0))
        (block $vectorsDone
          (loop $vectors
            (br_if $vectorsDone (i32.ge_u (local.get $k) (local.get $vectorEnd)))
            (local.set $v0 (v128.load (i32.add (local.get $from) (local.get $k))))
            (local.set $v1 (v128.load offset=16 (i32.add (local.get $from) (local.get $k))))
            (v128.store (local.get $even)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $v0) (local.get $v1)))
            (v128.store (local.get $odd)
              (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $v0) (local.get $v1)))
            (local.set $even (i32.add (local.get $even) (i32.const 16)))
            (local.set $odd (i32.add (local.get $odd) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 32)))
            (br $vectors)))
        (block $scalarsDone
          (loop $scalars
            (br_if $scalarsDone (i32.ge_u (local.get $k) (local.get $end)))
            (f32.store (local.get $even) (f32.load (i32.add (local.get $from) (local.get $k))))
            (local.set $even (i32.add (local.get $even) (i32.const 4)))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br_if $scalarsDone (i32.ge_u (local.get $k) (local.get $end)))
            (f32.store (local.get $odd) (f32.load (i32.add (local.get $from) (local.get $k))))
            (local.set $odd (i32.add (local.get $odd) (i32.const 4)))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $scalars)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowLoop))))

  ;; The max-pool gradient of the output rows [first, end) of x [N, height, width, C] (row q is image
  ;; q / outHeight's output row q % outHeight; `channels` a multiple of 4): each window clipped to the
  ;; image as $maxPoolWindowGradient takes it, dy [N, outHeight, outWidth, C] added into dx, which the
  ;; caller zeroed, or with `assign` (windows that tile the image) stored there. Rows whose windows share
  ;; no pixel may run on different threads.
  (func (export "maxPoolGradientRows")
    (param $x i32) (param $dy i32) (param $dx i32) (param $channels i32) (param $height i32) (param $width i32)
    (param $outHeight i32) (param $outWidth i32) (param $filterHeight i32) (param $filterWidth i32)
    (param $strideH i32) (param $strideW i32) (param $padTop i32) (param $padLeft i32) (param $assign i32)
    (param $first i32) (param $end i32)
    (local $pixel i32) (local $rowBytes i32) (local $q i32) (local $image i32) (local $top i32) (local $r0 i32)
    (local $r1 i32) (local $j i32) (local $left i32) (local $c0 i32) (local $c1 i32) (local $gradient i32)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $width) (local.get $pixel)))
    (local.set $q (local.get $first))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $q) (local.get $end)))
        (local.set $image (i32.div_u (local.get $q) (local.get $outHeight)))
        (local.set $top
          (i32.sub (i32.mul (i32.rem_u (local.get $q) (local.get $outHeight)) (local.get $strideH)) (local.get $padTop)))
        (local.set $r0 (select (local.get $top) (i32.const 0) (i32.gt_s (local.get $top) (i32.const 0))))
        (local.set $r1 (i32.add (local.get $top) (local.get $filterHeight)))
        (local.set $r1 (select (local.get $r1) (local.get $height) (i32.lt_s (local.get $r1) (local.get $height))))
        (local.set $gradient (i32.mul (i32.mul (local.get $q) (local.get $outWidth)) (local.get $pixel)))
        (if (i32.lt_s (local.get $r0) (local.get $r1))
          (then
            (local.set $j (i32.const 0))
            (block $colsDone
              (loop $colLoop
                (br_if $colsDone (i32.ge_u (local.get $j) (local.get $outWidth)))
                (local.set $left (i32.sub (i32.mul (local.get $j) (local.get $strideW)) (local.get $padLeft)))
                (local.set $c0 (select (local.get $left) (i32.const 0) (i32.gt_s (local.get $left) (i32.const 0))))
                (local.set $c1 (i32.add (local.get $left) (local.get $filterWidth)))
                (local.set $c1 (select (local.get $c1) (local.get $width) (i32.lt_s (local.get $c1) (local.get $width))))
                (if (i32.lt_s (local.get $c0) (local.get $c1))
                  (then
                    (call $maxPoolWindowGradient (local.get $x) (local.get $dy) (local.get $dx)
                      (i32.add
                        (i32.mul
                          (i32.add (i32.mul (local.get $image) (local.get $height)) (local.get $r0)) (local.get $rowBytes))
                        (i32.mul (local.get $c0) (local.get $pixel)))
                      (i32.add (local.get $gradient) (i32.mul (local.get $j) (local.get $pixel)))
                      (local.get $channels) (i32.sub (local.get $r1) (local.get $r0)) (i32.sub (local.get $c1) (local.get $c0))
                      (local.get $rowBytes) (local.get $assign))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $colLoop)))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $rowLoop))))

  ;; The max-pool gradient of one window, for every channel (4 at a time; `channels` a multiple of 4): dy
  ;; added onto the window's first maximum of x (row-major; a later value replaces it only if greater) in
  ;; dx, which the caller zeroed (windows may overlap), or with `assign` stored there and zero onto the
  ;; window's other pixels (windows that tile the image). The window is `rows` x `cols` pixels from byte
  ;; `corner` of x and dx alike, rows `rowBytes` apart; its dy pixel is at byte `gradient` of dy.
  (func $maxPoolWindowGradient
    (param $x i32) (param $dy i32) (param $dx i32) (param $corner i32) (param $gradient i32)
    (param $channels i32) (param $rows i32) (param $cols i32) (param $rowBytes i32) (param $assign i32)
    (local $pixel i32) (local $c i32) (local $r i32) (local $k i32) (local $at i32) (local $index i32)
    (local $best v128) (local $winner v128) (local $value v128) (local $greater v128) (local $g v128)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (block $channelsDone
      (loop $channelLoop
        (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $pixel)))
        (local.set $best (v128.load (i32.add (local.get $x) (i32.add (local.get $corner) (local.get $c)))))
        (local.set $winner (v128.const i32x4 0 0 0 0))
        (local.set $index (i32.const 0))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $at
              (i32.add (i32.add (local.get $corner) (local.get $c)) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $k (i32.const 0))
            (block $colsDone
              (loop $colLoop
                (br_if $colsDone (i32.ge_u (local.get $k) (local.get $cols)))
                (local.set $value (v128.load (i32.add (local.get $x) (local.get $at))))
                (local.set $greater (f32x4.gt (local.get $value) (local.get $best)))
                (local.set $best (v128.bitselect (local.get $value) (local.get $best) (local.get $greater)))
                (local.set $winner
                  (v128.bitselect (i32x4.splat (local.get $index)) (local.get $winner) (local.get $greater)))
                (local.set $at (i32.add (local.get $at) (local.get $pixel)))
                (local.set $index (i32.add (local.get $index) (i32.const 1)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $colLoop)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rowLoop)))
        (local.set $g (v128.load (i32.add (local.get $dy) (i32.add (local.get $gradient) (local.get $c)))))
        (local.set $index (i32.const 0))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $at
              (i32.add (i32.add (local.get $corner) (local.get $c)) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $k (i32.const 0))
            (block $colsDone
              (loop $colLoop
                (br_if $colsDone (i32.ge_u (local.get $k) (local.get $cols)))
                (local.set $value (v128.and (local.get $g) (i32x4.eq (local.get $winner) (i32x4.splat (local.get $index)))))
                (if (i32.eqz (local.get $assign))
                  (then (local.set $value (f32x4.add (v128.load (i32.add (local.get $dx) (local.get $at))) (local.get $value)))))
                (v128.store (i32.add (local.get $dx) (local.get $at)) (local.get $value))
                (local.set $at (i32.add (local.get $at) (local.get $pixel)))
                (local.set $index (i32.add (local.get $index) (i32.const 1)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $colLoop)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rowLoop)))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $channelLoop))))

  ;; im2col, the reverse of col2imAdd below: row m of cols ([columns, fh fw C]) = the window of output
  ;; position firstColumn + m = (n, i, j): for each tap the C values of the pixel it reads (rows
  ;; i sh + a - padTop, columns j sw + b - padLeft) where that lies inside the image, zeros elsewhere; one
  ;; window row (fw taps) at a time, four values at a time. x is [N, H, W, C].
  (func (export "im2col")
    (param $x i32) (param $cols i32) (param $channels i32) (param $inHeight i32) (param $inWidth i32)
    (param $outHeight i32) (param $outWidth i32) (param $filterHeight i32) (param $filterWidth i32)
    (param $strideH i32) (param $strideW i32) (param $padTop i32) (param $padLeft i32)
    (param $firstColumn i32) (param $columns i32)
    (local $pixel i32) (local $tapRowBytes i32) (local $m i32) (local $n i32) (local $i i32) (local $j i32)
    (local $left i32) (local $first i32) (local $last i32) (local $a i32) (local $y i32) (local $col i32)
    (local $copyStart i32) (local $copyEnd i32)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $tapRowBytes (i32.mul (local.get $pixel) (local.get $filterWidth)))
    (local.set $j (i32.rem_u (local.get $firstColumn) (local.get $outWidth)))
    (local.set $i (i32.rem_u (i32.div_u (local.get $firstColumn) (local.get $outWidth)) (local.get $outHeight)))
    (local.set $n (i32.div_u (local.get $firstColumn) (i32.mul (local.get $outWidth) (local.get $outHeight))))
    (local.set $col (local.get $cols))
    (block $positionsDone
      (loop $positions
        (br_if $positionsDone (i32.ge_u (local.get $m) (local.get $columns)))
        (local.set $left (i32.sub (i32.mul (local.get $j) (local.get $strideW)) (local.get $padLeft)))
        ;; Filter columns b in [first, last) fall inside the image.
        (local.set $first (select (i32.sub (i32.const 0) (local.get $left)) (i32.const 0)
          (i32.lt_s (local.get $left) (i32.const 0))))
        (local.set $last (i32.sub (local.get $inWidth) (local.get $left)))
        (if (i32.gt_s (local.get $last) (local.get $filterWidth))
          (then (local.set $last (local.get $filterWidth))))
        (local.set $a (i32.const 0))
        (block $tapRowsDone
          (loop $tapRows
            (br_if $tapRowsDone (i32.ge_u (local.get $a) (local.get $filterHeight)))
            (local.set $y (i32.sub (i32.add (i32.mul (local.get $i) (local.get $strideH)) (local.get $a))
              (local.get $padTop)))
            ;; The window row's values from copyStart to copyEnd come from x, the others are zeros.
            (local.set $copyStart (local.get $col))
            (local.set $copyEnd (local.get $col))
            (if (i32.and (i32.and (i32.ge_s (local.get $y) (i32.const 0)) (i32.lt_s (local.get $y) (local.get $inHeight)))
                  (i32.lt_s (local.get $first) (local.get $last)))
              (then
                (local.set $copyStart (i32.add (local.get $col) (i32.mul (local.get $first) (local.get $pixel))))
                (local.set $copyEnd (i32.add (local.get $col) (i32.mul (local.get $last) (local.get $pixel))))
                (call $copyBytes
                  (i32.add (local.get $x)
                    (i32.mul (local.get $pixel)
                      (i32.add
                        (i32.mul (i32.add (i32.mul (local.get $n) (local.get $inHeight)) (local.get $y)) (local.get $inWidth))
                        (i32.add (local.get $left) (local.get $first)))))
                  (local.get $copyStart) (local.get $copyEnd))))
            (call $zeroBytes (local.get $col) (local.get $copyStart))
            (call $zeroBytes (local.get $copyEnd) (i32.add (local.get $col) (local.get $tapRowBytes)))
            (local.set $col (i32.add (local.get $col) (local.get $tapRowBytes)))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (br $tapRows)))
        ;; Next output position: j, then i, then n.
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (if (i32.eq (local.get $j) (local.get $outWidth))
          (then
            (local.set $j (i32.const 0))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (if (i32.eq (local.get $i) (local.get $outHeight))
              (then
                (local.set $i (i32.const 0))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $positions))))

  ;; The bytes from `from` onto [to, end) (a multiple of 4 bytes), four floats at a time, then one by one.
  (func $copyBytes (param $from i32) (param $to i32) (param $end i32)
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.gt_u (i32.add (local.get $to) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $to) (v128.load (local.get $from)))
        (local.set $from (i32.add (local.get $from) (i32.const 16)))
        (local.set $to (i32.add (local.get $to) (i32.const 16)))
        (br $vectors)))
    (block $scalarsDone
      (loop $scalars
        (br_if $scalarsDone (i32.ge_u (local.get $to) (local.get $end)))
        (f32.store (local.get $to) (f32.load (local.get $from)))
        (local.set $from (i32.add (local.get $from) (i32.const 4)))
        (local.set $to (i32.add (local.get $to) (i32.const 4)))
        (br $scalars))))

  ;; Zeros onto `count` floats from `to`.
  (func (export "zeroFloats") (param $to i32) (param $count i32)
    (call $zeroBytes (local.get $to) (i32.add (local.get $to) (i32.shl (local.get $count) (i32.const 2)))))

  ;; Zeros onto [to, end) (a multiple of 4 bytes).
  (func $zeroBytes (param $to i32) (param $end i32)
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.gt_u (i32.add (local.get $to) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $to) (v128.const i32x4 0 0 0 0))
        (local.set $to (i32.add (local.get $to) (i32.const 16)))
        (br $vectors)))
    (block $scalarsDone
      (loop $scalars
        (br_if $scalarsDone (i32.ge_u (local.get $to) (local.get $end)))
        (f32.store (local.get $to) (f32.const 0))
        (local.set $to (i32.add (local.get $to) (i32.const 4)))
        (br $scalars))))

  ;; dx += col2im(cols): row m of cols ([columns, fh fw C]) holds the window of
  ;; output position firstColumn + m = (n, i, j), added back onto the input pixels it read (those inside the
  ;; image: rows i sh + a - padTop, columns j sw + b - padLeft), one window row (its taps inside, C values
  ;; each, contiguous in both) at a time, four values at a time. dx is [N, H, W, C].
  (func (export "col2imAdd")
    (param $cols i32) (param $dx i32) (param $channels i32) (param $inHeight i32) (param $inWidth i32)
    (param $outHeight i32) (param $outWidth i32) (param $filterHeight i32) (param $filterWidth i32)
    (param $strideH i32) (param $strideW i32) (param $padTop i32) (param $padLeft i32)
    (param $firstColumn i32) (param $columns i32)
    (local $pixel i32) (local $tapRowBytes i32) (local $m i32) (local $n i32) (local $i i32) (local $j i32)
    (local $left i32) (local $first i32) (local $last i32) (local $a i32) (local $y i32) (local $col i32)
    (local $from i32) (local $to i32) (local $end i32)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $tapRowBytes (i32.mul (local.get $pixel) (local.get $filterWidth)))
    (local.set $j (i32.rem_u (local.get $firstColumn) (local.get $outWidth)))
    (local.set $i (i32.rem_u (i32.div_u (local.get $firstColumn) (local.get $outWidth)) (local.get $outHeight)))
    (local.set $n (i32.div_u (local.get $firstColumn) (i32.mul (local.get $outWidth) (local.get $outHeight))))
    (local.set $col (local.get $cols))
    (block $positionsDone
      (loop $positions
        (br_if $positionsDone (i32.ge_u (local.get $m) (local.get $columns)))
        (local.set $left (i32.sub (i32.mul (local.get $j) (local.get $strideW)) (local.get $padLeft)))
        ;; Filter columns b in [first, last) fall inside the image.
        (local.set $first (select (i32.sub (i32.const 0) (local.get $left)) (i32.const 0)
          (i32.lt_s (local.get $left) (i32.const 0))))
        (local.set $last (i32.sub (local.get $inWidth) (local.get $left)))
        (if (i32.gt_s (local.get $last) (local.get $filterWidth))
          (then (local.set $last (local.get $filterWidth))))
        (local.set $a (i32.const 0))
        (block $tapRowsDone
          (loop $tapRows
            (br_if $tapRowsDone (i32.ge_u (local.get $a) (local.get $filterHeight)))
            (local.set $y (i32.sub (i32.add (i32.mul (local.get $i) (local.get $strideH)) (local.get $a))
              (local.get $padTop)))
            (if (i32.and (i32.and (i32.ge_s (local.get $y) (i32.const 0)) (i32.lt_s (local.get $y) (local.get $inHeight)))
                  (i32.lt_s (local.get $first) (local.get $last)))
              (then
                ;; from: the run in cols; to: where it goes in dx; end: its last byte in cols.
                (local.set $from (i32.add (local.get $col) (i32.mul (local.get $first) (local.get $pixel))))
                (local.set $to
                  (i32.add (local.get $dx)
                    (i32.mul (local.get $pixel)
                      (i32.add
                        (i32.mul (i32.add (i32.mul (local.get $n) (local.get $inHeight)) (local.get $y)) (local.get $inWidth))
                        (i32.add (local.get $left) (local.get $first))))))
                (local.set $end (i32.add (local.get $from)
                  (i32.mul (i32.sub (local.get $last) (local.get $first)) (local.get $pixel))))
                (block $vectorsDone
                  (loop $vectors
                    (br_if $vectorsDone (i32.gt_u (i32.add (local.get $from) (i32.const 16)) (local.get $end)))
                    (v128.store (local.get $to)
                      (f32x4.add (v128.load (local.get $to)) (v128.load (local.get $from))))
                    (local.set $from (i32.add (local.get $from) (i32.const 16)))
                    (local.set $to (i32.add (local.get $to) (i32.const 16)))
                    (br $vectors)))
                (block $scalarsDone
                  (loop $scalars
                    (br_if $scalarsDone (i32.ge_u (local.get $from) (local.get $end)))
                    (f32.store (local.get $to)
                      (f32.add (f32.load (local.get $to)) (f32.load (local.get $from))))
                    (local.set $from (i32.add (local.get $from) (i32.const 4)))
                    (local.set $to (i32.add (local.get $to) (i32.const 4)))
                    (br $scalars)))))
            (local.set $col (i32.add (local.get $col) (local.get $tapRowBytes)))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (br $tapRows)))
        ;; Next output position: j, then i, then n.
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (if (i32.eq (local.get $j) (local.get $outWidth))
          (then
            (local.set $j (i32.const 0))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (if (i32.eq (local.get $i) (local.get $outHeight))
              (then
                (local.set $i (i32.const 0))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $positions))))
)
