import { SvelteSet } from 'svelte/reactivity';

/**
 * The champions selected in a run's gallery (by class), kept across views so that a selection
 * made in the gallery survives a visit to a detail page and feeds export and compare.
 */
const owner = $state({ runId: 0 });
const classes = new SvelteSet<number>();
const none: ReadonlySet<number> = new SvelteSet<number>();

/** Read-only: safe inside $derived and templates (it never writes state). */
export function selectedIn(runId: number): ReadonlySet<number> {
  return owner.runId === runId ? classes : none;
}

export function setSelected(runId: number, list: Iterable<number>): void {
  owner.runId = runId;
  classes.clear();
  for (const c of list) classes.add(c);
}

export function toggleSelected(runId: number, cls: number): void {
  if (owner.runId !== runId) setSelected(runId, []);
  if (classes.has(cls)) classes.delete(cls);
  else classes.add(cls);
}
