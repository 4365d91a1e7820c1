import { describe, expect, it } from 'vitest';
import type { InputSpec } from '../src/shared/manifest';
import { dropLabelOffset, preprocess, softmaxRows } from '../src/main/core/models/preprocess';

const caffe: InputSpec = { name: 'data', layout: 'NCHW', height: 2, width: 2, channels: 3, channelOrder: 'BGR', scale: 1, mean: [104, 117, 123], std: [1], resize: 'crop', resizeTo: 4 };

describe('preprocessing from pixels to the model input', () => {
  it('swaps RGB to BGR, subtracts the mean per channel and lays out NCHW', () => {
    // One 2x2 RGB image: every pixel (R=10, G=20, B=30).
    const data = new Uint8Array(12);
    for (let p = 0; p < 4; p++) data.set([10, 20, 30], p * 3);
    const t = preprocess({ n: 1, height: 2, width: 2, channels: 3, data }, caffe);
    expect(Array.from(t)).toEqual([30 - 104, 30 - 104, 30 - 104, 30 - 104, 20 - 117, 20 - 117, 20 - 117, 20 - 117, 10 - 123, 10 - 123, 10 - 123, 10 - 123]);
  });

  it('takes the centre crop of images at the manifest resize size', () => {
    const data = new Uint8Array(4 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data.set([y * 4 + x, 0, 0], (y * 4 + x) * 3);
    const t = preprocess({ n: 1, height: 4, width: 4, channels: 3, data }, { ...caffe, channelOrder: 'RGB', mean: [0] });
    expect(Array.from(t.subarray(0, 4))).toEqual([5, 6, 9, 10]);
  });

  it('scales grey MNIST pixels by 1/256 and turns RGB into grey by luma', () => {
    const spec: InputSpec = { name: 'data', layout: 'NCHW', height: 1, width: 2, channels: 1, channelOrder: 'RGB', scale: 1 / 256, mean: [0], std: [1], resize: 'stretch' };
    expect(Array.from(preprocess({ n: 1, height: 1, width: 2, channels: 1, data: new Uint8Array([0, 255]) }, spec))).toEqual([0, 255 / 256]);
    const rgb = preprocess({ n: 1, height: 1, width: 2, channels: 3, data: new Uint8Array([255, 255, 255, 255, 0, 0]) }, spec);
    expect(rgb[0]).toBeCloseTo(255 / 256, 5);
    expect(rgb[1]).toBeCloseTo((0.299 * 255) / 256, 5);
  });

  it('normalises torch style ((p/255 - mean) / std) in NHWC too', () => {
    const spec: InputSpec = { name: 'x', layout: 'NHWC', height: 1, width: 1, channels: 3, channelOrder: 'RGB', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 'stretch' };
    const t = preprocess({ n: 1, height: 1, width: 1, channels: 3, data: new Uint8Array([255, 0, 128]) }, spec);
    expect(t[0]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(t[1]).toBeCloseTo(-0.456 / 0.224, 5);
    expect(t[2]).toBeCloseTo((128 / 255 - 0.406) / 0.225, 5);
  });

  it('rejects images of the wrong size with the size the model needs', () => {
    const spec = { ...caffe, resize: 'stretch' as const };
    expect(() => preprocess({ n: 1, height: 3, width: 3, channels: 3, data: new Uint8Array(27) }, spec)).toThrow(/3x3 but the model takes 2x2/);
  });

  it('softmax rows sum to one and the label offset drops leading outputs', () => {
    const x = softmaxRows(new Float32Array([1000, 1001, 0, 0]), 2, 2);
    expect(x[0] + x[1]).toBeCloseTo(1, 6);
    expect(x[1]).toBeGreaterThan(x[0]);
    expect(x[2]).toBeCloseTo(0.5, 6);
    expect(Array.from(dropLabelOffset(new Float32Array([0.1, 0.2, 0.7, 0.3, 0.3, 0.4]), 2, 3, 1))).toEqual([0.2, 0.7, 0.3, 0.4].map(Math.fround));
  });
});
