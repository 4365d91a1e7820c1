/**
 * Caffe's SGD update (v = momentum * v + lr * (g + wd * w); w -= v) as a WebAssembly SIMD kernel
 * over the training workers' shared memory. V8's scalar loop spends ~2.9 ns an element on it (0.7
 * ms for each worker's half of LeNet's 431k weights, every step); the kernel, two elements at a
 * time, ~0.15 ms. It does the JavaScript loop's arithmetic exactly: the float32 values widened to
 * float64, the same operations in the same order (WebAssembly never fuses a multiply-add), the
 * results rounded to float32 on store, so it gives the same bits (test/train.test.ts checks it).
 *
 * Source: sgd.wat beside this file; SGD_WASM is its assembled bytes (the command is in its header;
 * test/train.test.ts assembles sgd.wat with wabt and fails when the two differ).
 */

export const SGD_WASM =
  'AGFzbQEAAAABDAFgCH9/f39/fHx8AAISAQNlbnYGbWVtb3J5AgMBgIAEAwIBAAcHAQNzZ2QAAAqLAwGIAwMCfwV7A3wgBf0UIQogBv0UIQsgB/0UIQwgBEF+cUECdCEJIANBAE4EQAJAA0AgCCAJTw0BIAAgCGr9XQMA/V8hDSALIAEgCGr9XQMA/V/98gEgCiACIAhq/V0DAP1fIAMgCGr9XQMA/V/98AEgDCAN/fIB/fAB/fIB/fABIQ4gASAIaiAO/V79WwMAACAAIAhqIA0gDv3xAf1e/VsDAAAgCEEIaiEIDAALCwUCQANAIAggCU8NASAAIAhq/V0DAP1fIQ0gCyABIAhq/V0DAP1f/fIBIAogAiAIav1dAwD9XyAMIA398gH98AH98gH98AEhDiABIAhqIA79Xv1bAwAAIAAgCGogDSAO/fEB/V79WwMAACAIQQhqIQgMAAsLCyAEQQFxBEAgAiAIaioCALshDyADQQBOBEAgDyADIAhqKgIAu6AhDwsgACAIaioCALshECAGIAEgCGoqAgC7oiAFIA8gByAQoqCioCERIAEgCGogEbY4AgAgACAIaiAQIBGhtjgCAAsL';

/** The SGD kernel, bound to the shared memory it works in. */
export class SgdKernel {
  private readonly sgd: (w: number, v: number, g0: number, g1: number, n: number, lr: number, momentum: number, wd: number) => void;

  constructor(readonly memory: WebAssembly.Memory) {
    const module = new WebAssembly.Module(Buffer.from(SGD_WASM, 'base64'));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.sgd = instance.exports.sgd as SgdKernel['sgd'];
  }

  /** Whether every array is a view of this kernel's memory (else it cannot reach them). */
  holds(...arrays: Float32Array[]): boolean {
    return arrays.every((a) => a.buffer === this.memory.buffer);
  }

  /**
   * Elements [lo, hi) of w and v from the gradient g0 (+ g1 when given: the sum is not rounded
   * to float32, as in the JavaScript loop); every array a view of this kernel's memory.
   */
  step(w: Float32Array, v: Float32Array, g0: Float32Array, g1: Float32Array | undefined, lo: number, hi: number, lr: number, momentum: number, wd: number): void {
    const at = (a: Float32Array) => a.byteOffset + lo * 4;
    this.sgd(at(w), at(v), at(g0), g1 ? at(g1) : -1, hi - lo, lr, momentum, wd);
  }
}
