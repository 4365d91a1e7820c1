import { stratify, tree as d3tree, type HierarchyPointNode } from 'd3-hierarchy';
import type { TreeNode } from '../../../shared/api';

/**
 * Lays out a run's phylogeny with d3-hierarchy's tidy tree: d3 orders the lineages and gives each
 * a row; the horizontal position is the generation an individual was born in, so depth reads as
 * time. Several random genomes start lineages: they hang from one invisible root.
 */

export interface PlacedNode {
  node: TreeNode;
  x: number;
  y: number;
  parent: PlacedNode | null;
  /** Classes held in this node's subtree (itself included). */
  subtree: number[];
  /** The one class of its subtree when all its descendants hold the same one, else null. */
  only: number | null;
}

export interface PhyloLayout {
  nodes: PlacedNode[];
  width: number;
  height: number;
}

const ROOT = -1;

export function layoutTree(nodes: TreeNode[], lastGeneration: number, opts: { rowH: number; plotW: number; left: number; top: number }): PhyloLayout {
  if (nodes.length === 0) return { nodes: [], width: opts.plotW + opts.left, height: opts.top * 2 };
  type Row = { id: number; parent: number | null; node: TreeNode | null };
  const rows: Row[] = [{ id: ROOT, parent: null, node: null }, ...nodes.map((n) => ({ id: n.individualId, parent: n.parentId ?? ROOT, node: n }))];
  const root = stratify<Row>()
    .id((r) => String(r.id))
    .parentId((r) => (r.parent === null ? null : String(r.parent)))(rows);
  // Lineages that won more classes first, then older ones: the big families read top-down.
  root.sum((r) => r.node?.classes.length ?? 0).sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || (a.data.node?.generation ?? 0) - (b.data.node?.generation ?? 0));
  const laid = d3tree<Row>().nodeSize([opts.rowH, 1]).separation((a, b) => (a.parent === b.parent ? 1 : 1.2))(root);
  let minY = Infinity;
  let maxY = -Infinity;
  laid.each((n) => {
    minY = Math.min(minY, n.x);
    maxY = Math.max(maxY, n.x);
  });
  const G = Math.max(1, lastGeneration);
  const placed = new Map<HierarchyPointNode<Row>, PlacedNode>();
  const out: PlacedNode[] = [];
  laid.eachBefore((n) => {
    if (!n.data.node) return;
    const p = n.parent && n.parent.data.node ? placed.get(n.parent)! : null;
    const pn: PlacedNode = { node: n.data.node, x: opts.left + (n.data.node.generation / G) * opts.plotW, y: opts.top + (n.x - minY), parent: p, subtree: [], only: null };
    placed.set(n, pn);
    out.push(pn);
  });
  // Subtree classes, children before parents.
  laid.eachAfter((n) => {
    const pn = placed.get(n);
    if (!pn) return;
    const s = [...pn.node.classes, ...(n.children ?? []).flatMap((c) => placed.get(c)?.subtree ?? [])];
    pn.subtree = s;
    pn.only = s.length > 0 && s.every((c) => c === s[0]) ? s[0] : null;
  });
  return { nodes: out, width: opts.left + opts.plotW, height: opts.top * 2 + (maxY - minY) };
}
