import { describe, expect, it } from 'vitest';
import type { CppnGenome } from '../src/shared/engine';
import { FoolError } from '../src/shared/errors';
import { activationImage, applyEdits, controlEdits, findRepetition, renderEdited, renderWithPlanes } from '../src/main/core/analysis/genome';
import { cloneCppn } from '../src/main/core/engine/cppn';
import { Renderer, type RenderOptions } from '../src/main/core/engine/render';
import { Rng } from '../src/main/core/engine/rng';

const OPTS: RenderOptions = { width: 96, height: 96, channels: 1, colorSpace: 'hsv', coordinates: 'pixel', weightMin: -10, weightMax: 10 };
const gene = (w: number) => (w + 10) / 20;

/**
 * grey = sigmoid(3 * h5 + 0.8 * h6 - 0.5), h5 = sine(0.4 x) (stripes, period 2 pi / 0.4 = 15.7 px),
 * h6 = gaussian(3 d + 0.2 y / 96): a blob, not periodic. h7 = sine(y) feeds nothing.
 */
function genome(): CppnGenome {
  return {
    nodes: [
      { id: 4, kind: 'output', activation: 'sigmoid' },
      { id: 5, kind: 'hidden', activation: 'sine' },
      { id: 6, kind: 'hidden', activation: 'gaussian' },
      { id: 7, kind: 'hidden', activation: 'sine' },
    ],
    connections: [
      { from: 0, to: 5, gene: gene(0.4) },
      { from: 2, to: 6, gene: gene(3) },
      { from: 1, to: 6, gene: gene(0.2 / 96) },
      { from: 5, to: 4, gene: gene(3) },
      { from: 6, to: 4, gene: gene(0.8) },
      { from: 3, to: 4, gene: gene(-0.5) },
      { from: 1, to: 7, gene: gene(1) },
    ],
    nextNodeId: 8,
  };
}

