import { z } from 'zod';
import {
  ACTIVATIONS,
  CPPN_FIRST_OUTPUT_ID,
  CPPN_INPUTS,
  type CppnConnection,
  type CppnGenome,
  type CppnNode,
  type CppnParams,
} from '../../../shared/engine';
import { FoolError } from '../../../shared/errors';
import { polynomialMutate } from './direct';
import type { Rng } from './rng';

/**
 * CPPN genome and its six mutation operators (paper-spec section 4). Genomes are plain JSON and treated
 * as immutable: mutation returns a new genome. Inputs are implicit ids 0..3 (x, y, d, bias).
 */

const N_INPUTS = CPPN_INPUTS.length;
export const isInputId = (id: number): boolean => id >= 0 && id < N_INPUTS;

/** No hidden nodes; every input connected to every output; activations and weight genes uniform. */
export function randomCppn(outputs: 1 | 3, rng: Rng): CppnGenome {
  const nodes: CppnNode[] = [];
  const connections: CppnConnection[] = [];
  for (let k = 0; k < outputs; k++) {
    const id = CPPN_FIRST_OUTPUT_ID + k;
    nodes.push({ id, kind: 'output', activation: rng.choice(ACTIVATIONS) });
    for (let i = 0; i < N_INPUTS; i++) connections.push({ from: i, to: id, gene: rng.float() });
  }
  return { nodes, connections, nextNodeId: CPPN_FIRST_OUTPUT_ID + outputs };
}

export function cloneCppn(g: CppnGenome): CppnGenome {
  return {
    nodes: g.nodes.map((n) => ({ ...n })),
    connections: g.connections.map((c) => ({ ...c })),
    nextNodeId: g.nextNodeId,
  };
}

/**
 * Topological order of the non-input nodes (Kahn's algorithm, ties broken by position in `nodes`
 * so the order is deterministic). Throws if the network has a cycle.
 */
export function topologicalOrder(g: CppnGenome): CppnNode[] {
  const indeg = new Map<number, number>();
  const out = new Map<number, number[]>();
  for (const n of g.nodes) {
    indeg.set(n.id, 0);
    out.set(n.id, []);
  }
  for (const c of g.connections) {
    if (!isInputId(c.from)) out.get(c.from)!.push(c.to);
    if (!isInputId(c.from)) indeg.set(c.to, indeg.get(c.to)! + 1);
  }
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const ready = g.nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  const order: CppnNode[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(byId.get(id)!);
    for (const t of out.get(id)!) {
      const d = indeg.get(t)! - 1;
      indeg.set(t, d);
      if (d === 0) ready.push(t);
    }
  }
  if (order.length !== g.nodes.length) throw new Error('CPPN has a cycle');
  return order;
}

/** Outgoing adjacency of the genome's connections. */
function adjacency(g: CppnGenome): Map<number, number[]> {
  const adj = new Map<number, number[]>();
  for (const c of g.connections) {
    const l = adj.get(c.from);
    if (l) l.push(c.to);
    else adj.set(c.from, [c.to]);
  }
  return adj;
}

/** Whether `target` is reachable from `start` along connections (depth-first). */
function reaches(adj: Map<number, number[]>, start: number, target: number): boolean {
  const seen = new Set<number>([start]);
  const stack = [start];
  while (stack.length > 0) {
    for (const t of adj.get(stack.pop()!) ?? []) {
      if (t === target) return true;
      if (!seen.has(t)) {
        seen.add(t);
        stack.push(t);
      }
    }
  }
  return false;
}

/**
 * Structural checks: unique node ids, outputs first, connections between known nodes, into a
 * non-input, out of a non-output (outputs are sinks: feed-forward), no duplicates, acyclic.
 * Returns a list of problems (empty when valid).
 */
