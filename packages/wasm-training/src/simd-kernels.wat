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

  ;; The depthwise filter gradient: out[a, b, c] += sum_{n, i, j} x[n, i sh + a, j sw + b, c] dy[n, i, j, c]
  ;; for x the input window [n, hw, ww, channels] (padded so that every tap stays inside) and dy
  ;; [n, oh, ow, channels]. For each output row and tap, four channels at a time sum along the row in a
  ;; register (float32, at most `ow` terms) before one add to `out`: rows are the partial sums.
  (func (export "depthwiseFilterGradient")
    (param $x i32) (param $dy i32) (param $out i32)
    (param $n i32) (param $hw i32) (param $ww i32) (param $channels i32)
    (param $oh i32) (param $ow i32) (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32)
    (local $pixel i32) (local $xStep i32) (local $image i32) (local $i i32) (local $a i32) (local $b i32)
    (local $c i32) (local $j i32) (local $vectorEnd i32)
    (local $dyRow i32) (local $xRow i32) (local $xTap i32) (local $outTap i32) (local $xp i32) (local $dp i32)
    (local $acc v128) (local $sum f32)
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
                (local.set $xRow
                  (i32.add (local.get $x)
                    (i32.mul (local.get $pixel)
                      (i32.mul (local.get $ww)
                        (i32.add (i32.mul (local.get $image) (local.get $hw))
                          (i32.add (i32.mul (local.get $i) (local.get $sh)) (local.get $a)))))))
                (local.set $b (i32.const 0))
                (block $tapsDone
                  (loop $taps
                    (br_if $tapsDone (i32.ge_u (local.get $b) (local.get $fw)))
                    (local.set $xTap (i32.add (local.get $xRow) (i32.mul (local.get $b) (local.get $pixel))))
                    (local.set $outTap
                      (i32.add (local.get $out)
                        (i32.mul (local.get $pixel)
                          (i32.add (i32.mul (local.get $a) (local.get $fw)) (local.get $b)))))
                    (local.set $c (i32.const 0))
                    (block $vectorsDone
                      (loop $vectors
                        (br_if $vectorsDone (i32.ge_u (local.get $c) (local.get $vectorEnd)))
                        (local.set $xp (i32.add (local.get $xTap) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $dp (i32.add (local.get $dyRow) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $acc (v128.const i32x4 0 0 0 0))
                        (local.set $j (local.get $ow))
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
                        (local.set $dp (i32.add (local.get $dyRow) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $sum (f32.const 0))
                        (local.set $j (local.get $ow))
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
                        (br $scalars)))
                    (local.set $b (i32.add (local.get $b) (i32.const 1)))
                    (br $taps)))
                (local.set $a (i32.add (local.get $a) (i32.const 1)))
                (br $tapRows)))
            (local.set $dyRow (i32.add (local.get $dyRow) (i32.mul (local.get $pixel) (local.get $ow))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $image (i32.add (local.get $image) (i32.const 1)))
        (br $images))))

  ;; out[r, from .. end) += s b[from .. end) (byte offsets; four floats at a time up to vectorEnd).
  (func $addScaledRow
    (param $out i32) (param $b i32) (param $from i32) (param $vectorEnd i32) (param $end i32) (param $s f32)
    (local $splat v128) (local $at i32)
    (local.set $splat (f32x4.splat (local.get $s)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $from) (local.get $vectorEnd)))
        (local.set $at (i32.add (local.get $out) (local.get $from)))
        (v128.store (local.get $at)
          (f32x4.add (v128.load (local.get $at))
            (f32x4.mul (local.get $splat) (v128.load (i32.add (local.get $b) (local.get $from))))))
        (local.set $from (i32.add (local.get $from) (i32.const 16)))
        (br $vectors)))
    (block $scalarsDone
      (loop $scalars
        (br_if $scalarsDone (i32.ge_u (local.get $from) (local.get $end)))
        (local.set $at (i32.add (local.get $out) (local.get $from)))
        (f32.store (local.get $at)
          (f32.add (f32.load (local.get $at))
            (f32.mul (local.get $s) (f32.load (i32.add (local.get $b) (local.get $from))))))
        (local.set $from (i32.add (local.get $from) (i32.const 4)))
        (br $scalars))))

  ;; out[m, n] += a[m, k] b[k, n], for few rows m: each row of out is a combination of b's rows. b is
  ;; read once from memory (in blocks of 64 rows that stay in the caches while every row of a uses them)
  ;; instead of being packed; out's row takes four rows of b per pass.
  (func (export "rowCombinations")
    (param $a i32) (param $b i32) (param $out i32) (param $m i32) (param $k i32) (param $n i32)
    (local $rowBytes i32) (local $vectorEnd i32) (local $block i32) (local $blockEnd i32) (local $r i32)
    (local $t i32) (local $c i32) (local $aRow i32) (local $outRow i32) (local $at i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vectorEnd (i32.and (local.get $rowBytes) (i32.const -16)))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $block) (local.get $k)))
        (local.set $blockEnd (i32.add (local.get $block) (i32.const 64)))
        (if (i32.gt_u (local.get $blockEnd) (local.get $k))
          (then (local.set $blockEnd (local.get $k))))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $m)))
            (local.set $aRow (i32.add (local.get $a) (i32.shl (i32.mul (local.get $r) (local.get $k)) (i32.const 2))))
            (local.set $outRow (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $t (local.get $block))
            (block $quadsDone
              (loop $quads
                (br_if $quadsDone (i32.gt_u (i32.add (local.get $t) (i32.const 4)) (local.get $blockEnd)))
                (local.set $at (i32.add (local.get $aRow) (i32.shl (local.get $t) (i32.const 2))))
                (local.set $s0 (v128.load32_splat (local.get $at)))
                (local.set $s1 (v128.load32_splat offset=4 (local.get $at)))
                (local.set $s2 (v128.load32_splat offset=8 (local.get $at)))
                (local.set $s3 (v128.load32_splat offset=12 (local.get $at)))
                (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $t) (local.get $rowBytes))))
                (local.set $b1 (i32.add (local.get $b0) (local.get $rowBytes)))
                (local.set $b2 (i32.add (local.get $b1) (local.get $rowBytes)))
                (local.set $b3 (i32.add (local.get $b2) (local.get $rowBytes)))
                (local.set $c (i32.const 0))
                (block $vectorsDone
                  (loop $vectors
                    (br_if $vectorsDone (i32.ge_u (local.get $c) (local.get $vectorEnd)))
                    (local.set $at (i32.add (local.get $outRow) (local.get $c)))
                    (v128.store (local.get $at)
                      (f32x4.add (v128.load (local.get $at))
                        (f32x4.add
                          (f32x4.add
                            (f32x4.mul (local.get $s0) (v128.load (i32.add (local.get $b0) (local.get $c))))
                            (f32x4.mul (local.get $s1) (v128.load (i32.add (local.get $b1) (local.get $c)))))
                          (f32x4.add
                            (f32x4.mul (local.get $s2) (v128.load (i32.add (local.get $b2) (local.get $c))))
                            (f32x4.mul (local.get $s3) (v128.load (i32.add (local.get $b3) (local.get $c))))))))
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $vectors)))
                (call $addScaledRow (local.get $outRow) (local.get $b0) (local.get $vectorEnd) (local.get $vectorEnd)
                  (local.get $rowBytes) (f32x4.extract_lane 0 (local.get $s0)))
                (call $addScaledRow (local.get $outRow) (local.get $b1) (local.get $vectorEnd) (local.get $vectorEnd)
                  (local.get $rowBytes) (f32x4.extract_lane 0 (local.get $s1)))
                (call $addScaledRow (local.get $outRow) (local.get $b2) (local.get $vectorEnd) (local.get $vectorEnd)
                  (local.get $rowBytes) (f32x4.extract_lane 0 (local.get $s2)))
                (call $addScaledRow (local.get $outRow) (local.get $b3) (local.get $vectorEnd) (local.get $vectorEnd)
                  (local.get $rowBytes) (f32x4.extract_lane 0 (local.get $s3)))
                (local.set $t (i32.add (local.get $t) (i32.const 4)))
                (br $quads)))
            (block $singlesDone
              (loop $singles
                (br_if $singlesDone (i32.ge_u (local.get $t) (local.get $blockEnd)))
                (call $addScaledRow (local.get $outRow)
                  (i32.add (local.get $b) (i32.mul (local.get $t) (local.get $rowBytes)))
                  (i32.const 0) (local.get $vectorEnd) (local.get $rowBytes)
                  (f32.load (i32.add (local.get $aRow) (i32.shl (local.get $t) (i32.const 2)))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $singles)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $block (local.get $blockEnd))
        (br $blocks))))

  ;; One step of SGD with momentum and weight decay over `count` parameters, in one pass: d = g + wd w,
  ;; v' = mu v + d, w' = w - lr v' (into `valueOut` and `velocityOut`), each float32 operation as the
  ;; separate tensor ops round it.
  (func (export "sgdMomentum")
    (param $value i32) (param $velocity i32) (param $gradient i32) (param $valueOut i32) (param $velocityOut i32)
    (param $count i32) (param $learningRate f32) (param $momentum f32) (param $weightDecay f32)
    (local $at i32) (local $vectorEnd i32) (local $end i32) (local $w v128) (local $v v128)
    (local $lr v128) (local $mu v128) (local $wd v128) (local $ws f32) (local $vs f32)
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

  ;; Winograd F(2x2, 3x3) input tiles: for each 2x2 output tile (image, ti, tj) the 4x4 input patch at
  ;; rows 2 ti .. 2 ti + 3 and columns 2 tj .. 2 tj + 3 of x ([n, height, width, channels], padded so that
  ;; every patch is inside; channels a multiple of 4) becomes B^T d B, whose 16 entries go to the 16
  ;; matrices o0 .. o15 ([tiles, channels] each, row image tilesH tilesW + ti tilesW + tj):
  ;; B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
  (func (export "winogradInputTiles")
    (param $x i32) (param $n i32) (param $height i32) (param $width i32) (param $channels i32)
    (param $tilesH i32) (param $tilesW i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32) (param $o4 i32) (param $o5 i32) (param $o6 i32) (param $o7 i32) (param $o8 i32) (param $o9 i32) (param $o10 i32) (param $o11 i32) (param $o12 i32) (param $o13 i32) (param $o14 i32) (param $o15 i32)
    (local $pixel i32) (local $rowBytes i32) (local $image i32) (local $ti i32) (local $tj i32) (local $c i32)
    (local $patch i32) (local $out i32) (local $at i32) (local $v v128)
    (local $d00 v128) (local $d01 v128) (local $d02 v128) (local $d03 v128) (local $d10 v128) (local $d11 v128) (local $d12 v128) (local $d13 v128) (local $d20 v128) (local $d21 v128) (local $d22 v128) (local $d23 v128) (local $d30 v128) (local $d31 v128) (local $d32 v128) (local $d33 v128)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $pixel) (local.get $width)))
    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u (local.get $image) (local.get $n)))
        (local.set $ti (i32.const 0))
        (block $tileRowsDone
          (loop $tileRows
            (br_if $tileRowsDone (i32.ge_u (local.get $ti) (local.get $tilesH)))
            (local.set $tj (i32.const 0))
            (block $tilesDone
              (loop $tiles
                (br_if $tilesDone (i32.ge_u (local.get $tj) (local.get $tilesW)))
                (local.set $patch
                  (i32.add (local.get $x)
                    (i32.add
                      (i32.mul (local.get $rowBytes)
                        (i32.add (i32.mul (local.get $image) (local.get $height)) (i32.shl (local.get $ti) (i32.const 1))))
                      (i32.mul (local.get $pixel) (i32.shl (local.get $tj) (i32.const 1))))))
                (local.set $out
                  (i32.mul (local.get $pixel)
                    (i32.add (i32.mul (i32.add (i32.mul (local.get $image) (local.get $tilesH)) (local.get $ti)) (local.get $tilesW))
                      (local.get $tj))))
                (local.set $c (i32.const 0))
                (block $channelsDone
                  (loop $channelLoop
                    (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $pixel)))
                    (local.set $d00 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 0)) (i32.mul (local.get $pixel) (i32.const 0)))))))
                    (local.set $d01 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 0)) (i32.mul (local.get $pixel) (i32.const 1)))))))
                    (local.set $d02 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 0)) (i32.mul (local.get $pixel) (i32.const 2)))))))
                    (local.set $d03 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 0)) (i32.mul (local.get $pixel) (i32.const 3)))))))
                    (local.set $d10 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 1)) (i32.mul (local.get $pixel) (i32.const 0)))))))
                    (local.set $d11 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 1)) (i32.mul (local.get $pixel) (i32.const 1)))))))
                    (local.set $d12 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 1)) (i32.mul (local.get $pixel) (i32.const 2)))))))
                    (local.set $d13 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 1)) (i32.mul (local.get $pixel) (i32.const 3)))))))
                    (local.set $d20 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 2)) (i32.mul (local.get $pixel) (i32.const 0)))))))
                    (local.set $d21 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 2)) (i32.mul (local.get $pixel) (i32.const 1)))))))
                    (local.set $d22 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 2)) (i32.mul (local.get $pixel) (i32.const 2)))))))
                    (local.set $d23 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 2)) (i32.mul (local.get $pixel) (i32.const 3)))))))
                    (local.set $d30 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 3)) (i32.mul (local.get $pixel) (i32.const 0)))))))
                    (local.set $d31 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 3)) (i32.mul (local.get $pixel) (i32.const 1)))))))
                    (local.set $d32 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 3)) (i32.mul (local.get $pixel) (i32.const 2)))))))
                    (local.set $d33 (v128.load (i32.add (local.get $patch)
                      (i32.add (local.get $c) (i32.add (i32.mul (local.get $rowBytes) (i32.const 3)) (i32.mul (local.get $pixel) (i32.const 3)))))))
                    (local.set $v (f32x4.sub (local.get $d20) (local.get $d10)))
                    (local.set $d00 (f32x4.sub (local.get $d00) (local.get $d20)))
                    (local.set $d30 (f32x4.sub (local.get $d10) (local.get $d30)))
                    (local.set $d10 (f32x4.add (local.get $d10) (local.get $d20)))
                    (local.set $d20 (local.get $v))
                    (local.set $v (f32x4.sub (local.get $d21) (local.get $d11)))
                    (local.set $d01 (f32x4.sub (local.get $d01) (local.get $d21)))
                    (local.set $d31 (f32x4.sub (local.get $d11) (local.get $d31)))
                    (local.set $d11 (f32x4.add (local.get $d11) (local.get $d21)))
                    (local.set $d21 (local.get $v))
                    (local.set $v (f32x4.sub (local.get $d22) (local.get $d12)))
                    (local.set $d02 (f32x4.sub (local.get $d02) (local.get $d22)))
                    (local.set $d32 (f32x4.sub (local.get $d12) (local.get $d32)))
                    (local.set $d12 (f32x4.add (local.get $d12) (local.get $d22)))
                    (local.set $d22 (local.get $v))
                    (local.set $v (f32x4.sub (local.get $d23) (local.get $d13)))
                    (local.set $d03 (f32x4.sub (local.get $d03) (local.get $d23)))
                    (local.set $d33 (f32x4.sub (local.get $d13) (local.get $d33)))
                    (local.set $d13 (f32x4.add (local.get $d13) (local.get $d23)))
                    (local.set $d23 (local.get $v))
                    (local.set $v (f32x4.sub (local.get $d02) (local.get $d01)))
                    (local.set $d00 (f32x4.sub (local.get $d00) (local.get $d02)))
                    (local.set $d03 (f32x4.sub (local.get $d01) (local.get $d03)))
                    (local.set $d01 (f32x4.add (local.get $d01) (local.get $d02)))
                    (local.set $d02 (local.get $v))
                    (local.set $v (f32x4.sub (local.get $d12) (local.get $d11)))
                    (local.set $d10 (f32x4.sub (local.get $d10) (local.get $d12)))
                    (local.set $d13 (f32x4.sub (local.get $d11) (local.get $d13)))
                    (local.set $d11 (f32x4.add (local.get $d11) (local.get $d12)))
                    (local.set $d12 (local.get $v))
                    (local.set $v (f32x4.sub (local.get $d22) (local.get $d21)))
                    (local.set $d20 (f32x4.sub (local.get $d20) (local.get $d22)))
                    (local.set $d23 (f32x4.sub (local.get $d21) (local.get $d23)))
                    (local.set $d21 (f32x4.add (local.get $d21) (local.get $d22)))
                    (local.set $d22 (local.get $v))
                    (local.set $v (f32x4.sub (local.get $d32) (local.get $d31)))
                    (local.set $d30 (f32x4.sub (local.get $d30) (local.get $d32)))
                    (local.set $d33 (f32x4.sub (local.get $d31) (local.get $d33)))
                    (local.set $d31 (f32x4.add (local.get $d31) (local.get $d32)))
                    (local.set $d32 (local.get $v))
                    (local.set $at (i32.add (local.get $out) (local.get $c)))
                    (v128.store (i32.add (local.get $o0) (local.get $at)) (local.get $d00))
                    (v128.store (i32.add (local.get $o1) (local.get $at)) (local.get $d01))
                    (v128.store (i32.add (local.get $o2) (local.get $at)) (local.get $d02))
                    (v128.store (i32.add (local.get $o3) (local.get $at)) (local.get $d03))
                    (v128.store (i32.add (local.get $o4) (local.get $at)) (local.get $d10))
                    (v128.store (i32.add (local.get $o5) (local.get $at)) (local.get $d11))
                    (v128.store (i32.add (local.get $o6) (local.get $at)) (local.get $d12))
                    (v128.store (i32.add (local.get $o7) (local.get $at)) (local.get $d13))
                    (v128.store (i32.add (local.get $o8) (local.get $at)) (local.get $d20))
                    (v128.store (i32.add (local.get $o9) (local.get $at)) (local.get $d21))
                    (v128.store (i32.add (local.get $o10) (local.get $at)) (local.get $d22))
                    (v128.store (i32.add (local.get $o11) (local.get $at)) (local.get $d23))
                    (v128.store (i32.add (local.get $o12) (local.get $at)) (local.get $d30))
                    (v128.store (i32.add (local.get $o13) (local.get $at)) (local.get $d31))
                    (v128.store (i32.add (local.get $o14) (local.get $at)) (local.get $d32))
                    (v128.store (i32.add (local.get $o15) (local.get $at)) (local.get $d33))
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $channelLoop)))
                (local.set $tj (i32.add (local.get $tj) (i32.const 1)))
                (br $tiles)))
            (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
            (br $tileRows)))
        (local.set $image (i32.add (local.get $image) (i32.const 1)))
        (br $images))))

  ;; Winograd F(2x2, 3x3) output tiles: the 16 products m0 .. m15 ([tiles, channels] each, channels a
  ;; multiple of 4) of each tile become its 2x2 outputs A^T m A, written to y ([n, outH, outW, channels])
  ;; where they lie inside it: A^T = [1 1 1 0; 0 1 -1 -1].
  (func (export "winogradOutputTiles")
    (param $y i32) (param $n i32) (param $outH i32) (param $outW i32) (param $channels i32)
    (param $tilesH i32) (param $tilesW i32)
    (param $m0 i32) (param $m1 i32) (param $m2 i32) (param $m3 i32) (param $m4 i32) (param $m5 i32) (param $m6 i32) (param $m7 i32) (param $m8 i32) (param $m9 i32) (param $m10 i32) (param $m11 i32) (param $m12 i32) (param $m13 i32) (param $m14 i32) (param $m15 i32)
    (local $pixel i32) (local $rowBytes i32) (local $image i32) (local $ti i32) (local $tj i32) (local $c i32)
    (local $in i32) (local $at i32) (local $target i32) (local $right i32) (local $below i32)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128) (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local $v v128)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $pixel) (local.get $outW)))
    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u (local.get $image) (local.get $n)))
        (local.set $ti (i32.const 0))
        (block $tileRowsDone
          (loop $tileRows
            (br_if $tileRowsDone (i32.ge_u (local.get $ti) (local.get $tilesH)))
            (local.set $below (i32.lt_u (i32.add (i32.shl (local.get $ti) (i32.const 1)) (i32.const 1)) (local.get $outH)))
            (local.set $tj (i32.const 0))
            (block $tilesDone
              (loop $tiles
                (br_if $tilesDone (i32.ge_u (local.get $tj) (local.get $tilesW)))
                (local.set $right (i32.lt_u (i32.add (i32.shl (local.get $tj) (i32.const 1)) (i32.const 1)) (local.get $outW)))
                (local.set $in
                  (i32.mul (local.get $pixel)
                    (i32.add (i32.mul (i32.add (i32.mul (local.get $image) (local.get $tilesH)) (local.get $ti)) (local.get $tilesW))
                      (local.get $tj))))
                (local.set $target
                  (i32.add (local.get $y)
                    (i32.add
                      (i32.mul (local.get $rowBytes)
                        (i32.add (i32.mul (local.get $image) (local.get $outH)) (i32.shl (local.get $ti) (i32.const 1))))
                      (i32.mul (local.get $pixel) (i32.shl (local.get $tj) (i32.const 1))))))
                (local.set $c (i32.const 0))
                (block $channelsDone
                  (loop $channelLoop
                    (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $pixel)))
                    (local.set $at (i32.add (local.get $in) (local.get $c)))
                    (local.set $v (v128.load (i32.add (local.get $m4) (local.get $at))))
                    (local.set $s00 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $m0) (local.get $at))) (local.get $v)) (v128.load (i32.add (local.get $m8) (local.get $at)))))
                    (local.set $s10 (f32x4.sub (f32x4.sub (local.get $v) (v128.load (i32.add (local.get $m8) (local.get $at)))) (v128.load (i32.add (local.get $m12) (local.get $at)))))
                    (local.set $v (v128.load (i32.add (local.get $m5) (local.get $at))))
                    (local.set $s01 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $m1) (local.get $at))) (local.get $v)) (v128.load (i32.add (local.get $m9) (local.get $at)))))
                    (local.set $s11 (f32x4.sub (f32x4.sub (local.get $v) (v128.load (i32.add (local.get $m9) (local.get $at)))) (v128.load (i32.add (local.get $m13) (local.get $at)))))
                    (local.set $v (v128.load (i32.add (local.get $m6) (local.get $at))))
                    (local.set $s02 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $m2) (local.get $at))) (local.get $v)) (v128.load (i32.add (local.get $m10) (local.get $at)))))
                    (local.set $s12 (f32x4.sub (f32x4.sub (local.get $v) (v128.load (i32.add (local.get $m10) (local.get $at)))) (v128.load (i32.add (local.get $m14) (local.get $at)))))
                    (local.set $v (v128.load (i32.add (local.get $m7) (local.get $at))))
                    (local.set $s03 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $m3) (local.get $at))) (local.get $v)) (v128.load (i32.add (local.get $m11) (local.get $at)))))
                    (local.set $s13 (f32x4.sub (f32x4.sub (local.get $v) (v128.load (i32.add (local.get $m11) (local.get $at)))) (v128.load (i32.add (local.get $m15) (local.get $at)))))
                    (local.set $at (i32.add (local.get $target) (local.get $c)))
                    (v128.store (local.get $at)
                      (f32x4.add (f32x4.add (local.get $s00) (local.get $s01)) (local.get $s02)))
                    (if (local.get $right)
                      (then
                        (v128.store (i32.add (local.get $at) (local.get $pixel))
                          (f32x4.sub (f32x4.sub (local.get $s01) (local.get $s02)) (local.get $s03)))))
                    (if (local.get $below)
                      (then
                        (v128.store (i32.add (local.get $at) (local.get $rowBytes))
                          (f32x4.add (f32x4.add (local.get $s10) (local.get $s11)) (local.get $s12)))
                        (if (local.get $right)
                          (then
                            (v128.store (i32.add (local.get $at) (i32.add (local.get $rowBytes) (local.get $pixel)))
                              (f32x4.sub (f32x4.sub (local.get $s11) (local.get $s12)) (local.get $s13)))))))
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $channelLoop)))
                (local.set $tj (i32.add (local.get $tj) (i32.const 1)))
                (br $tiles)))
            (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
            (br $tileRows)))
        (local.set $image (i32.add (local.get $image) (i32.const 1)))
        (br $images))))

  ;; Winograd F(2x2, 3x3) output-gradient tiles: each tile's 2x2 block of dy ([n, outH, outW, channels],
  ;; zero past its last odd row and column; channels a multiple of 4) becomes A dy A^T, whose 16 entries go
  ;; to o0 .. o15 ([tiles, channels] each): the filter gradient's factor, A = [1 0; 1 1; 1 -1; 0 -1].
  (func (export "winogradGradientTiles")
    (param $dy i32) (param $n i32) (param $outH i32) (param $outW i32) (param $channels i32)
    (param $tilesH i32) (param $tilesW i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32) (param $o4 i32) (param $o5 i32) (param $o6 i32) (param $o7 i32) (param $o8 i32) (param $o9 i32) (param $o10 i32) (param $o11 i32) (param $o12 i32) (param $o13 i32) (param $o14 i32) (param $o15 i32)
    (local $pixel i32) (local $rowBytes i32) (local $image i32) (local $ti i32) (local $tj i32) (local $c i32)
    (local $source i32) (local $out i32) (local $at i32) (local $right i32) (local $below i32)
    (local $d00 v128) (local $d01 v128) (local $d10 v128) (local $d11 v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    (local $f0 v128) (local $f1 v128) (local $f2 v128) (local $f3 v128)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $pixel) (local.get $outW)))
    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u (local.get $image) (local.get $n)))
        (local.set $ti (i32.const 0))
        (block $tileRowsDone
          (loop $tileRows
            (br_if $tileRowsDone (i32.ge_u (local.get $ti) (local.get $tilesH)))
            (local.set $below (i32.lt_u (i32.add (i32.shl (local.get $ti) (i32.const 1)) (i32.const 1)) (local.get $outH)))
            (local.set $tj (i32.const 0))
            (block $tilesDone
              (loop $tiles
                (br_if $tilesDone (i32.ge_u (local.get $tj) (local.get $tilesW)))
                (local.set $right (i32.lt_u (i32.add (i32.shl (local.get $tj) (i32.const 1)) (i32.const 1)) (local.get $outW)))
                (local.set $source
                  (i32.add (local.get $dy)
                    (i32.add
                      (i32.mul (local.get $rowBytes)
                        (i32.add (i32.mul (local.get $image) (local.get $outH)) (i32.shl (local.get $ti) (i32.const 1))))
                      (i32.mul (local.get $pixel) (i32.shl (local.get $tj) (i32.const 1))))))
                (local.set $out
                  (i32.mul (local.get $pixel)
                    (i32.add (i32.mul (i32.add (i32.mul (local.get $image) (local.get $tilesH)) (local.get $ti)) (local.get $tilesW))
                      (local.get $tj))))
                (local.set $c (i32.const 0))
                (block $channelsDone
                  (loop $channelLoop
                    (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $pixel)))
                    (local.set $at (i32.add (local.get $source) (local.get $c)))
                    (local.set $d00 (v128.load (local.get $at)))
                    (local.set $d01 (v128.const i32x4 0 0 0 0))
                    (local.set $d10 (v128.const i32x4 0 0 0 0))
                    (local.set $d11 (v128.const i32x4 0 0 0 0))
                    (if (local.get $right)
                      (then (local.set $d01 (v128.load (i32.add (local.get $at) (local.get $pixel))))))
                    (if (local.get $below)
                      (then
                        (local.set $d10 (v128.load (i32.add (local.get $at) (local.get $rowBytes))))
                        (if (local.get $right)
                          (then
                            (local.set $d11
                              (v128.load (i32.add (local.get $at) (i32.add (local.get $rowBytes) (local.get $pixel)))))))))
                    ;; rows: e_r = A[r][0] d0 + A[r][1] d1 for each column (e for column 0, f for column 1)
                    (local.set $e0 (local.get $d00))
                    (local.set $e1 (f32x4.add (local.get $d00) (local.get $d10)))
                    (local.set $e2 (f32x4.sub (local.get $d00) (local.get $d10)))
                    (local.set $e3 (f32x4.neg (local.get $d10)))
                    (local.set $f0 (local.get $d01))
                    (local.set $f1 (f32x4.add (local.get $d01) (local.get $d11)))
                    (local.set $f2 (f32x4.sub (local.get $d01) (local.get $d11)))
                    (local.set $f3 (f32x4.neg (local.get $d11)))
                    (local.set $at (i32.add (local.get $out) (local.get $c)))
                    (v128.store (i32.add (local.get $o0) (local.get $at)) (local.get $e0))
                    (v128.store (i32.add (local.get $o1) (local.get $at)) (f32x4.add (local.get $e0) (local.get $f0)))
                    (v128.store (i32.add (local.get $o2) (local.get $at)) (f32x4.sub (local.get $e0) (local.get $f0)))
                    (v128.store (i32.add (local.get $o3) (local.get $at)) (f32x4.neg (local.get $f0)))
                    (v128.store (i32.add (local.get $o4) (local.get $at)) (local.get $e1))
                    (v128.store (i32.add (local.get $o5) (local.get $at)) (f32x4.add (local.get $e1) (local.get $f1)))
                    (v128.store (i32.add (local.get $o6) (local.get $at)) (f32x4.sub (local.get $e1) (local.get $f1)))
                    (v128.store (i32.add (local.get $o7) (local.get $at)) (f32x4.neg (local.get $f1)))
                    (v128.store (i32.add (local.get $o8) (local.get $at)) (local.get $e2))
                    (v128.store (i32.add (local.get $o9) (local.get $at)) (f32x4.add (local.get $e2) (local.get $f2)))
                    (v128.store (i32.add (local.get $o10) (local.get $at)) (f32x4.sub (local.get $e2) (local.get $f2)))
                    (v128.store (i32.add (local.get $o11) (local.get $at)) (f32x4.neg (local.get $f2)))
                    (v128.store (i32.add (local.get $o12) (local.get $at)) (local.get $e3))
                    (v128.store (i32.add (local.get $o13) (local.get $at)) (f32x4.add (local.get $e3) (local.get $f3)))
                    (v128.store (i32.add (local.get $o14) (local.get $at)) (f32x4.sub (local.get $e3) (local.get $f3)))
                    (v128.store (i32.add (local.get $o15) (local.get $at)) (f32x4.neg (local.get $f3)))
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $channelLoop)))
                (local.set $tj (i32.add (local.get $tj) (i32.const 1)))
                (br $tiles)))
            (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
            (br $tileRows)))
        (local.set $image (i32.add (local.get $image) (i32.const 1)))
        (br $images))))

  ;; The transformed filter U = G g G^T of Winograd F(2x2, 3x3) for every (c, o): g the 3x3 filter
  ;; [3, 3, C, O] (`size` = C O values per tap, a multiple of 4), U 16 matrices [C, O] (u0 .. u15).
  (func (export "winogradFilter")
    (param $filter i32) (param $size i32) (param $u0 i32) (param $u1 i32) (param $u2 i32) (param $u3 i32) (param $u4 i32) (param $u5 i32) (param $u6 i32) (param $u7 i32) (param $u8 i32) (param $u9 i32) (param $u10 i32) (param $u11 i32) (param $u12 i32) (param $u13 i32) (param $u14 i32) (param $u15 i32)
    (local $at i32) (local $end i32) (local $tapBytes i32) (local $t00 v128) (local $t01 v128) (local $t02 v128) (local $t10 v128) (local $t11 v128) (local $t12 v128) (local $t20 v128) (local $t21 v128) (local $t22 v128) (local $t30 v128) (local $t31 v128) (local $t32 v128)
    (local.set $tapBytes (i32.shl (local.get $size) (i32.const 2)))
    (local.set $end (i32.shl (local.get $size) (i32.const 2)))
    (block $done
      (loop $values
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $t00 (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 0))))))
        (local.set $t01 (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 1))))))
        (local.set $t02 (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 2))))))
        (local.set $t10 (f32x4.add (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 0))))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 3))))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 6))))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $t11 (f32x4.add (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 1))))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 4))))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 7))))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $t12 (f32x4.add (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 2))))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 5))))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 8))))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $t20 (f32x4.add (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 0))))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 3))))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 6))))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $t21 (f32x4.add (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 1))))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 4))))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 7))))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $t22 (f32x4.add (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 2))))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 5))))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 8))))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $t30 (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 6))))))
        (local.set $t31 (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 7))))))
        (local.set $t32 (v128.load (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 8))))))
        (v128.store (i32.add (local.get $u0) (local.get $at)) (local.get $t00))
        (v128.store (i32.add (local.get $u1) (local.get $at)) (f32x4.add (f32x4.add (f32x4.mul (local.get $t00) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $t01) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $t02) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $u2) (local.get $at)) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t00) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $t01) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $t02) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $u3) (local.get $at)) (local.get $t02))
        (v128.store (i32.add (local.get $u4) (local.get $at)) (local.get $t10))
        (v128.store (i32.add (local.get $u5) (local.get $at)) (f32x4.add (f32x4.add (f32x4.mul (local.get $t10) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $t11) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $t12) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $u6) (local.get $at)) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t10) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $t11) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $t12) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $u7) (local.get $at)) (local.get $t12))
        (v128.store (i32.add (local.get $u8) (local.get $at)) (local.get $t20))
        (v128.store (i32.add (local.get $u9) (local.get $at)) (f32x4.add (f32x4.add (f32x4.mul (local.get $t20) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $t21) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $t22) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $u10) (local.get $at)) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t20) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $t21) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $t22) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $u11) (local.get $at)) (local.get $t22))
        (v128.store (i32.add (local.get $u12) (local.get $at)) (local.get $t30))
        (v128.store (i32.add (local.get $u13) (local.get $at)) (f32x4.add (f32x4.add (f32x4.mul (local.get $t30) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $t31) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $t32) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $u14) (local.get $at)) (f32x4.add (f32x4.sub (f32x4.mul (local.get $t30) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $t31) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $t32) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $u15) (local.get $at)) (local.get $t32))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $values))))

  ;; The filter gradient dW = G^T dU G of Winograd F(2x2, 3x3) for every (c, o): dU 16 matrices
  ;; [C, O] (u0 .. u15), dW [3, 3, C, O] (`size` = C O values per tap, a multiple of 4).
  (func (export "winogradFilterGradient")
    (param $filter i32) (param $size i32) (param $u0 i32) (param $u1 i32) (param $u2 i32) (param $u3 i32) (param $u4 i32) (param $u5 i32) (param $u6 i32) (param $u7 i32) (param $u8 i32) (param $u9 i32) (param $u10 i32) (param $u11 i32) (param $u12 i32) (param $u13 i32) (param $u14 i32) (param $u15 i32)
    (local $at i32) (local $end i32) (local $tapBytes i32) (local $w00 v128) (local $w01 v128) (local $w02 v128) (local $w03 v128) (local $w10 v128) (local $w11 v128) (local $w12 v128) (local $w13 v128) (local $w20 v128) (local $w21 v128) (local $w22 v128) (local $w23 v128)
    (local.set $tapBytes (i32.shl (local.get $size) (i32.const 2)))
    (local.set $end (i32.shl (local.get $size) (i32.const 2)))
    (block $done
      (loop $values
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $w00 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $u0) (local.get $at))) (f32x4.mul (v128.load (i32.add (local.get $u4) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $u8) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $w01 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $u1) (local.get $at))) (f32x4.mul (v128.load (i32.add (local.get $u5) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $u9) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $w02 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $u2) (local.get $at))) (f32x4.mul (v128.load (i32.add (local.get $u6) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $u10) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $w03 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $u3) (local.get $at))) (f32x4.mul (v128.load (i32.add (local.get $u7) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (v128.load (i32.add (local.get $u11) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $w10 (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $u4) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $u8) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $w11 (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $u5) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $u9) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $w12 (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $u6) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $u10) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $w13 (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $u7) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $u11) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (local.set $w20 (f32x4.add (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $u4) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $u8) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (v128.load (i32.add (local.get $u12) (local.get $at)))))
        (local.set $w21 (f32x4.add (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $u5) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $u9) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (v128.load (i32.add (local.get $u13) (local.get $at)))))
        (local.set $w22 (f32x4.add (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $u6) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $u10) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (v128.load (i32.add (local.get $u14) (local.get $at)))))
        (local.set $w23 (f32x4.add (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $u7) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (v128.load (i32.add (local.get $u11) (local.get $at))) (v128.const f32x4 0.5 0.5 0.5 0.5))) (v128.load (i32.add (local.get $u15) (local.get $at)))))
        (v128.store (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 0)))) (f32x4.add (f32x4.add (local.get $w00) (f32x4.mul (local.get $w01) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $w02) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 1)))) (f32x4.sub (f32x4.mul (local.get $w01) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $w02) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 2)))) (f32x4.add (f32x4.add (f32x4.mul (local.get $w01) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $w02) (v128.const f32x4 0.5 0.5 0.5 0.5))) (local.get $w03)))
        (v128.store (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 3)))) (f32x4.add (f32x4.add (local.get $w10) (f32x4.mul (local.get $w11) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $w12) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 4)))) (f32x4.sub (f32x4.mul (local.get $w11) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $w12) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 5)))) (f32x4.add (f32x4.add (f32x4.mul (local.get $w11) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $w12) (v128.const f32x4 0.5 0.5 0.5 0.5))) (local.get $w13)))
        (v128.store (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 6)))) (f32x4.add (f32x4.add (local.get $w20) (f32x4.mul (local.get $w21) (v128.const f32x4 0.5 0.5 0.5 0.5))) (f32x4.mul (local.get $w22) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 7)))) (f32x4.sub (f32x4.mul (local.get $w21) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $w22) (v128.const f32x4 0.5 0.5 0.5 0.5))))
        (v128.store (i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const 8)))) (f32x4.add (f32x4.add (f32x4.mul (local.get $w21) (v128.const f32x4 0.5 0.5 0.5 0.5)) (f32x4.mul (local.get $w22) (v128.const f32x4 0.5 0.5 0.5 0.5))) (local.get $w23)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $values))))
)
