/**
 * Hash routing: the address names the view, so a reload or a link lands on the same place.
 *   #/runs
 *   #/run/3                           the run: live progress and chart
 *   #/run/3/gallery                   its champions
 *   #/run/3/compare?ids=1,2           selected champions side by side
 *   #/run/3/individual/3000012        detail
 *   #/run/3/individual/3000012/ablation?class=5
 *   #/run/3/lineage/5                 the ancestors of class 5's champion
 *   #/run/3/report                    the run's report: curves, final archive, classes below 99.99%
 *   #/run/3/tree                      the run's phylogeny (all champions' ancestries merged)
 *   #/compare?runs=1,2                several runs' curves overlaid
 *   #/experiments, #/experiment/4     the paper's experiments
 *   #/models                          the registered models
 *   #/sweeps, #/sweeps/2              the sweeps (fool sweep); one sweep's tasks and merged archive
 */
export type Route =
  | { view: 'runs' }
  | { view: 'run'; runId: number }
  | { view: 'gallery'; runId: number }
  | { view: 'compare'; runId: number; ids: number[] }
  | { view: 'detail'; runId: number; individualId: number }
  | { view: 'ablation'; runId: number; individualId: number; cls: number | null }
  | { view: 'lineage'; runId: number; cls: number }
  | { view: 'report'; runId: number }
  | { view: 'tree'; runId: number }
  | { view: 'compareRuns'; runs: number[] }
  | { view: 'experiments' }
  | { view: 'experiment'; id: number }
  | { view: 'models' }
  | { view: 'sweeps'; sweepId: number | null }
  | { view: 'unknown'; path: string };

const int = (s: string | undefined): number | null => (s !== undefined && /^\d+$/.test(s) ? Number(s) : null);

/** One parameter of the hash's query part (the hash is ours: plain name=value pairs). */
function param(query: string, name: string): string | undefined {
  for (const kv of query.split('&')) {
    const [k, v = ''] = kv.split('=');
    if (k === name) return decodeURIComponent(v);
  }
  return undefined;
}

const ints = (s: string | undefined): number[] => (s ?? '').split(',').map((x) => int(x)).filter((n): n is number => n !== null);

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/runs';
  const [path, query = ''] = raw.split('?');
  const p = path.split('/').filter(Boolean);
  if (p.length === 1 && p[0] === 'runs') return { view: 'runs' };
  if (p.length === 1 && p[0] === 'experiments') return { view: 'experiments' };
  if (p.length === 1 && p[0] === 'models') return { view: 'models' };
  if (p.length === 1 && p[0] === 'compare') return { view: 'compareRuns', runs: ints(param(query, 'runs')) };
  if (p.length === 2 && p[0] === 'experiment' && int(p[1]) !== null) return { view: 'experiment', id: int(p[1])! };
  if (p[0] === 'sweeps' && p.length <= 2) {
    const sweepId = p.length === 2 ? int(p[1]) : null;
    if (p.length === 1 || (sweepId !== null && sweepId > 0)) return { view: 'sweeps', sweepId };
  }
  const runId = p[0] === 'run' ? int(p[1]) : null;
  if (runId !== null && runId > 0) {
    if (p.length === 2) return { view: 'run', runId };
    if (p.length === 3 && p[2] === 'gallery') return { view: 'gallery', runId };
    if (p.length === 3 && p[2] === 'report') return { view: 'report', runId };
    if (p.length === 3 && p[2] === 'tree') return { view: 'tree', runId };
    if (p.length === 3 && p[2] === 'compare') {
      return { view: 'compare', runId, ids: ints(param(query, 'ids')) };
    }
    const individualId = int(p[3]);
    if (p[2] === 'individual' && individualId !== null) {
      if (p.length === 4) return { view: 'detail', runId, individualId };
      if (p.length === 5 && p[4] === 'ablation') return { view: 'ablation', runId, individualId, cls: int(param(query, 'class')) };
    }
    const cls = int(p[3]);
    if (p.length === 4 && p[2] === 'lineage' && cls !== null) return { view: 'lineage', runId, cls };
  }
  return { view: 'unknown', path };
}

export const router = $state({ route: parseRoute(window.location.hash) });

window.addEventListener('hashchange', () => {
  router.route = parseRoute(window.location.hash);
});

export const href = {
  runs: () => '#/runs',
  sweeps: (sweepId?: number) => (sweepId === undefined ? '#/sweeps' : `#/sweeps/${sweepId}`),
  run: (runId: number) => `#/run/${runId}`,
  gallery: (runId: number) => `#/run/${runId}/gallery`,
  compare: (runId: number, ids: number[]) => `#/run/${runId}/compare?ids=${ids.join(',')}`,
  detail: (runId: number, id: number) => `#/run/${runId}/individual/${id}`,
  ablation: (runId: number, id: number, cls?: number) => `#/run/${runId}/individual/${id}/ablation${cls === undefined ? '' : `?class=${cls}`}`,
  lineage: (runId: number, cls: number) => `#/run/${runId}/lineage/${cls}`,
  report: (runId: number) => `#/run/${runId}/report`,
  tree: (runId: number) => `#/run/${runId}/tree`,
  compareRuns: (runs: number[]) => `#/compare?runs=${runs.join(',')}`,
  experiments: () => '#/experiments',
  experiment: (id: number) => `#/experiment/${id}`,
  models: () => '#/models',
};

export function go(to: string): void {
  window.location.hash = to;
}
