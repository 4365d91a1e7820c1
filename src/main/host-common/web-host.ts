import type { LabApi } from '../core/api';

/**
 * The web host as the command line starts it (`fool serve`). Hosts do not import each other: the
 * CLI is handed a StartWebHost by the entry point (src/main/entries/cli.ts), which is the one
 * place that knows both.
 */
export interface WebHostOptions {
  api: LabApi;
  host: string;
  port: number;
  /** Required for any address other than loopback. */
  token?: string;
  /** The built renderer (out/renderer). */
  staticDir: string;
}

export interface RunningWebHost {
  url: string;
  port: number;
  /** Stops accepting requests, ends event streams, then closes the lab (live runs stop after their generation). */
  close(): Promise<void>;
}

export type StartWebHost = (opts: WebHostOptions) => Promise<RunningWebHost>;