const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('genome ablation', () => {
  const r = new Renderer(OPTS);

  it('switching a node off (to 0) renders exactly the hand-edited genome without it', () => {
    const g = genome();
    const hand = cloneCppn(g);
    hand.nodes = hand.nodes.filter((n) => n.id !== 5);
    hand.connections = hand.connections.filter((c) => c.from !== 5 && c.to !== 5);
    const off = renderEdited(r, g, [{ op: 'node-off', node: 5, value: 'zero' }]);
    expect(Array.from(off)).toEqual(Array.from(r.renderCppn(hand)));
    // and it changed the image
    expect(maxDiff(off, r.renderCppn(g))).toBeGreaterThan(20);
  });

  it('switching a node off to its mean equals folding that mean into the bias of its consumer', () => {
    const g = genome();
    const mean = renderWithPlanes(r, g).planes.get(5)!.reduce((s, v) => s + v, 0) / (96 * 96);
    const hand = cloneCppn(g);
    hand.nodes = hand.nodes.filter((n) => n.id !== 5);
    hand.connections = hand.connections.filter((c) => c.from !== 5 && c.to !== 5);
    hand.connections.find((c) => c.from === 3 && c.to === 4)!.gene = gene(-0.5 + 3 * mean);
    // the bias gene is rounded in float64: at most one grey level apart
    expect(maxDiff(renderEdited(r, g, [{ op: 'node-off', node: 5, value: 'mean' }]), r.renderCppn(hand))).toBeLessThanOrEqual(1);
  });

  it('a connection off and a changed weight render the hand-edited genomes', () => {
    const g = genome();
    const noConn = cloneCppn(g);
    noConn.connections = noConn.connections.filter((c) => !(c.from === 6 && c.to === 4));
    expect(Array.from(renderEdited(r, g, [{ op: 'connection-off', from: 6, to: 4 }]))).toEqual(Array.from(r.renderCppn(noConn)));
    const w = cloneCppn(g);
    w.connections.find((c) => c.from === 0 && c.to === 5)!.gene = gene(-2);
    expect(Array.from(renderEdited(r, g, [{ op: 'weight', from: 0, to: 5, weight: -2 }]))).toEqual(Array.from(r.renderCppn(w)));
  });

  it('every node has an activation image, dangling ones included; a node off is flat grey', () => {
    const p = renderWithPlanes(r, genome(), [{ op: 'node-off', node: 6, value: 'zero' }]);
    expect([...p.planes.keys()].sort()).toEqual([4, 5, 6, 7]);
    expect(p.used.has(7)).toBe(false);
    expect(new Set(activationImage(p.planes.get(6)!))).toEqual(new Set([128]));
    const five = activationImage(p.planes.get(5)!);
    expect(Math.min(...five)).toBeLessThan(5);
    expect(Math.max(...five)).toBeGreaterThan(250);
  });

  it('finds the sine of x as the origin of the repetition, with its period and the weight that sets it', () => {
    const rep = findRepetition(r, genome());
    const five = rep.elements.find((e) => e.node === 5)!;
    expect(five.origin).toBe(true);
    expect(Math.abs(five.period - (2 * Math.PI) / 0.4) / ((2 * Math.PI) / 0.4)).toBeLessThan(0.05);
    expect(five.kind).toBe('stripes');
    expect(five.inputs).toEqual([{ from: 0, label: 'x', weight: expect.closeTo(0.4, 9) }]);
    // the blob and the unused sine are not reported; the output repeats through h5 (not an origin)
    expect(rep.elements.map((e) => e.node).sort()).toEqual([4, 5]);
    expect(rep.elements.find((e) => e.node === 4)!.origin).toBe(false);
    expect(rep.removal.knockout).toEqual([{ op: 'node-off', node: 5, value: 'mean' }]);
  });

  it('removing the repetition (either way) leaves no periodic node and keeps the rest of the network', () => {
    const g = genome();
    const rep = findRepetition(r, g);
    const scale = rep.removal.frequency[0];
    expect(scale.op).toBe('scale-in');
    for (const how of ['knockout', 'frequency'] as const) {
      const after = renderWithPlanes(r, g, rep.removal[how]);
      expect(findRepetition(r, g, {}, after).elements).toEqual([]);
      // the blob is untouched
      expect(Array.from(after.planes.get(6)!)).toEqual(Array.from(renderWithPlanes(r, g).planes.get(6)!));
    }
    // one period over the image: x spans 0..95, so the new weight is 2 pi / 95
    const { genome: edited } = applyEdits(g, [scale], OPTS);
    const w = edited.connections.find((c) => c.from === 0 && c.to === 5)!.gene * 20 - 10;
    expect(w).toBeCloseTo((2 * Math.PI) / 95, 9);
  });

  it('control draws: non-periodic used nodes, the same count, reproducible by seed', () => {
    const g = genome();
    g.nodes.push({ id: 8, kind: 'hidden', activation: 'sigmoid' }, { id: 9, kind: 'hidden', activation: 'gaussian' });
    g.connections.push({ from: 1, to: 8, gene: gene(0.01) }, { from: 8, to: 4, gene: gene(0.3) }, { from: 2, to: 9, gene: gene(1) }, { from: 9, to: 4, gene: gene(0.2) });
    g.nextNodeId = 10;
    const p = renderWithPlanes(r, g);
    const rep = findRepetition(r, g, {}, p);
    const draws = (seed: number) => Array.from({ length: 6 }, (_, i) => controlEdits(g, rep, 'knockout', p.used, Rng.of(seed, i)));
    const a = draws(1);
    expect(draws(1)).toEqual(a);
    for (const d of a) {
      expect(d).toHaveLength(1);
      expect([6, 8, 9]).toContain((d![0] as { node: number }).node);
    }
    // another seed gives another sequence (6 draws from 3 nodes: the chance of equality is 1/729)
    expect(draws(2)).not.toEqual(a);
  });

  it('the control keeps the count when the repeating node is the only output: it draws a hidden node instead', () => {
    // grey = sine(0.5 x + 0.5 h5), h5 = gaussian(d): the output itself is where the repetition starts
    const g: CppnGenome = {
      nodes: [
        { id: 4, kind: 'output', activation: 'sine' },
        { id: 5, kind: 'hidden', activation: 'gaussian' },
      ],
      connections: [
        { from: 0, to: 4, gene: gene(0.5) },
        { from: 2, to: 5, gene: gene(2) },
        { from: 5, to: 4, gene: gene(0.5) },
      ],
      nextNodeId: 6,
    };
    const p = renderWithPlanes(r, g);
    const rep = findRepetition(r, g, {}, p);
    expect(rep.removal.knockout).toEqual([{ op: 'node-off', node: 4, value: 'mean' }]);
    expect(controlEdits(g, rep, 'knockout', p.used, Rng.of(1))).toEqual([{ op: 'node-off', node: 5, value: 'mean' }]);
  });

  it('refuses ids the genome does not have, and inputs', () => {
    const g = genome();
    const bad = (e: Parameters<typeof applyEdits>[1][number], msg: RegExp) => {
      try {
        applyEdits(g, [e], OPTS);
        throw new Error('accepted');
      } catch (err) {
        expect(err).toBeInstanceOf(FoolError);
        expect((err as FoolError).code).toBe('BAD_INPUT');
        expect((err as Error).message).toMatch(msg);
      }
    };
    bad({ op: 'node-off', node: 42, value: 'zero' }, /no node 42/);
    bad({ op: 'connection-off', from: 5, to: 6 }, /no connection 5 -> 6/);
    bad({ op: 'node-off', node: 0, value: 'zero' }, /input "x"/);
    bad({ op: 'weight', from: 0, to: 5, weight: 11 }, /outside/);
  });
});
