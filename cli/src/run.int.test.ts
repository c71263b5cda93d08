// `hetu run <stage>` as real child processes on the test Kafka: two instances of the errors stage
// share its partitions; one is SIGKILLed mid-run; the other takes its partitions over, and the
// facts end equal to those of a single clean run (docs/roles.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { groupProgress, prefixedLog, type AppendRecord } from '@hetu/streams';
import type { LogLineObserved } from '@hetu/schemas';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';
import { analyzeOn, createAnalysisTopics, ingest, table } from './commands/analyze.ts';
import { canonicalJson, factDigest } from './digest.ts';
import { listRoles } from './commands/run.ts';
import { FRONTIERS_TOPIC, decodeFrontier, stageTasks } from './frontiers.ts';
import { llmRequestsStage } from './llm.ts';
import { pipelineStages } from './stages.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const T0 = Date.parse('2026-11-26T08:00:00.000Z');
/** Log lines loaded: enough that two instances at 50 records a batch work for a while. */
const LINES = 24_000;
const WORKLOADS = 18;
const BATCH = '50';
const DEMO = 'demo/demo.jsonl.gz';

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A `hetu run` child: its stdout lines as they come, and its exit. */
interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /**
   * Resolves once a line matching `test` was printed; rejects, with what the child said, if it
   * exits first or after `timeoutMs` (default 120 s).
   */
  waitFor(test: (line: string) => boolean, timeoutMs?: number): Promise<string>;
}

function runChild(
  prefix: string,
  role: string | readonly string[],
  extra: readonly string[] = ['--batch-records', BATCH],
): Child {
  const args = [
    MAIN,
    '--kafka',
    inject('kafkaBrokers').join(','),
    '--registry',
    inject('schemaRegistryUrl'),
    'run',
    ...(typeof role === 'string' ? [role] : role),
    '--topic-prefix',
    prefix,
    ...extra,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const l of [...listeners]) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) =>
      child.on('exit', (code, signal) => {
        for (const l of [...listeners]) l();
        resolve({ code, signal, stderr });
      }),
  );
  return {
    process: child,
    lines,
    exit,
    stderr: () => stderr,
    waitFor: (test, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const said = () => `stdout:\n${lines.slice(-40).join('\n')}\nstderr:\n${stderr.slice(-2000)}`;
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `hetu run ${String(role)} did not print what was awaited in ${timeoutMs} ms; ${said()}`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          const hit = lines.find(test);
          if (hit !== undefined) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`hetu run ${String(role)} exited before printing what was awaited; ${said()}`));
          }
        };
        listeners.add(check);
        check();
      }),
  };
}

/** SIGTERMs a child and waits for its exit; fails with what it said if it has not exited in 90 s. */
async function stop(
  child: Child,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  child.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.process.kill('SIGKILL');
      reject(
        new Error(
          `a hetu run child did not exit within 90 s of SIGTERM\nstdout:\n${child.lines.slice(-40).join('\n')}\nstderr:\n${child.stderr().slice(-3000)}`,
        ),
      );
    }, 90_000);
  });
  try {
    const exit = await Promise.race([child.exit, late]);
    // It stopped cleanly but a closing step hung (boundedClose) or something kept it alive
    // (exitAfterStop): say what, so a log shows it.
    for (const note of exit.stderr.match(/^hetu run: (stopped cleanly, but|closing ).*$/gm) ?? [])
      console.log(`a hetu run child after its stop: ${note}`);
    return exit;
  } finally {
    clearTimeout(timer);
  }
}

