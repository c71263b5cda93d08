#!/usr/bin/env node
// Fills the compile cache cli/bin/hetu.js uses with every module of hetu's packages (the image
// runs it at build time, as the user it runs as: the cache is per user), so that a role started
// later strips no TypeScript. Prints how many modules it compiled; a module that cannot load
// here (a test helper whose dev dependency is not installed) is skipped and counted.
import { spawnSync } from 'node:child_process';
import { flushCompileCache } from 'node:module';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { useCompileCache } from './compile-cache.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cache = useCompileCache();
if (cache.status === 'off') {
  console.log('HETU_COMPILE_CACHE=off: nothing to warm.');
  process.exit(0);
}
if (cache.status === 'failed') {
  // The image build must not ship a cold cache without saying so.
  console.error(
    `The compile cache ${cache.directory} could not be turned on (${cache.message}): make it writable by this user, or set HETU_COMPILE_CACHE to a directory that is.`,
  );
  process.exit(1);
}
/**
 * Entry points that run when imported: main.ts is warmed by running it (below); the crash tests'
 * child processes are test code, never a role.
 */
const RUNS = new Set([
  'cli/src/main.ts',
  'cli/src/crash/stages-child.ts',
  'streams/src/contract/crash-child.ts',
]);
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !RUNS.has(relative(root, p)))
      files.push(p);
  }
};
for (const pkg of ['schemas', 'streams', 'producers', 'processors', 'projections', 'cli'])
  walk(join(root, pkg, 'src'));
const skipped = [];
for (const f of files.sort()) {
  try {
    await import(pathToFileURL(f).href);
  } catch (err) {
    skipped.push(`${relative(root, f)} (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
}
flushCompileCache();
// main.ts parses its command line when it loads: run it, through the same entry and cache.
const listed = spawnSync(process.execPath, [join(root, 'cli/bin/hetu.js'), 'run', '--list', '-o', 'json'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (listed.status !== 0) skipped.push(`cli/src/main.ts (hetu run --list exited ${listed.status})`);

console.log(
  `compile cache ${cache.directory} (${cache.status}): ${files.length + 1 - skipped.length} modules compiled, ${skipped.length} skipped.`,
);
for (const s of skipped) console.log(`  skipped ${s}`);
process.exit(0);
