// A running `hetu run errors api` follows `hetu replay --switch` on Kafka (the test broker and
// Apicurio of the global setup, in a namespace of its own; docs/replay.md, "Following a switch"):
// generation 2 is a replay of the errors stage from a time on, so it lacks the error groups of the
// workload seen only before that time. After the switch the process's stage works in the group of
// generation 2 (new input advances it, not generation 1's) and the API answers from generation 2's
// read model; switching back to 1 moves it back, and generation 2 can then be pruned: the process
// is no longer a member of its group (no HETU_LOG_GROUP_IN_USE). And `hetu start` on the embedded
// log follows a `hetu replay --switch` run by another process on its data directory.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import { errorCode, groupProgress, prefixedLog, type AppendRecord } from '@hetu/streams';
import type { LogLineObserved } from '@hetu/schemas';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';
import { runRoles } from './commands/run.ts';
import { runStart } from './commands/start.ts';
import { createAnalysisTopics } from './commands/analyze.ts';
import { pruneOn, replayOn } from './commands/replay.ts';
import { physicalName, switchGeneration } from './generations.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const T0 = Date.parse('2026-11-26T08:00:00.000Z');
const HOUR = 3_600_000;
const CLUSTER = 'follow';

/** A stdout that keeps its lines and tells waiters about new ones. */
function lineSink() {
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let partial = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
      for (const l of [...listeners]) l();
      cb();
    },
  });
  const waitFor = (test: (line: string) => boolean, timeoutMs = 120_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no such line within ${timeoutMs} ms; the lines:\n${lines.join('\n')}`));
      }, timeoutMs);
      const check = () => {
        const hit = lines.find(test);
        if (hit === undefined) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(hit);
      };
      listeners.add(check);
      check();
    });
  return { out, lines, waitFor };
}

/** Error and info lines of one workload, `n` of them from `ts` on, a second apart. */
function linesOf(workload: string, ts: number, n: number): LogLineObserved[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: ts + i * 1000,
    cluster: CLUSTER,
    namespace: 'shop',
    pod: `${workload}-7d9f8c6b5-abcde`,
    container: workload,
    line:
      i % 3 === 0
        ? `2026-11-26 08:00:00 ERROR java.lang.IllegalStateException: ${workload} pool exhausted after ${100 + i} ms`
        : `INFO served GET /orders/${i} in ${i % 40}ms`,
    truncated: false,
    gap: false,
    workload,
    workloadKind: 'Deployment',
  }));
}

async function load(backend: Backend, lines: readonly LogLineObserved[]): Promise<void> {
  const records: AppendRecord[] = [];
  for (const l of lines)
    records.push({
      key: Buffer.from(`${l.cluster}/${l.namespace}/${l.workload}`),
      value: await backend.serde.encode('hetu.raw.logs', 'LogLineObserved', l),
      timestamp: l.ts,
    });
  await backend.log.append('hetu.raw.logs', records);
}

/** Committed and end offsets of a (physical) group on hetu.raw.logs, summed over partitions. */
const progress = (backend: Backend, group: string) => groupProgress(backend.log, group, ['hetu.raw.logs']);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (${String(last)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const caughtUp = (backend: Backend, group: string) =>
  until(`group ${group} caught up`, async () => {
    const p = await progress(backend, group);
    return p.end > 0n && p.committed >= p.end ? p : undefined;
  });

/** The workloads of the error groups the API answers with, sorted. */
async function workloads(url: string): Promise<string[]> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ errorGroups(first: 200) { nodes { workload } } }' }),
  });
  const body = (await res.json()) as { data?: { errorGroups: { nodes: { workload: string }[] } } };
  if (!body.data) throw new Error(JSON.stringify(body));
  return [...new Set(body.data.errorGroups.nodes.map((n) => n.workload))].sort();
}

const answers = (url: string, want: readonly string[]) =>
  until(`the API answers ${want.join(', ')}`, async () => {
    const got = await workloads(url);
    return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
  });

describe('a running hetu run follows hetu replay --switch', () => {
  it('moves its stage and its API to generation 2 and back to 1 without a restart; generation 2 can then be pruned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hetu-follow-'));
    const brokers = inject('kafkaBrokers').join(',');
    const registry = inject('schemaRegistryUrl');
    const kafka = await openBackend(parseGlobalConfig({ kafka: brokers, registry }, {}));
    const prefix = `follow-${randomUUID().slice(0, 8)}.`;
    const ns: Backend = { ...kafka, log: prefixedLog(kafka.log, prefix) };
    const sink = lineSink();
    const stop = new AbortController();
    let running: Promise<void> | undefined;
    try {
      running = runRoles(
        parseGlobalConfig({ kafka: brokers, registry, dataDir: join(dir, 'data') }, {}),
        ['errors', 'api'],
        {
          out: sink.out,
          signal: stop.signal,
          prefix,
          port: 0,
          webRoot: null,
          followIntervalMs: 500,
          metricsPort: 0,
        },
      );
      // A failure of the process must fail the test at once, not time it out.
      const failedEarly = running.then(
        () => undefined,
        (err: unknown) => err,
      );
      const up = await Promise.race([
        sink.waitFor((l) => l.startsWith('hetu run api: GraphQL API at ')),
        failedEarly.then((err) => {
          throw err ?? new Error('hetu run stopped');
        }),
      ]);
      const url = /GraphQL API at (\S+)\/graphql/.exec(up)![1]!;
      expect(up).toContain(`projections in ${join(dir, 'data', 'projections')};`);

      // Generation 1: an "early" workload, and an hour later a "late" one.
      await load(ns, linesOf('early', T0, 30));
      await load(ns, linesOf('late', T0 + HOUR, 30));
      await caughtUp(ns, 'errors');
      await answers(url, ['early', 'late']);

      // Generation 2: the errors stage replayed from the late workload's first line on.
      const report = await replayOn(ns, {
        from: new Date(T0 + HOUR).toISOString(),
        processors: ['errors'],
      });
      expect([report.generation, report.verified]).toEqual([2, true]);
      await switchGeneration(ns.log, 2, new Date().toISOString());
      const switched = await sink.waitFor((l) => l.startsWith('generation switch: 1 → 2'));
      expect(switched).toContain(`errors restarted on consumer group ${physicalName('errors', 2)}`);
      expect(switched).toContain(`api answers from ${join(dir, 'data', 'projections.g2')}`);
      // The API answers from generation 2's facts: the early workload is not among them.
      expect(await workloads(url)).toEqual(['late']);

      // New input goes to generation 2's group; generation 1's stays where it was.
      const g1Before = await progress(ns, 'errors');
      await load(ns, linesOf('fresh', T0 + 2 * HOUR, 30));
      await caughtUp(ns, physicalName('errors', 2));
      await answers(url, ['fresh', 'late']);
      const g1After = await progress(ns, 'errors');
      expect(g1After.committed).toBe(g1Before.committed);
      expect(g1After.end).toBeGreaterThan(g1After.committed);
      // The stage metrics report the lag of the group it works in now (generation 2's: none), not
      // generation 1's, which new input leaves behind.
      const metricsUrl = /stage metrics at (\S+)/.exec(
        await sink.waitFor((l) => l.startsWith('hetu run: stage metrics at ')),
      )![1]!;
      const scraped = await (await fetch(metricsUrl)).text();
      expect(scraped).toContain('hetu_consumer_lag_records{group="errors",topic="hetu.raw.logs"} 0\n');

      // Back to generation 1: its group goes on from where it was (catches up with the fresh
      // input), and the API answers from its read model again.
      await switchGeneration(ns.log, 1, new Date().toISOString());
      const back = await sink.waitFor((l) => l.startsWith('generation switch: 2 → 1'));
      expect(back).toContain('errors restarted on consumer group errors;');
      expect(back).toContain(`api answers from ${join(dir, 'data', 'projections')} at`);
      await caughtUp(ns, 'errors');
      await answers(url, ['early', 'fresh', 'late']);

      // Generation 2 is the old one now: pruning it finds its group without members.
      const pruned = await pruneOn(ns, 2, { confirm: async () => true }).catch((err: unknown) => {
        throw new Error(`prune of generation 2: ${errorCode(err) ?? ''} ${(err as Error).message}`);
      });
      expect(pruned.pruned).toBe(true);
      expect(pruned.groups).toEqual([physicalName('errors', 2)]);

      stop.abort();
      await running;
      expect(sink.lines).toContain(
        'errors stopped: its last batch committed, its partitions handed back to the group',
      );
      expect(sink.lines).toContain('api stopped');
    } finally {
      stop.abort();
      await running?.catch(() => undefined);
      await kafka.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('hetu start on the embedded log follows a switch that another process (hetu replay --switch) records in its data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hetu-follow-start-'));
    const dataDir = join(dir, 'data');
    const hetu = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [MAIN, '--data-dir', dataDir, ...args],
          { timeout: 120_000, env: { ...process.env, HETU_CONFIG: '' } },
          (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const sink = lineSink();
    const stop = new AbortController();
    let running: Promise<void> | undefined;
    try {
      // The input, and generation 2 replayed while hetu start is stopped (as on the embedded log it must).
      const backend = await openBackend(parseGlobalConfig({ dataDir }, {}));
      try {
        await createAnalysisTopics(backend);
        await load(backend, linesOf('early', T0, 30));
        await load(backend, linesOf('late', T0 + HOUR, 30));
        const report = await replayOn(backend, {
          from: new Date(T0 + HOUR).toISOString(),
          processors: ['errors'],
        });
        expect([report.generation, report.verified]).toEqual([2, true]);
      } finally {
        await backend.close();
      }

      let url = '';
      running = runStart(parseGlobalConfig({ dataDir }, {}), {
        out: sink.out,
        signal: stop.signal,
        demo: false,
        kube: null,
        port: 0,
        webRoot: null,
        followIntervalMs: 300,
        onListening: (u) => (url = u),
      });
      await Promise.race([
        sink.waitFor((l) => l.startsWith('projections: ')),
        running.then(() => {
          throw new Error('hetu start stopped');
        }),
      ]);
      expect(sink.lines).toContain(`projections: ${join(dataDir, 'projections')}. Ctrl-C stops.`);
      await answers(url, ['early', 'late']);

      // Another process switches readers; the running hetu start moves to generation 2.
      const two = await hetu(['replay', '--switch', '2']);
      expect(two.code, two.stderr).toBe(0);
      const switched = await sink.waitFor((l) => l.startsWith('generation switch: 1 → 2'));
      expect(switched).toContain(`API answers from ${join(dataDir, 'projections.g2')} at ${url}/graphql`);
      expect(await workloads(url)).toEqual(['late']);

      const one = await hetu(['replay', '--switch', '1']);
      expect(one.code, one.stderr).toBe(0);
      await sink.waitFor((l) => l.startsWith('generation switch: 2 → 1'));
      expect(await workloads(url)).toEqual(['early', 'late']);

      stop.abort();
      await running;
    } finally {
      stop.abort();
      await running?.catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('hetu start on Kafka (under a topic prefix) follows a switch recorded by hetu replay on the broker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hetu-follow-start-kafka-'));
    const brokers = inject('kafkaBrokers').join(',');
    const registry = inject('schemaRegistryUrl');
    const kafka = await openBackend(parseGlobalConfig({ kafka: brokers, registry }, {}));
    const prefix = `follow-start-${randomUUID().slice(0, 8)}.`;
    const ns: Backend = { ...kafka, log: prefixedLog(kafka.log, prefix) };
    const sink = lineSink();
    const stop = new AbortController();
    let running: Promise<void> | undefined;
    try {
      await createAnalysisTopics(ns);
      await load(ns, linesOf('early', T0, 30));
      await load(ns, linesOf('late', T0 + HOUR, 30));
      let url = '';
      running = runStart(parseGlobalConfig({ kafka: brokers, registry, dataDir: join(dir, 'data') }, {}), {
        out: sink.out,
        signal: stop.signal,
        prefix,
        demo: false,
        kube: null,
        port: 0,
        webRoot: null,
        followIntervalMs: 300,
        onListening: (u) => (url = u),
      });
      const up = await Promise.race([
        sink.waitFor((l) => l.startsWith('hetu is up: ')),
        running.then(() => {
          throw new Error('hetu start stopped');
        }),
      ]);
      expect(up).toContain(`topic prefix ${prefix}`);
      await answers(url, ['early', 'late']);
      // Its stages' groups are under the prefix: the errors group committed the input there.
      await caughtUp(ns, 'errors');

      // Generation 2 (errors from the late workload on), replayed and switched on the broker.
      const report = await replayOn(ns, { from: new Date(T0 + HOUR).toISOString(), processors: ['errors'] });
      expect([report.generation, report.verified]).toEqual([2, true]);
      await switchGeneration(ns.log, 2, new Date().toISOString());
      const switched = await sink.waitFor((l) => l.startsWith('generation switch: 1 → 2'));
      expect(switched).toContain(`API answers from ${join(dir, 'data', 'projections.g2')} at ${url}/graphql`);
      expect(await workloads(url)).toEqual(['late']);

      // New input goes through generation 2's errors group.
      await load(ns, linesOf('fresh', T0 + 2 * HOUR, 30));
      await caughtUp(ns, physicalName('errors', 2));
      await answers(url, ['fresh', 'late']);

      await switchGeneration(ns.log, 1, new Date().toISOString());
      await sink.waitFor((l) => l.startsWith('generation switch: 2 → 1'));
      await caughtUp(ns, 'errors');
      await answers(url, ['early', 'fresh', 'late']);

      stop.abort();
      await running;
    } finally {
      stop.abort();
      await running?.catch(() => undefined);
      await kafka.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