/** The same log lines every time: many workloads (spread over the 3 partitions), some errors. */
function logLines(cluster: string): LogLineObserved[] {
  const out: LogLineObserved[] = [];
  for (let i = 0; i < LINES; i++) {
    const w = i % WORKLOADS;
    const workload = `svc-${w}`;
    const kind = (i * 7 + w) % 10;
    const line =
      kind === 0
        ? `2026-11-26 08:00:00 ERROR java.lang.IllegalStateException: pool ${w} exhausted after ${100 + (i % 97)} ms`
        : kind === 1
          ? JSON.stringify({ level: 'error', msg: `payment for order ${4711 + i} failed`, status: 503 })
          : kind === 2
            ? `level=warn msg="upstream slow" upstream=db-${w % 3} duration_ms=${i % 5000}`
            : kind === 3 && w % 4 === 0
              ? `panic: runtime error: index out of range [${i % 9}] with length ${i % 5}`
              : `INFO served GET /orders/${i} in ${i % 40}ms`;
    out.push({
      ts: T0 + i * 10,
      cluster,
      namespace: `ns-${w % 3}`,
      pod: `${workload}-7d9f8c6b5-${String(w).padStart(5, 'x')}`,
      container: workload,
      line,
      truncated: false,
      gap: false,
      workload,
      workloadKind: 'Deployment',
    });
  }
  return out;
}

async function load(backend: Backend, lines: readonly LogLineObserved[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 2000) {
    const records: AppendRecord[] = [];
    for (const l of lines.slice(i, i + 2000))
      records.push({
        key: Buffer.from(`${l.cluster}/${l.namespace}/${l.workload}`),
        value: await backend.serde.encode('hetu.raw.logs', 'LogLineObserved', l),
        timestamp: l.ts,
      });
    await backend.log.append('hetu.raw.logs', records);
  }
}

/** Committed and end offsets of the errors group on hetu.raw.logs, summed over partitions. */
const progress = (backend: Backend) => groupProgress(backend.log, 'errors', ['hetu.raw.logs']);

