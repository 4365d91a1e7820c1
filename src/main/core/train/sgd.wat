;; The SGD kernel of sgd-kernel.ts (which embeds its assembled bytes). Assemble with wabt:
;;   wat2wasm --enable-threads sgd.wat -o sgd.wasm && base64 -w0 sgd.wasm
;; or its npm package (require("wabt")().then((w) => w.parseWat(..., { simd: true, threads: true }).toBinary({}))).
;; test/train.test.ts assembles this file with the wabt package and fails when the bytes differ.
(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; Caffe's SGD over n floats at byte addresses w, v, g0, g1 (g1 < 0: one gradient):
  ;; vi = mom * v + lr * ((g0 + g1) + wd * w); v = f32(vi); w = f32(w - vi), all in f64.
  (func (export "sgd") (param $w i32) (param $v i32) (param $g0 i32) (param $g1 i32) (param $n i32)
                       (param $lr f64) (param $mom f64) (param $wd f64)
    (local $o i32) (local $end i32) (local $LR v128) (local $M v128) (local $WD v128) (local $wi v128) (local $vi v128)
    (local $g f64) (local $sw f64) (local $sv f64)
    (local.set $LR (f64x2.splat (local.get $lr)))
    (local.set $M (f64x2.splat (local.get $mom)))
    (local.set $WD (f64x2.splat (local.get $wd)))
    ;; byte offset of the last pair's end
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2)))
    (if (i32.ge_s (local.get $g1) (i32.const 0))
      (then
        (block $done
          (loop $pairs
            (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
            (local.set $wi (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $o)))))
            (local.set $vi
              (f64x2.add
                (f64x2.mul (local.get $M) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $v) (local.get $o)))))
                (f64x2.mul (local.get $LR)
                  (f64x2.add
                    (f64x2.add (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g0) (local.get $o))))
                               (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g1) (local.get $o)))))
                    (f64x2.mul (local.get $WD) (local.get $wi))))))
            (v128.store64_lane 0 (i32.add (local.get $v) (local.get $o)) (f32x4.demote_f64x2_zero (local.get $vi)))
            (v128.store64_lane 0 (i32.add (local.get $w) (local.get $o)) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $wi) (local.get $vi))))
            (local.set $o (i32.add (local.get $o) (i32.const 8)))
            (br $pairs))))
      (else
        (block $done
          (loop $pairs
            (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
            (local.set $wi (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $o)))))
            (local.set $vi
              (f64x2.add
                (f64x2.mul (local.get $M) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $v) (local.get $o)))))
                (f64x2.mul (local.get $LR)
                  (f64x2.add
                    (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g0) (local.get $o))))
                    (f64x2.mul (local.get $WD) (local.get $wi))))))
            (v128.store64_lane 0 (i32.add (local.get $v) (local.get $o)) (f32x4.demote_f64x2_zero (local.get $vi)))
            (v128.store64_lane 0 (i32.add (local.get $w) (local.get $o)) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $wi) (local.get $vi))))
            (local.set $o (i32.add (local.get $o) (i32.const 8)))
            (br $pairs)))))
    ;; an odd last element
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $g (f64.promote_f32 (f32.load (i32.add (local.get $g0) (local.get $o)))))
        (if (i32.ge_s (local.get $g1) (i32.const 0))
          (then (local.set $g (f64.add (local.get $g) (f64.promote_f32 (f32.load (i32.add (local.get $g1) (local.get $o))))))))
        (local.set $sw (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $o)))))
        (local.set $sv
          (f64.add
            (f64.mul (local.get $mom) (f64.promote_f32 (f32.load (i32.add (local.get $v) (local.get $o)))))
            (f64.mul (local.get $lr) (f64.add (local.get $g) (f64.mul (local.get $wd) (local.get $sw))))))
        (f32.store (i32.add (local.get $v) (local.get $o)) (f32.demote_f64 (local.get $sv)))
        (f32.store (i32.add (local.get $w) (local.get $o)) (f32.demote_f64 (f64.sub (local.get $sw) (local.get $sv)))))))
)
