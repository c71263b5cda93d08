// `npm run bench`: every benchmark, one after another in one process, printing its figures.
// Figures that compare two things (hetu vs a baseline) are measured in the same run.
// Select some with arguments: `npm run bench -- log detect`.
import { cpus, totalmem } from 'node:os';

const BENCHES = {
  log: () => import('./log.bench.ts'),
  e2e: () => import('./e2e.bench.ts'),
  fingerprint: () => import('./fingerprint.bench.ts'),
  detect: () => import('./detect.bench.ts'),
  analyze: () => import('./analyze.bench.ts'),
  api: () => import('./api.bench.ts'),
  push: () => import('./push.bench.ts'),
  latency: () => import('./latency.bench.ts'),
  collect: () => import('./collect.bench.ts'),
  roles: () => import('./roles.bench.ts'),
  replay: () => import('./replay.bench.ts'),
  web: () => import('./web.bench.ts'),
  threads: () => import('./threads.bench.ts'),
} as const;

type Name = keyof typeof BENCHES;
const wanted = (process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(BENCHES)) as Name[];
for (const w of wanted) {
  if (!(w in BENCHES)) {
    console.error(`Unknown benchmark ${w}: choose from ${Object.keys(BENCHES).join(', ')}.`);
    process.exit(2);
  }
}

const cpu = cpus();
console.log(
  `# hetu benchmarks — ${new Date().toISOString()} — Node ${process.versions.node}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
);
const all: Record<string, Record<string, number>> = {};
for (const name of wanted) {
  console.log(`\n## ${name}\n`);
  const t0 = performance.now();
  const mod = await BENCHES[name]();
  all[name] = await mod.bench((line) => console.log(line));
  console.log(`\n(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`\n<!-- figures: ${JSON.stringify(all)} -->`);
