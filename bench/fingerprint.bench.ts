/**
 * Error-grouping benchmark on loghub-2k (see ../shared/datasets/README.md).
 *
 * - grouping accuracy (GA) per system and the mean, for `content` and `raw` input, through the
 *   same pipeline as `hetu fingerprint` (parseLine → detect → Fingerprinter), next to the naive
 *   "mask every digit run" baseline computed in the same run;
 * - throughput on one core (Node runs it on one thread): lines/s of the library pipeline over
 *   all content files, and of `runFingerprint` (readline, JSON output) end to end in memory.
 *
 * Run alone: `node bench/fingerprint.bench.ts`. Datasets: `$HETU_DATASETS` or
 * `<repo root>/../shared/datasets`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PassThrough, Writable } from 'node:stream';
import {
  detect,
  digitMask,
  fingerprint,
  Fingerprinter,
  groupingAccuracy,
  parseLine,
} from '@hetu/processors/errors/parse';
import { runFingerprint } from '../cli/src/commands/fingerprint.ts';

export const SYSTEMS = [
  'HDFS',
  'Hadoop',
  'Spark',
  'Zookeeper',
  'BGL',
  'HPC',
  'Thunderbird',
  'Windows',
  'Linux',
  'Android',
] as const;

type Input = 'content' | 'raw';

function datasetsDir(): string {
  return process.env.HETU_DATASETS ?? fileURLToPath(new URL('../../shared/datasets', import.meta.url));
}

function readLines(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

interface SystemData {
  name: string;
  content: string[];
  raw: string[];
  truth: string[];
}

function load(): SystemData[] {
  const dir = datasetsDir() + '/loghub-2k';
  return SYSTEMS.map((name) => ({
    name,
    content: readLines(`${dir}/${name}.content.txt`),
    raw: readLines(`${dir}/${name}.raw.log`),
    truth: readLines(`${dir}/${name}.truth.txt`),
  }));
}

/** The fingerprints of a file, one fresh fingerprinter per file (as `hetu fingerprint` does). */
export function fingerprintFile(lines: readonly string[], input: Input): string[] {
  const fp = new Fingerprinter();
  const header = input === 'raw';
  const out: string[] = [];
  for (const line of lines) {
    const p = parseLine(line, { header });
    out.push(fp.fingerprint(p, detect(p)).fingerprint);
  }
  return out;
}

/** Masking only: the stateless `fingerprint()` (level + masked template), no clustering. */
export function maskOnlyFile(lines: readonly string[], input: Input): string[] {
  const header = input === 'raw';
  return lines.map((line) => {
    const p = parseLine(line, { header });
    return fingerprint(p, detect(p)).fingerprint;
  });
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const data = load();
  const result: Record<string, number> = {};
  print('### Error grouping — grouping accuracy on loghub-2k (hetu vs naive digit masking)');
  print('');
  print('| system | hetu content | masking only, content | naive content | hetu raw | naive raw |');
  print('|---|---|---|---|---|---|');
  const sums = { content: 0, raw: 0, maskOnly: 0, naiveContent: 0, naiveRaw: 0 };
  for (const s of data) {
    const gc = groupingAccuracy(fingerprintFile(s.content, 'content'), s.truth);
    const gr = groupingAccuracy(fingerprintFile(s.raw, 'raw'), s.truth);
    const mc = groupingAccuracy(maskOnlyFile(s.content, 'content'), s.truth);
    const nc = groupingAccuracy(s.content.map(digitMask), s.truth);
    const nr = groupingAccuracy(s.raw.map(digitMask), s.truth);
    result[`ga.content.${s.name}`] = gc;
    result[`ga.raw.${s.name}`] = gr;
    result[`maskonly.content.${s.name}`] = mc;
    result[`naive.content.${s.name}`] = nc;
    result[`naive.raw.${s.name}`] = nr;
    sums.content += gc;
    sums.raw += gr;
    sums.maskOnly += mc;
    sums.naiveContent += nc;
    sums.naiveRaw += nr;
    print(
      `| ${pad(s.name, 11)} | ${gc.toFixed(3)} | ${mc.toFixed(3)} | ${nc.toFixed(3)} | ${gr.toFixed(3)} | ${nr.toFixed(3)} |`,
    );
  }
  const k = data.length;
  result['ga.content.mean'] = sums.content / k;
  result['ga.raw.mean'] = sums.raw / k;
  result['maskonly.content.mean'] = sums.maskOnly / k;
  result['naive.content.mean'] = sums.naiveContent / k;
  result['naive.raw.mean'] = sums.naiveRaw / k;
  const f4 = (x: number): string => (x / k).toFixed(4);
  print(
    `| **mean** | **${f4(sums.content)}** | ${f4(sums.maskOnly)} | ${f4(sums.naiveContent)} | **${f4(sums.raw)}** | ${f4(sums.naiveRaw)} |`,
  );
  print('');

  // Throughput: the library pipeline over all content files, repeated; best of the rounds.
  // Wall clock and process CPU time are both recorded: on a shared machine the CPU-time rate
  // (lines per CPU-second of this process) is the fairer "one core" figure.
  const all = data.flatMap((s) => s.content);
  const rounds = 25;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const s of data) fingerprintFile(s.content, 'content');
    const w = seconds(t0);
    const c = process.cpuUsage(c0);
    wall.push(all.length / w);
    cpu.push(all.length / ((c.user + c.system) / 1e6));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const best = Math.max(...wall);
  result['throughput.library.wall.best'] = best;
  result['throughput.library.wall.median'] = median(wall);
  result['throughput.library.cpu.best'] = Math.max(...cpu);
  result['throughput.library.cpu.median'] = median(cpu);

  // End to end through runFingerprint (readline + JSON lines), in memory.
  const text = all.join('\n') + '\n';
  let cliBest = 0;
  for (let r = 0; r < 3; r++) {
    const input = new PassThrough();
    const sink = new Writable({
      write(_chunk, _enc, cb) {
        cb();
      },
    });
    const t0 = process.hrtime.bigint();
    const done = runFingerprint({ input: 'content', in: input, out: sink });
    input.end(text);
    const { lines } = await done;
    const rate = lines / seconds(t0);
    if (rate > cliBest) cliBest = rate;
  }
  result['throughput.cli.best'] = cliBest;
  print(`### Error grouping — throughput (one core, ${all.length} content lines per round)`);
  print('');
  print(
    `- library (parse + detect + fingerprint), wall clock: best ${Math.round(best)} lines/s, median ${Math.round(median(wall))} lines/s over ${rounds} rounds`,
  );
  print(
    `- library, per CPU-second of this process: best ${Math.round(Math.max(...cpu))} lines/s, median ${Math.round(median(cpu))} lines/s`,
  );
  print(
    `- \`runFingerprint\` end to end (readline + JSON output, in memory): best ${Math.round(cliBest)} lines/s over 3 rounds`,
  );
  return result;
}

if (import.meta.main) {
  await bench((line) => console.log(line));
}
