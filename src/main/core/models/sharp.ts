import { createRequire } from 'node:module';
import type SharpModule from 'sharp';

/**
 * sharp, loaded on its first call. Loading libvips costs about 50 ms of CPU, which every `fool`
 * command paid at start, even one that writes no image (`runs list`, a refused argument); the tests
 * start `fool` hundreds of times. Every use of sharp in the lab imports it from here.
 */
const requireCjs = createRequire(import.meta.url);
let loaded: typeof SharpModule | undefined;

function load(): typeof SharpModule {
  return (loaded ??= requireCjs('sharp') as typeof SharpModule);
}

export const sharp = ((...args: unknown[]) => (load() as (...a: unknown[]) => unknown)(...args)) as unknown as typeof SharpModule;
export type { OverlayOptions, Sharp } from 'sharp';