/** Polls until the errors group committed everything on hetu.raw.logs. */
async function caughtUp(backend: Backend, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await progress(backend);
    if (p.committed >= p.end) return;
    if (Date.now() > deadline)
      throw new Error(`the errors group did not catch up: ${p.committed} of ${p.end}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A compacted fact topic as `key → canonical JSON of its decoded newest value`. */
async function facts(backend: Backend, topic: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of [...(await table(backend, topic))].sort(([a], [b]) => a.localeCompare(b)))
    out[k] = canonicalJson(v);
  return out;
}

/** The demo's facts as `hetu analyze` derives them on the embedded log (once per file). */
let analyzedDemo: Promise<Awaited<ReturnType<typeof factDigest>>> | undefined;
function demoDigest(dir: string): Promise<Awaited<ReturnType<typeof factDigest>>> {
  analyzedDemo ??= (async () => {
    const embedded = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'analyze') }, {}));
    return analyzeOn(embedded, DEMO)
      .then(() => factDigest(embedded))
      .finally(() => embedded.close());
  })();
  return analyzedDemo;
}

/** The test Kafka (the global setup's broker and registry). */
const openKafka = () =>
  openBackend(
    parseGlobalConfig({ kafka: inject('kafkaBrokers').join(','), registry: inject('schemaRegistryUrl') }, {}),
  );

/** A fresh namespace on `kafka` holding the demo's raw input, as `hetu analyze` ingests it. */
async function demoNamespace(kafka: Backend, name: string): Promise<{ prefix: string; ns: Backend }> {
  const prefix = `${name}-${randomUUID().slice(0, 8)}.`;
  const ns: Backend = { ...kafka, log: prefixedLog(kafka.log, prefix) };
  await createAnalysisTopics(ns);
  await ingest(ns, DEMO);
  return { prefix, ns };
}

const restoredTask = (line: string) => /^restored errors task (\d+):/.exec(line)?.[1];
/** The tasks of an `errors owns …` line (empty for "no task"); undefined for other lines. */
const ownedTasks = (line: string): string[] | undefined =>
  line.startsWith('errors owns no task') ? [] : /^errors owns tasks? ([\d, ]+)$/.exec(line)?.[1]!.split(', ');

describe('hetu run <stage> as separate processes on Kafka', () => {
  it('two errors instances share the partitions; after a SIGKILL of one mid-run the other ends with the facts of a clean run', async () => {
    const kafka = await openKafka();
    try {
      const id = randomUUID().slice(0, 8);
      const lines = logLines(`c-${id}`);
      const cleanPrefix = `run-clean-${id}.`;
      const killPrefix = `run-kill-${id}.`;
      const clean: Backend = { ...kafka, log: prefixedLog(kafka.log, cleanPrefix) };
      const crashed: Backend = { ...kafka, log: prefixedLog(kafka.log, killPrefix) };

      // The clean run: one instance to the end, then SIGTERM (commit, close, exit 0).
      const one = runChild(cleanPrefix, 'errors');
      await one.waitFor((l) => l.startsWith('hetu run errors:'));
      await load(clean, lines);
      const t0 = performance.now();
      await caughtUp(clean, 200_000).catch((err: unknown) => {
        throw new Error(
          `${(err as Error).message}\nit said:\n${one.lines.join('\n')}\nstderr:\n${one.stderr().slice(-3000)}`,
        );
      });
      const cleanSeconds = (performance.now() - t0) / 1000;
      const oneExit = await stop(one);
      expect(oneExit.code, oneExit.stderr).toBe(0);
      expect(one.lines).toContain(
        'errors stopped: its last batch committed, its partitions handed back to the group',
      );
      const want = await facts(clean, 'hetu.facts.error-groups');
      expect(Object.keys(want).length).toBeGreaterThan(WORKLOADS);

      // Two instances: A starts, half the records arrive, B joins while A works and gets some of the
      // partitions, then the other half arrives. (Had every record been there before B joined, A
      // might have finished B's partitions before the rebalance ended, and B would have had nothing
      // to do: a test that waited for B to restore a task hung.)
      const a = runChild(killPrefix, 'errors');
      await a.waitFor((l) => l.startsWith('hetu run errors:'));
      const half = lines.length / 2;
      await load(crashed, lines.slice(0, half));
      await a.waitFor((l) => restoredTask(l) !== undefined);
      const b = runChild(killPrefix, 'errors');
      const owns = await b.waitFor((l) => ownedTasks(l) !== undefined && ownedTasks(l)!.length > 0);
      const bTasks = new Set(ownedTasks(owns));
      await load(crashed, lines.slice(half));
      await b.waitFor((l) => restoredTask(l) !== undefined);
      for (const l of b.lines) {
        const t = restoredTask(l);
        if (t !== undefined) expect(bTasks.has(t), `B restored task ${t}, which it owns`).toBe(true);
      }
      // Both work for a while (the group commits more), then B dies without a goodbye.
      const atJoin = await progress(crashed);
      const joinDeadline = Date.now() + 120_000;
      for (;;) {
        const p = await progress(crashed);
        if (p.committed - atJoin.committed >= 1_000n || p.committed >= p.end) break;
        if (Date.now() > joinDeadline)
          throw new Error(
            `after B joined the group committed ${p.committed - atJoin.committed} records in 120 s (${p.committed} of ${p.end})\nA said:\n${a.lines.join('\n')}\nA's stderr:\n${a.stderr().slice(-3000)}\nB said:\n${b.lines.join('\n')}\nB's stderr:\n${b.stderr().slice(-3000)}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
      const aBefore = a.lines.length;
      b.process.kill('SIGKILL');
      const atKill = await progress(crashed);
      const bExit = await b.exit;
      expect(bExit.signal).toBe('SIGKILL');
      // The kill landed mid-run: records of the stage were still to be processed.
      expect(atKill.committed).toBeLessThan(atKill.end);
      expect(bTasks.size).toBeGreaterThan(0);

      // A takes B's partitions over (after the group's session timeout) and finishes the work.
      await caughtUp(crashed, 200_000).catch((err: unknown) => {
        throw new Error(
          `${(err as Error).message}\nA said:\n${a.lines.join('\n')}\nA's stderr:\n${a.stderr().slice(-3000)}\nB said:\n${b.lines.join('\n')}`,
        );
      });
      const aTasksAfter = new Set(
        a.lines
          .slice(aBefore)
          .map(restoredTask)
          .filter((t) => t !== undefined),
      );
      for (const t of bTasks) expect(aTasksAfter.has(t), `A restored B's task ${t}`).toBe(true);
      const aExit = await stop(a);
      expect(aExit.code, aExit.stderr).toBe(0);

      const got = await facts(crashed, 'hetu.facts.error-groups');
      expect(Object.keys(got).length).toBe(Object.keys(want).length);
      expect(got).toEqual(want);
      console.log(
        `hetu run: ${LINES} log lines through errors at ${BATCH} records a batch: one instance ${cleanSeconds.toFixed(1)} s; ` +
          `B had tasks ${[...bTasks].join(',')}, killed at ${atKill.committed} of ${atKill.end} records committed; ` +
          `${Object.keys(got).length} error groups equal`,
      );
    } finally {
      await kafka.close();
    }
  }, 600_000);

  it('the whole pipeline as one `hetu run <stage>` process per stage gives the digest of `hetu analyze`, and `hetu run api` serves it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hetu-run-int-'));
    const kafka = await openKafka();
    try {
      const want = await demoDigest(dir);

      const { prefix, ns } = await demoNamespace(kafka, 'run-roles');
      // Stage after stage, as `hetu analyze` runs them, each in a process of its own.
      const stages = (await listRoles()).filter((r) => r.kind === 'stage');
      for (const stage of stages) {
        const child = runChild(prefix, stage.name, ['--batch-records', '2000', '--until-caught-up']);
        const exit = await child.exit;
        expect(exit.code, `hetu run ${stage.name}: ${exit.stderr}`).toBe(0);
        expect(child.lines).toContain('caught up');
      }
      const got = await factDigest(ns);
      expect(got).toEqual(want);
      expect(Object.values(got).filter((d) => d.entries > 0).length).toBeGreaterThan(5);

      // The api role serves what the stages derived.
      const api = runChild(prefix, 'api', ['--port', '0', '--data-dir', join(dir, 'api')]);
      const up = await api.waitFor((l) => l.startsWith('hetu run api: GraphQL API at '));
      const url = /GraphQL API at (\S+)\/graphql/.exec(up)![1]!;
      await api.waitFor((l) => l === 'projections caught up: /readyz is ready');
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ clusters }' }),
      });
      expect(await res.json()).toEqual({ data: { clusters: ['demo'] } });
      // Its /metrics: the API's, and the deployment's dead letters and LLM use from the facts.
      const metricsText = await (await fetch(`${url}/metrics`)).text();
      expect(metricsText).toContain('hetu_api_http_requests_total{');
      expect(metricsText).toContain('# TYPE hetu_dlq_records_total counter');
      expect(metricsText).toContain('\nhetu_llm_calls_total 0\n');
      // …and the dashboard on the same port when it is built (the e2e tests build web/dist), or says
      // in its start line that it is not.
      if (existsSync(join(ROOT, 'web', 'dist', 'index.html'))) {
        expect(up).toContain(`dashboard at ${url}/`);
        const page = await fetch(`${url}/fleet`);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await page.text()).toContain('<div id="root">');
      } else expect(up).toContain('dashboard not built (no ');
      api.process.kill('SIGTERM');
      const apiExit = await api.exit;
      expect(apiExit.code, apiExit.stderr).toBe(0);
      expect(api.lines).toContain('api stopped');
      console.log(
        `hetu run: ${stages.length} stage processes in turn gave the digest of hetu analyze; hetu run api served it`,
      );
    } finally {
      await kafka.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);

  it('a stage whose upstream nobody runs waits and says which; with --ungated it goes through its input at once', async () => {
    const kafka = await openKafka();
    try {
      const { prefix, ns } = await demoNamespace(kafka, 'run-ungated');
      const raw = ['hetu.raw.kube', 'hetu.raw.metrics'];
      const feed = (await listRoles()).find((r) => r.name === 'feed')!;
      expect(feed.kind).toBe('stage');
      const group = 'feed-by-cluster';

      // Gated: kube, errors and anomalies write facts the feed reads, and none of them runs.
      const gated = runChild(prefix, 'feed', []);
      const start = await gated.waitFor((l) => l.startsWith('hetu run feed: consumer group'));
      expect(start).not.toContain('(ungated)');
      const line = await gated.waitFor((l) => l.startsWith('feed waits for '));
      for (const upstream of ['kube', 'errors', 'anomalies']) expect(line).toContain(upstream);
      expect(line).toContain('--ungated');
      const held = await groupProgress(ns.log, group, raw);
      expect(held.end).toBeGreaterThan(0n);
      expect(held.committed).toBe(0n);
      gated.process.kill('SIGTERM');
      expect((await gated.exit).code).toBe(0);

      // Ungated: the same stage takes its raw input without waiting for anyone.
      const ungated = runChild(prefix, 'feed', ['--ungated']);
      expect(await ungated.waitFor((l) => l.startsWith('hetu run feed: consumer group'))).toContain(
        '(ungated)',
      );
      const deadline = Date.now() + 120_000;
      let p = await groupProgress(ns.log, group, raw);
      while (p.committed < p.end && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        p = await groupProgress(ns.log, group, raw);
      }
      expect(p.committed).toBe(p.end);
      expect(ungated.lines.some((l) => l.startsWith('feed waits for '))).toBe(false);
      ungated.process.kill('SIGTERM');
      expect((await ungated.exit).code).toBe(0);
      console.log(
        `hetu run feed: gated, 0 of ${held.end} raw records committed and "${line.slice(0, 60)}…"; --ungated, ${p.committed} of ${p.end}`,
      );
    } finally {
      await kafka.close();
    }
  }, 300_000);

  it('stage processes running at once, gated by the frontiers they publish, derive the digest of hetu analyze', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hetu-run-gated-'));
    const kafka = await openKafka();
    try {
      const want = await demoDigest(dir);
      const { prefix, ns } = await demoNamespace(kafka, 'run-gated');
      // Every stage at once, in four processes, incidents in two of them (its three tasks shared):
      // a fan-in stage that took its inputs as they come would see them in an order that depends on
      // how fast the processes before it go.
      const processes = [
        ['kube', 'errors', 'anomalies'],
        ['feed'],
        ['incidents', 'recommendations'],
        ['incidents', 'scoring-feed', 'scoring-namespaces', 'scoring-cluster', 'llm-requests'],
      ];
      const kids = processes.map((roles) => runChild(prefix, roles, ['--metrics-port', '0']));
      const metricsUrls: string[] = [];
      for (const k of kids) {
        const line = await k.waitFor((l) => l.startsWith('hetu run: stage metrics at '));
        metricsUrls.push(line.slice('hetu run: stage metrics at '.length));
        await k.waitFor((l) => l.startsWith('hetu run: ') && l.includes(' running.'));
      }
      const stages = [...pipelineStages(ns), llmRequestsStage(ns)];
      expect(new Set(processes.flat())).toEqual(new Set(stages.map(([n]) => n)));
      // Done when every stage's group committed everything its inputs hold, twice in a row.
      const deadline = Date.now() + 600_000;
      for (let quiet = 0; quiet < 2; ) {
        let done = true;
        for (const [, p] of stages) {
          const g = await groupProgress(ns.log, p.name, p.inputs);
          if (g.committed < g.end) done = false;
        }
        quiet = done ? quiet + 1 : 0;
        if (Date.now() > deadline) throw new Error('the stage processes did not catch up within 600 s');
        await new Promise((r) => setTimeout(r, 1000));
      }
      // Each process's /metrics: its stages' records in, their groups' lag (none left), and the
      // frontier of every stage (through the frontiers topic), past the demo's times.
      for (const [i, url] of metricsUrls.entries()) {
        const text = await (await fetch(url)).text();
        const value = (name: string, label: string, v: string) => {
          const line = text
            .split('\n')
            .find((l) => l.startsWith(`${name}{`) && l.includes(`${label}="${v}"`));
          return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
        };
        for (const role of processes[i]!) {
          const [, p] = stages.find(([n]) => n === role)!;
          const ins = text
            .split('\n')
            .filter(
              (l) => l.startsWith('hetu_processor_records_in_total{') && l.includes(`processor="${p.name}"`),
            )
            .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
          if (role !== 'incidents')
            expect(
              ins.reduce((a, b) => a + b, 0),
              `${role} records in`,
            ).toBeGreaterThan(0);
          for (const t of p.inputs)
            expect(text, `${role} lag on ${t}`).toContain(
              `hetu_consumer_lag_records{group="${p.name}",topic="${t}"} 0`,
            );
        }
        for (const [name] of stages)
          expect(value('hetu_stage_frontier_seconds', 'stage', name), `frontier of ${name}`).toBeGreaterThan(
            Date.parse('2026-01-01T00:00:00Z') / 1000,
          );
      }
      for (const k of kids) k.process.kill('SIGTERM');
      for (const [i, k] of kids.entries()) {
        const exit = await k.exit;
        expect(exit.code, `hetu run ${processes[i]!.join(' ')}: ${exit.stderr}`).toBe(0);
        expect(k.lines.some((l) => l.includes('(ungated)'))).toBe(false);
      }
      expect(await factDigest(ns)).toEqual(want);

      // Every task of every stage said how far it got.
      const published = new Map<string, number>();
      for (const r of await ns.log.read(FRONTIERS_TOPIC, 0))
        published.set(r.key!.toString('utf8'), decodeFrontier(r.value)!);
      for (const [, p] of stages) {
        const tasks = await stageTasks(ns.log, p);
        expect(tasks).toBeGreaterThan(0);
        for (let t = 0; t < tasks; t++)
          expect(published.get(`g1/${p.name}/${t}`), `${p.name} task ${t}`).toBeGreaterThan(
            Date.parse('2026-01-01T00:00:00Z'),
          );
      }
      console.log(
        `hetu run: ${stages.length} stages at once in ${processes.length} processes, gated through ${FRONTIERS_TOPIC} (${published.size} task frontiers), gave the digest of hetu analyze`,
      );
    } finally {
      await kafka.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);

  it('a backfill in stage processes started at once (--until-caught-up) ends with the digest of hetu analyze', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hetu-run-backfill-'));
    const kafka = await openKafka();
    try {
      const want = await demoDigest(dir);
      const { prefix, ns } = await demoNamespace(kafka, 'run-backfill');
      // Every process stops once its stages processed everything older than its start, including
      // what the stages before them (in the other processes) derive meanwhile: the later stages'
      // inputs are still empty when they start.
      const processes = [
        ['scoring-feed', 'scoring-namespaces', 'scoring-cluster', 'llm-requests'],
        ['incidents', 'recommendations'],
        ['feed'],
        ['kube', 'errors', 'anomalies'],
      ];
      const kids = processes.map((roles) => runChild(prefix, roles, ['--until-caught-up']));
      for (const [i, k] of kids.entries()) {
        const exit = await k.exit;
        expect(exit.code, `hetu run ${processes[i]!.join(' ')}: ${exit.stderr}`).toBe(0);
        expect(k.lines).toContain('caught up');
      }
      expect(await factDigest(ns)).toEqual(want);
      console.log(
        `hetu run --until-caught-up: ${processes.length} processes started at once gave the digest of hetu analyze`,
      );
    } finally {
      await kafka.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
