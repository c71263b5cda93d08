import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { AppendRecord, Log } from '../port.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { sumProcessor, type SumState } from './sum-processor.ts';
import { prng } from '../prng.ts';

export interface CrashReport {
  records: number;
  badRecords: number;
  kills: number;
  /** How each kill was placed: after N committed batches, or N ms after start. */
  killPoints: string[];
  keys: number;
  folded: number;
  deadLetters: number;
  /** Bad records (partition/offset) with no dead letter. */
  missingDeadLetters: string[];
  differingKeys: string[];
  /** Per child run, the committed batches it printed before it was killed. */
  batchesPerRun: number[];
}

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

function startChild(args: string[]): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  return { child, lines: rl[Symbol.asyncIterator]() };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) =>
    child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r()),
  );
}

/**
 * Folds `records` records through the sum processor in a child process, killing it with SIGKILL
 * `kills` times at random points (after a random number of committed batches, or a random
 * time after start — during restore), then lets a last child finish, and compares the
 * changelog's table with a clean fold of the same input, key by key.
 */
export async function runCrashTest(opts: {
  log: Log;
  childArgs: string[];
  kills: number;
  records: number;
  seed: number;
}): Promise<CrashReport> {
  const { log } = opts;
  const rand = prng(opts.seed);
  const id = randomUUID().slice(0, 8);
  const input = `t-crash-in-${id}`;
  const name = `crash-${id}`;
  const changelog = `hetu.state.crash-${id}`;
  const dlq = `hetu.dlq.crash-${id}`;
  await log.ensureTopics([{ name: input, partitions: 2, cleanupPolicy: 'delete' }]);

  const def = sumProcessor({ name, input, changelog });
  const clean = new ProcessorTestDriver(def);
  let bad = 0;
  const badPositions = new Set<string>();
  const chunk: AppendRecord[] = [];
  for (let i = 0; i < opts.records; i++) {
    const isBad = i % 997 === 500;
    if (isBad) bad++;
    const rec = {
      key: Buffer.from(`k${i % 1000}`),
      value: Buffer.from(isBad ? `x${i}` : String(i)),
      timestamp: 1_000_000 + i,
    };
    chunk.push(rec);
    if (chunk.length === 5000 || i === opts.records - 1) {
      const positions = await log.append(input, chunk);
      for (let j = 0; j < chunk.length; j++) {
        const c = chunk[j]!;
        if (c.value!.toString().startsWith('x'))
          badPositions.add(`${positions[j]!.partition}/${positions[j]!.offset}`);
        await clean.pipeAt(
          input,
          { key: c.key, value: c.value, timestamp: c.timestamp!, partition: positions[j]!.partition },
          positions[j]!.offset,
        );
      }
      chunk.length = 0;
    }
  }

  const args = [...opts.childArgs, '--input', input, '--changelog', changelog, '--name', name, '--dlq', dlq];
  const killPoints: string[] = [];
  const batchesPerRun: number[] = [];
  const batchSize = 250;
  // Kill points: a quarter of the kills during restore (as soon as a task has restored its
  // state), the rest after a random number of committed batches, spread over the whole fold.
  const total = Math.ceil(opts.records / batchSize);
  const plan = Array.from({ length: opts.kills }, () =>
    rand() < 0.25 ? -1 : 1 + Math.floor(rand() * total),
  );
  const points = plan.filter((p) => p > 0).sort((a, b) => a - b);
  let committedSoFar = 0;
  for (const step of plan) {
    const { child, lines } = startChild([...args, '--batch', String(batchSize)]);
    const onRestore = step < 0;
    const target = onRestore ? 0 : Math.max(1, points.shift()! - committedSoFar);
    let seen = 0;
    for (;;) {
      const next = await lines.next();
      if (next.done || next.value === 'caught-up') break;
      if (onRestore && next.value.startsWith('restored ')) break;
      if (next.value.startsWith('batch ') && ++seen >= target && !onRestore) break;
    }
    child.kill('SIGKILL');
    await exited(child);
    killPoints.push(onRestore ? 'restore' : `${target}b`);
    committedSoFar += seen;
    batchesPerRun.push(seen);
  }
  // The last run finishes the fold.
  const { child, lines } = startChild([...args, '--batch', String(batchSize)]);
  for (;;) {
    const next = await lines.next();
    if (next.done) throw new Error('the last crash-test child exited before it caught up');
    if (next.value === 'caught-up') break;
  }
  child.stdin!.end();
  await exited(child);

  const got = new Map<string, SumState>();
  for (const p of [0, 1]) {
    for (const r of await log.read(changelog, p)) {
      const key = r.key!.toString();
      if (key.startsWith('\u0000')) continue;
      if (r.value === null) got.delete(key);
      else got.set(key, JSON.parse(r.value.toString()) as SumState);
    }
  }
  const want = new Map<string, SumState>();
  for (const p of [0, 1]) for (const [key, v] of clean.state<SumState>(p)) want.set(key, v);
  const differing: string[] = [];
  for (const key of new Set([...want.keys(), ...got.keys()])) {
    if (JSON.stringify(want.get(key)) !== JSON.stringify(got.get(key))) differing.push(key);
  }
  const dead = await log.read(dlq, 0);
  const deadSources = new Set(
    dead.map((d) => {
      const j = JSON.parse(d.value!.toString()) as { source: { partition: number; offset: string } };
      return `${j.source.partition}/${j.source.offset}`;
    }),
  );
  const missingDeadLetters = [...badPositions].filter((p) => !deadSources.has(p));
  return {
    records: opts.records,
    badRecords: bad,
    kills: killPoints.length,
    killPoints,
    keys: got.size,
    folded: [...got.values()].reduce((a, s) => a + s.count, 0),
    deadLetters: dead.length,
    missingDeadLetters,
    differingKeys: differing,
    batchesPerRun,
  };
}
