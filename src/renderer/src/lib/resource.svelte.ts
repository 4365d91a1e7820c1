import { errorMessage } from './api';
import { live } from './live.svelte';

/**
 * Data a view fetches from the API, fetched again whenever a run changes status (live.statusVersion)
 * or whatever `fetch` reads (a prop such as runId) changes. Construct it while a component
 * initialises: it owns an $effect.
 */
export class LiveResource<T> {
  data = $state<T | null>(null);
  error = $state<string | null>(null);

  constructor(private readonly fetch: () => Promise<T>) {
    $effect(() => {
      void live.statusVersion;
      void this.load();
    });
  }

  /** Fetch now (after an action of the view's own). */
  load = async (): Promise<void> => {
    try {
      this.data = await this.fetch();
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
  };
}
