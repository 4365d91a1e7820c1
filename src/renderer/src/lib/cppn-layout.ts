import dagre, { type EdgeLabel, type Point } from '@dagrejs/dagre';
import type { IndividualDetail } from '../../../shared/api';

type Cppn = NonNullable<IndividualDetail['cppn']>;

export interface PlacedNode {
  id: number;
  kind: 'input' | 'output' | 'hidden';
  label: string;
  activation: string | null;
  x: number;
  y: number;
}

export interface PlacedEdge {
  from: number;
  to: number;
  weight: number;
  /** The layout's route for the edge, as an SVG path. */
  path: string;
}

export interface CppnLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  maxAbsWeight: number;
}

export const NODE_W = 64;
export const NODE_H = 34;

/** Node boxes that hold an activation image (thumbnail above the name). */
export const NODE_IMG_W = 76;
export const NODE_IMG_H = 100;

/** Lays the network out left to right (inputs first, outputs last) with dagre's layered layout. */
export function layoutCppn(cppn: Cppn, size: { width: number; height: number } = { width: NODE_W, height: NODE_H }): CppnLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: size.width > NODE_W ? 56 : 70, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of cppn.nodes) g.setNode(String(n.id), { width: size.width, height: n.kind === 'input' ? NODE_H : size.height });
  const known = new Set(cppn.nodes.map((n) => n.id));
  const conns = cppn.connections.filter((c) => known.has(c.from) && known.has(c.to));
  conns.forEach((c, i) => g.setEdge(String(c.from), String(c.to), {}, String(i)));
  dagre.layout(g);

  const nodes = cppn.nodes.map((n) => {
    const p = g.node(String(n.id));
    return { id: n.id, kind: n.kind, label: n.label, activation: n.activation, x: p.x, y: p.y };
  });
  const edges = conns.map((c, i) => {
    const label = g.edge({ v: String(c.from), w: String(c.to), name: String(i) }) as EdgeLabel | undefined;
    const pts: Point[] = label?.points ?? [];
    const path = pts.map((p, k) => `${k === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    return { from: c.from, to: c.to, weight: c.weight, path };
  });
  const gl = g.graph();
  return {
    width: gl.width ?? 0,
    height: gl.height ?? 0,
    nodes,
    edges,
    maxAbsWeight: Math.max(1e-9, ...conns.map((c) => Math.abs(c.weight))),
  };
}