export function validateCppn(g: CppnGenome, outputs?: number): string[] {
  const problems: string[] = [];
  const ids = new Set<number>();
  for (const n of g.nodes) {
    if (ids.has(n.id)) problems.push(`duplicate node ${n.id}`);
    ids.add(n.id);
    if (n.id >= g.nextNodeId) problems.push(`node ${n.id} >= nextNodeId`);
  }
  const outIds = g.nodes.filter((n) => n.kind === 'output').map((n) => n.id);
  if (outputs !== undefined && outIds.length !== outputs) problems.push(`${outIds.length} outputs, expected ${outputs}`);
  outIds.forEach((id, k) => {
    if (id !== CPPN_FIRST_OUTPUT_ID + k || g.nodes[k].kind !== 'output') problems.push('outputs must come first, ids 4..');
  });
  const pairs = new Set<string>();
  for (const c of g.connections) {
    if (!isInputId(c.from) && !ids.has(c.from)) problems.push(`connection from unknown node ${c.from}`);
    if (!ids.has(c.to)) problems.push(`connection to unknown or input node ${c.to}`);
    if (outIds.includes(c.from)) problems.push(`connection out of output ${c.from}`);
    if (!(c.gene >= 0 && c.gene <= 1)) problems.push(`gene ${c.gene} outside [0,1]`);
    const key = `${c.from}>${c.to}`;
    if (pairs.has(key)) problems.push(`duplicate connection ${key}`);
    pairs.add(key);
  }
  if (problems.length === 0) {
    try {
      topologicalOrder(g);
    } catch {
      problems.push('cycle');
    }
  }
  return problems;
}

/**
 * Valid new connections: from an input or hidden node to a hidden or output node, not already present,
 * not a self-loop, and not closing a cycle (the target must not reach the source). Outputs are sinks.
 */
function connectionEnds(g: CppnGenome): { sources: number[]; targets: number[] } {
  const hidden = g.nodes.filter((n) => n.kind === 'hidden').map((n) => n.id);
  return { sources: [...CPPN_INPUTS.map((_, i) => i), ...hidden], targets: g.nodes.map((n) => n.id) };
}

function isValidNewConnection(g: CppnGenome, adj: Map<number, number[]>, existing: Set<string>, s: number, t: number): boolean {
  return s !== t && !existing.has(`${s}>${t}`) && !reaches(adj, t, s);
}

/** Every connection that may be added (see connectionEnds). */
export function candidateConnections(g: CppnGenome): Array<[number, number]> {
  const { sources, targets } = connectionEnds(g);
  const adj = adjacency(g);
  const existing = new Set(g.connections.map((c) => `${c.from}>${c.to}`));
  const result: Array<[number, number]> = [];
  for (const s of sources) for (const t of targets) if (isValidNewConnection(g, adj, existing, s, t)) result.push([s, t]);
  return result;
}

/**
 * One valid new connection, uniform over all of them, or null if there is none. Draws (source, target)
 * pairs uniformly and rejects invalid ones, which is exactly uniform over the valid pairs and cheap on
 * big networks; after 64 rejections it enumerates them all (same distribution, needed when few remain).
 */
export function drawNewConnection(g: CppnGenome, rng: Rng): [number, number] | null {
  const { sources, targets } = connectionEnds(g);
  const adj = adjacency(g);
  const existing = new Set(g.connections.map((c) => `${c.from}>${c.to}`));
  for (let k = 0; k < 64; k++) {
    const s = rng.choice(sources);
    const t = rng.choice(targets);
    if (isValidNewConnection(g, adj, existing, s, t)) return [s, t];
  }
  const all = candidateConnections(g);
  return all.length > 0 ? rng.choice(all) : null;
}

/** Which operators fired (for tests and lineage display). */
export interface CppnMutationLog {
  weights: number;
  activations: number;
  addConnection: boolean;
  deleteConnection: boolean;
  addNode: boolean;
  deleteNode: boolean;
}

/**
 * A mutated copy of `parent`: the six operators of paper-spec section 4, each applied independently,
 * in the order listed there.
 */
