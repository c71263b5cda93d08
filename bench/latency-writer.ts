// The background writer of bench/latency.bench.ts, in its own process so hetu's work does not slow
// it: appends ordinary CRI log lines at <rate> lines/s (catching up by elapsed time) round-robin
// over the files given, until SIGTERM (then prints how many lines it wrote) or until its stdin
// closes (the bench died).
import { appendFileSync } from 'node:fs';

const [rateArg, ...files] = process.argv.slice(2);
const rate = Number(rateArg);
if (!(rate > 0) || files.length === 0) {
  process.stderr.write('usage: latency-writer.ts <lines per second> <file>...\n');
  process.exit(2);
}
const t0 = performance.now();
let written = 0;
let next = 0;
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - t0) / 1000) * rate) - written;
  const byFile = new Map<string, string>();
  const stamp = new Date().toISOString().replace('Z', '000000Z');
  for (let j = 0; j < due; j++) {
    const f = files[next++ % files.length]!;
    byFile.set(f, (byFile.get(f) ?? '') + `${stamp} stdout F INFO GET /api/items/${written + j} 200 3ms\n`);
  }
  for (const [f, text] of byFile) appendFileSync(f, text);
  written += Math.max(0, due);
}, 10);
process.on('SIGTERM', () => {
  clearInterval(timer);
  process.stdout.write(`${written} ${((performance.now() - t0) / 1000).toFixed(3)}\n`);
  process.exit(0);
});
// The bench holds our stdin open: when it dies (killed, crashed) without sending SIGTERM, stop
// too instead of appending to its files forever.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
