#!/usr/bin/env node
// Entry for `npx hetu`, `npm start`, `npm run hetu` and the image: runs the TypeScript CLI with
// Node 24's type stripping, through the compile cache (./compile-cache.js) when there is one.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `hetu needs Node 24 or newer (this is ${process.versions.node}): run it through 'npm run hetu --' in the project, which uses the project's Node 24.`,
  );
  process.exit(2);
}
const { useCompileCache } = await import('./compile-cache.js');
useCompileCache();
await import('../src/main.ts');