export function mutateCppn(parent: CppnGenome, p: CppnParams, rng: Rng): { genome: CppnGenome; log: CppnMutationLog } {
  const g = cloneCppn(parent);
  const log: CppnMutationLog = {
    weights: 0,
    activations: 0,
    addConnection: false,
    deleteConnection: false,
    addNode: false,
    deleteNode: false,
  };
  // 1. each weight gene: polynomial mutation with probability p.weightMutationRate
  for (const c of g.connections) {
    if (rng.chance(p.weightMutationRate)) {
      c.gene = polynomialMutate(c.gene, p.eta, rng);
      log.weights++;
    }
  }
  // 2. each node's activation redrawn uniformly (possibly the same one)
  for (const n of g.nodes) {
    if (rng.chance(p.activationMutationRate)) {
      n.activation = rng.choice(ACTIVATIONS);
      log.activations++;
    }
  }
  // 3. add a feed-forward connection, uniform over all valid new pairs, with a new uniform weight gene
  if (rng.chance(p.addConnection)) {
    const pair = drawNewConnection(g, rng);
    if (pair) {
      g.connections.push({ from: pair[0], to: pair[1], gene: rng.float() });
      log.addConnection = true;
    }
  }
  // 4. delete a random connection
  if (rng.chance(p.deleteConnection) && g.connections.length > 0) {
    g.connections.splice(rng.below(g.connections.length), 1);
    log.deleteConnection = true;
  }
  // 5. split a random connection s->t into s->n->t; both halves keep the old weight gene
  if (rng.chance(p.addNode) && g.connections.length > 0) {
    const i = rng.below(g.connections.length);
    const old = g.connections[i];
    const id = g.nextNodeId++;
    g.nodes.push({ id, kind: 'hidden', activation: rng.choice(ACTIVATIONS) });
    g.connections.splice(i, 1, { from: old.from, to: id, gene: old.gene }, { from: id, to: old.to, gene: old.gene });
    log.addNode = true;
  }
  // 6. delete a random hidden node with its connections
  if (rng.chance(p.deleteNode)) {
    const hidden = g.nodes.filter((n) => n.kind === 'hidden');
    if (hidden.length > 0) {
      const id = rng.choice(hidden).id;
      g.nodes = g.nodes.filter((n) => n.id !== id);
      g.connections = g.connections.filter((c) => c.from !== id && c.to !== id);
      log.deleteNode = true;
    }
  }
  return { genome: g, log };
}

/** Maps a weight gene to a weight: 20g - 10 by default. */
export function geneToWeight(gene: number, p: Pick<CppnParams, 'weightMin' | 'weightMax'>): number {
  return p.weightMin + gene * (p.weightMax - p.weightMin);
}

const CppnGenomeSchema = z.object({
  nodes: z.array(
    z.object({ id: z.number().int().min(CPPN_FIRST_OUTPUT_ID), kind: z.enum(['output', 'hidden']), activation: z.enum(ACTIVATIONS) }),
  ),
  connections: z.array(z.object({ from: z.number().int().min(0), to: z.number().int().min(0), gene: z.number().min(0).max(1) })),
  nextNodeId: z.number().int(),
});

export function cppnToJSON(g: CppnGenome): string {
  return JSON.stringify(g);
}

/** Parses and checks a stored genome; throws with the list of problems if it is not a valid CPPN. */
export function cppnFromJSON(json: string | unknown): CppnGenome {
  let data: unknown = json;
  if (typeof json === 'string') {
    try {
      data = JSON.parse(json);
    } catch {
      throw new FoolError('BAD_INPUT', 'CPPN genome is not JSON', 'Check the stored genome');
    }
  }
  const parsed = CppnGenomeSchema.safeParse(data);
  const problems = parsed.success ? validateCppn(parsed.data) : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (!parsed.success || problems.length > 0) {
    throw new FoolError('BAD_INPUT', `Invalid CPPN genome (${problems.join('; ')})`, 'Check the stored genome');
  }
  return parsed.data;
}
