// Where hetu keeps Node's compile cache (docs/roles.md, "Start-up and the compile cache"): the
// TypeScript sources stripped of their types and V8's code for them, so a process started with a
// warm cache never loads Node's TypeScript stripper (a WebAssembly module that keeps ~27 MiB of a
// collector's RSS for its whole life) and starts faster. HETU_COMPILE_CACHE names another
// directory, or `off`.
import { constants, enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

export const DEFAULT_COMPILE_CACHE = fileURLToPath(
  new URL('../../.cache/node-compile-cache', import.meta.url),
);

/** Turns the cache on for this process (and, through NODE_COMPILE_CACHE, its children). */
export function useCompileCache(env = process.env) {
  const dir = env.HETU_COMPILE_CACHE || DEFAULT_COMPILE_CACHE;
  if (dir === 'off') return { status: 'off', directory: null };
  // A cache that cannot be written (a read-only install) only costs the start-up it would save.
  const r = enableCompileCache(dir);
  const names = Object.entries(constants.compileCacheStatus);
  const status = names.find(([, v]) => v === r.status)?.[0].toLowerCase() ?? String(r.status);
  return { status, directory: r.directory ?? dir, message: r.message };
}
