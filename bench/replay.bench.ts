// `hetu replay` throughput on the embedded log (issue H item 3; issue I's benchmark: "replay/backfill
// observations/s, target ≥ 100 000/s embedded"). Size: HETU_BENCH_REPLAY_OBS (default 200 000) and
// HETU_BENCH_REPLAY_PODS (default 2 000). Run alone: `node bench/replay.bench.ts`, or
// `npm run bench -- replay`.
//
// A deterministic scale recording is written, `analyze()` builds generation 1 from it in a data
// directory, then `replayOn()` re-runs every stage from the earliest record into generation 2 on
// one thread and into generation 3 on two (a stage worker), verifying each. Printed: raw observations of the window per second of the stages' run (the
// backfill rate), every stage record per second, the time of each stage and of the verification.
// Figures only: nothing about time is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeScaleRecording } from '@hetu/producers/recording';
import { StageWorker, analyze } from '../cli/src/commands/analyze.ts';
import { replayOn } from '../cli/src/commands/replay.ts';
import { openBackend } from '../cli/src/backend.ts';
import { parseGlobalConfig } from '../cli/src/config.ts';
import { envInt, loads } from './util.ts';

const TARGET_OBS_PER_S = 100_000;

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const observations = envInt('HETU_BENCH_REPLAY_OBS', 200_000, 1);
  const pods = envInt('HETU_BENCH_REPLAY_PODS', 2000, 10);
  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-replay-'));
  const file = join(dir, 'scale.jsonl.gz');
  const dataDir = join(dir, 'data');
  try {
    print(`load average before: ${loads()}`);
    const rec = await writeScaleRecording(file, { pods, observations });
    let t = performance.now();
    await analyze(file, { dataDir });
    const analyzeS = (performance.now() - t) / 1000;
    print(
      `generation 1: analyze of ${fmt(rec.observations)} observations of a ${fmt(pods)}-pod cluster in ${analyzeS.toFixed(1)} s`,
    );

    // One thread (generation 2), then two threads (generation 3: a stage worker with its own
    // connection, as `hetu replay` runs on the embedded log by default), from the same generation 1.
    const figures: Record<string, number> = { analyzeS };
    let oneRunMs = 0;
    for (const threads of [1, 2] as const) {
      const writeLock = new SharedArrayBuffer(4);
      const backend = await openBackend(parseGlobalConfig({ dataDir, output: 'json' }, {}), { writeLock });
      const worker = threads === 2 ? new StageWorker() : undefined;
      const marks: { name: string; at: number }[] = [];
      t = performance.now();
      let report: Awaited<ReturnType<typeof replayOn>>;
      try {
        if (worker) await worker.open(dataDir, writeLock, 'normal');
        t = performance.now();
        report = await replayOn(backend, {
          from: 'earliest',
          ...(worker ? { worker } : {}),
          progress: {
            stage: (name) => marks.push({ name, at: performance.now() }),
            verifying: () => marks.push({ name: 'verify', at: performance.now() }),
          },
        });
      } finally {
        await worker?.close();
        await backend.close();
      }
      const end = performance.now();
      print('');
      print(
        `**${threads} thread${threads === 2 ? 's' : ''}** — replay into generation ${report.generation}: ${fmt(report.observations)} observations, ` +
          `${report.verified ? 'verified' : 'NOT verified'}; stages ${(report.runMs / 1000).toFixed(1)} s, ` +
          `verification ${((report.elapsedMs - report.runMs) / 1000).toFixed(1)} s`,
      );
      print(
        `rate: ${fmt(report.observationsPerSecond)} observations/s ` +
          `(${(report.observationsPerSecond / TARGET_OBS_PER_S).toFixed(3)} × the 100 000/s target), ` +
          `${fmt(report.recordsPerSecond)} stage records/s`,
      );
      print('');
      print(`| ${threads === 2 ? 'stages running (from its start)' : 'phase'} | s |`);
      print('|---|---:|');
      for (const [i, m] of marks.entries())
        print(`| ${m.name} | ${(((marks[i + 1]?.at ?? end) - m.at) / 1000).toFixed(1)} |`);
      const key = `threads${threads}:`;
      figures[`${key}observations`] = report.observations;
      figures[`${key}observationsPerSecond`] = report.observationsPerSecond;
      figures[`${key}recordsPerSecond`] = report.recordsPerSecond;
      figures[`${key}runS`] = report.runMs / 1000;
      figures[`${key}verifyS`] = (report.elapsedMs - report.runMs) / 1000;
      figures[`${key}verified`] = report.verified ? 1 : 0;
      if (threads === 1) oneRunMs = report.runMs;
      else {
        figures['twoThreadsOverOne'] = report.runMs / oneRunMs;
        print('');
        print(`two threads ÷ one thread, stage time: ${(report.runMs / oneRunMs).toFixed(2)}`);
      }
    }
    print('');
    print(`load average after: ${loads()}`);
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const figures = await bench((line) => console.log(line));
  console.log(`\n<!-- figures: ${JSON.stringify(figures)} -->`);
}
