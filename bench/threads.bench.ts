/**
 * How much two threads get out of this machine's two cores: the same CPU-bound JavaScript (numbers,
 * Map updates, small objects, JSON) once on the main thread alone, then on the main thread and a
 * worker at the same moment. `hetu analyze` runs its stages on two threads (docs/analyze-output.md);
 * this bounds what they can gain together (docs/benchmarks.md, seventh pass).
 */
import { Worker } from 'node:worker_threads';

// Plain JavaScript, so the worker can evaluate it as it is.
const WORK = `
function work(n) {
  const m = new Map();
  let x = 0;
  for (let i = 0; i < n; i++) {
    x = (x * 31 + i) | 0;
    if ((i & 1023) === 0) m.set(i % 5000, JSON.parse(JSON.stringify({ x, s: 'k' + (i % 97) })));
  }
  return x + m.size;
}
`;
const work = new Function(`${WORK}; return work;`)() as (n: number) => number;

const SIZE = 30_000_000;

async function both(): Promise<number> {
  const worker = new Worker(
    `${WORK}; const { parentPort } = require('node:worker_threads'); parentPort.once('message', (n) => { work(n); parentPort.postMessage('done'); });`,
    { eval: true },
  );
  await new Promise<void>((resolve) => worker.once('online', () => resolve()));
  const t0 = performance.now();
  const done = new Promise<void>((resolve) => worker.once('message', () => resolve()));
  worker.postMessage(SIZE);
  work(SIZE);
  await done;
  const ms = performance.now() - t0;
  await worker.terminate();
  return ms;
}

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  work(SIZE / 10); // warm-up
  const alone: number[] = [];
  const together: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    work(SIZE);
    alone.push(performance.now() - t0);
    together.push(await both());
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const a = median(alone);
  const b = median(together);
  print(`5 rounds, ${SIZE.toLocaleString('en')} steps each (median): one thread alone ${a.toFixed(0)} ms;`);
  print(`the same on two threads at once ${b.toFixed(0)} ms (${(b / a).toFixed(2)} × alone)`);
  print(
    `→ two threads do ${((2 * a) / b).toFixed(2)} × the work of one in the same time (2.00 would be two full cores)`,
  );
  return { aloneMs: a, togetherMs: b, ratio: b / a, speedup: (2 * a) / b };
}
