/**
 * What `hetu analyze` shows on standard error while it works: on a terminal, a bar for reading the
 * recording, then a bar per stage (records folded of those in its inputs, rate) — two at once when
 * two stages run on two threads; elsewhere, one line when each stage starts and one when it ends.
 */
import cliProgress from 'cli-progress';
import type { AnalyzeProgress } from './commands/analyze.ts';

interface Out {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

export function analyzeProgress(
  out: Out,
  now: () => number = () => performance.now(),
): AnalyzeProgress & {
  stop(): void;
} {
  const began = new Map<string, number>();
  const folded = new Map<string, number>();
  /** Seconds since a stage started. */
  const elapsed = (name: string) => (now() - (began.get(name) ?? now())) / 1000;
  const secs = (name: string) => elapsed(name).toFixed(1);
  if (!out.isTTY)
    return {
      stage: (name) => {
        began.set(name, now());
        out.write(`stage: ${name}\n`);
      },
      records: (name, done) => void folded.set(name, done),
      split: (name, onThis, onWorker) =>
        out.write(
          `stage split: ${name} on both threads (tasks ${onThis.join(', ')} | ${onWorker.join(', ')})\n`,
        ),
      stageDone: (name) =>
        out.write(`stage done: ${name} (${folded.get(name) ?? 0} records, ${secs(name)} s)\n`),
      stop: () => undefined,
    };
  const multi = new cliProgress.MultiBar(
    {
      stream: out as NodeJS.WritableStream,
      format: '{name} [{bar}] {percentage}% {value}/{total} {unit}{rate}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let reading: cliProgress.SingleBar | undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  const rate = (name: string, done: number) => {
    const s = elapsed(name);
    return s > 0 ? `, ${Math.round(done / s).toLocaleString('en-US')}/s` : '';
  };
  return {
    ingest: (read, total) => {
      reading ??= multi.create(total, 0, { name: 'reading'.padEnd(18), unit: 'bytes', rate: '' });
      reading.update(read);
    },
    stage: (name) => {
      reading?.update(reading.getTotal());
      began.set(name, now());
      bars.set(name, multi.create(1, 0, { name: name.padEnd(18), unit: 'records', rate: '' }));
    },
    records: (name, done, total) => {
      const bar = bars.get(name);
      folded.set(name, done);
      bar?.setTotal(Math.max(total, done));
      bar?.update(done, { rate: rate(name, done) });
    },
    stageDone: (name) => {
      const bar = bars.get(name);
      // What it folded is its whole input (the estimate counted markers and compacted offsets).
      const done = folded.get(name) ?? 0;
      bar?.setTotal(done);
      bar?.update(done, { rate: `, ${secs(name)} s` });
    },
    stop: () => multi.stop(),
  };
}
