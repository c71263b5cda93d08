/**
 * Fault suite, item 4 (issue I; results in docs/reliability.md): hostile log lines through the
 * pod-log collector and the errors stage. 0 crashes, collector RSS < 256 MiB, every line accounted
 * for.
 *
 * - A seeded log (`hostile-logs-gen.ts`) of HETU_FAULT_LOG_LINES lines (100 000 in `npm test`,
 *   6 000 000 in the full suite) is written to the CRI file kwok serves for one pod: 95 % ordinary
 *   application output with error events (stack traces of four languages) and 5 % hostile lines in
 *   eight classes: binary with NUL bytes, invalid UTF-8, 4 MiB lines, bait for the fingerprinter's
 *   scanners and expressions, ANSI escapes, bidi controls, very long tokens, CR-only line ends.
 * - The collector runs as it is deployed: `hetu run collect-logs` in its own process (the Helm
 *   chart's collector pod, limited to 256 Mi), on the test Kafka under a topic prefix, against the
 *   real API server + kwok. Its RSS is sampled from /proc while it works, and its VmHWM (the
 *   kernel's peak) read until it exits.
 * - Accounting: each record of `hetu.raw.logs` names its line by the exact kubelet timestamp it
 *   carries (header `hetu-log-ts`; line i is stamped base + i × 10 ms) and is compared with that
 *   line regenerated from the seed: delivered intact, delivered with invalid UTF-8 as U+FFFD, or
 *   cut at 16 KiB and flagged `truncated` (a prefix of the line on a character boundary). A line
 *   with no record is missing, a second record for a line a duplicate. One trailing CR is the
 *   line break's (CRLF) and not part of the text.
 * - Then the records are loaded into an embedded log and folded by the errors stage as
 *   `hetu analyze` runs it: every record consumed, no dead letter, each ordinary error event
 *   counted in the groups its phrase names exactly as often as it was generated, and the groups
 *   count, fingerprint by fingerprint, exactly the occurrences a separate pass of the grouping
 *   library finds in the delivered records. (A group may be deleted only by the documented
 *   2 000-group cap, which the many templates of hostile lines can reach at full size: its last
 *   count then stands for it.)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOG_TS_HEADER, parseKubeTimestamp } from '@hetu/producers/logs';
import {
  avroDeadLetterEncoder,
  avroFactEncoder,
  prefixedLog,
  ProcessorRuntime,
  type AppendRecord,
  type LogRecord,
} from '@hetu/streams';
import { detect, Fingerprinter, parseOccurrence, Stitcher } from '../../processors/src/errors/parse/index.ts';
import { DEFAULT_ERROR_GROUPS_CONFIG } from '../../processors/src/errors/groups/config.ts';
import {
  killStaleProcesses,
  locateKube,
  SIM_MODE_LABEL,
  startKube,
  type KubeHandle,
} from '../../infra/src/index.ts';
import { createCatalogueTopics, openBackend, type Backend } from '../../cli/src/backend.ts';
import { parseGlobalConfig } from '../../cli/src/config.ts';
import { pipelineStages, recordOf } from '../../cli/src/stages.ts';
import {
  criLine,
  ERROR_EVENTS,
  generateLines,
  HOSTILE_CLASSES,
  indexOfTime,
  plan,
  type ErrorEvent,
  type LineClass,
} from './hostile-logs-gen.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));
const LINES = Number(process.env.HETU_FAULT_LOG_LINES ?? 100_000);
const SEED = 20261126;
const NS = 'hostile';
const POD = 'noisy';
const CONTAINER = 'app';
const CLUSTER = 'faults';
const RAW = 'hetu.raw.logs';
const MAX_LINE_BYTES = 16 * 1024; // the collector's cap (LOG_COLLECTOR_DEFAULTS.maxLineBytes)
const RSS_LIMIT_MIB = 256;
/** Give up waiting when the raw topic has not grown for this long. */
const STALL_MS = 180_000;
/** Records per read from Kafka (each read is a consumer of its own). */
const READ_CHUNK = 50_000;
/**
 * V8 sized as in the chart's collector pod (`resources.collector.memory: 256Mi`). Node sizes V8's
 * heap from the cgroup's memory limit; in a container limited to 256 MiB it reports a heap limit of
 * 274 726 912 bytes, which is what these flags give (`v8.getHeapStatistics().heap_size_limit`: a
 * 256 MiB old generation, 2 MiB semi-spaces). Without them, on this 24 GiB machine, V8 sizes the
 * heap for 24 GiB and keeps garbage it has no reason to collect yet (a young generation of up to
 * 3 × 64 MiB: 345 MiB after 20 000 lines), which no pod limited to 256 Mi would see.
 */
const CONTAINER_V8 = ['--max-old-space-size=256', '--max-semi-space-size=2'];

const MiB = (kib: number) => kib / 1024;
const seconds = (since: number) => (performance.now() - since) / 1000;

type Outcome = 'intact' | 'replaced' | 'truncated' | 'missing' | 'duplicate' | 'wrong';
const OUTCOMES: readonly Outcome[] = ['intact', 'replaced', 'truncated', 'missing', 'duplicate', 'wrong'];

function memoryKiB(pid: number): { rss: number; hwm: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(s);
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(s);
    return rss && hwm ? { rss: Number(rss[1]), hwm: Number(hwm[1]) } : null;
  } catch {
    return null; // the process has ended
  }
}

/** Every record of a topic, partition by partition, in chunks. */
async function* records(backend: Backend, topic: string, chunk = 2000): AsyncGenerator<LogRecord> {
  const [info] = await backend.log.describeTopics([topic]);
  for (const p of info?.partitions ?? []) {
    let from = p.low;
    while (from < p.high) {
      const got = await backend.log.read(topic, p.partition, {
        fromOffset: from,
        toOffset: p.high,
        maxRecords: chunk,
      });
      if (got.length === 0) break;
      yield* got;
      from = got[got.length - 1]!.offset + 1n;
    }
  }
}

async function recordCount(backend: Backend, topic: string): Promise<number> {
  const [info] = await backend.log.describeTopics([topic]);
  return (info?.partitions ?? []).reduce((s, p) => s + Number(p.high - p.low), 0);
}

/** Polls `cond` every `everyMs` until it holds; fails after `timeoutMs` or once `dead()`. */
async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  opts: { timeoutMs: number; everyMs: number; dead: () => string | null },
): Promise<void> {
  const end = performance.now() + opts.timeoutMs;
  while (!(await cond())) {
    const dead = opts.dead();
    if (dead !== null) throw new Error(`${what}: ${dead}`);
    if (performance.now() > end) throw new Error(`${what}: not within ${opts.timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, opts.everyMs));
  }
}

describe('fault suite item 4: hostile log lines through the pod-log collector', () => {
  let dir: string;
  let kube: KubeHandle | undefined;
  let file: string;
  // line i is stamped base + i × 10 ms: from yesterday 00:00 UTC (6 000 000 lines end 16.7 h later),
  // recent enough for the raw topic's retention
  const baseMs = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
  const written = { bytes: 0, s: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hetu-faults-hostile-'));
    file = join(dir, 'noisy.log');
    const t0 = performance.now();
    const fd = openSync(file, 'w');
    let batch: Buffer[] = [];
    let size = 0;
    for (const l of generateLines(LINES, SEED, baseMs)) {
      const b = criLine(l);
      batch.push(b);
      size += b.length;
      if (size >= 1 << 20) {
        writeSync(fd, Buffer.concat(batch, size));
        batch = [];
        size = 0;
      }
    }
    writeSync(fd, Buffer.concat(batch, size));
    closeSync(fd);
    written.bytes = statSync(file).size;
    written.s = seconds(t0);
    const layout = locateKube(ROOT);
    killStaleProcesses(layout.pidDir);
    kube = await startKube({
      binDir: layout.binDir,
      pidDir: layout.pidDir,
      stagesDir: layout.stagesDir,
      logs: [{ namespace: NS, pod: POD, file }],
    });
  }, 900_000);

  afterAll(async () => {
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it(
    `${LINES} lines, 5 % hostile: no crash, collector RSS < ${RSS_LIMIT_MIB} MiB, every line accounted for, folded by the errors stage`,
    async () => {
      const p = plan(LINES);
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kube!.kubeconfig);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: NS } } });
      const prefix = `faults-hostile-${randomUUID().slice(0, 8)}.`;
      const kafkaBackend = await openBackend(
        parseGlobalConfig(
          { kafka: inject('kafkaBrokers').join(','), registry: inject('schemaRegistryUrl') },
          {},
        ),
      );
      const kafka: Backend = { ...kafkaBackend, log: prefixedLog(kafkaBackend.log, prefix) };
      const embedded = await openBackend(
        parseGlobalConfig({ dataDir: join(dir, 'data'), output: 'json' }, {}),
      );
      try {
        // ---- the collector, as deployed: `hetu run collect-logs` in its own process ----
        const t0 = performance.now();
        const child = spawn(
          process.execPath,
          [
            ...CONTAINER_V8,
            MAIN,
            '--kafka',
            inject('kafkaBrokers').join(','),
            '--registry',
            inject('schemaRegistryUrl'),
            'run',
            'collect-logs',
            '--kubeconfig',
            kube!.kubeconfig,
            '--cluster',
            CLUSTER,
            '--topic-prefix',
            prefix,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-20_000)));
        const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
          child.on('exit', (code, signal) => resolve({ code, signal })),
        );
        const pid = child.pid!;
        const mem = { sampledKiB: 0, hwmKiB: 0, samples: 0 };
        const sample = () => {
          const m = memoryKiB(pid);
          if (m === null) return;
          mem.samples++;
          mem.sampledKiB = Math.max(mem.sampledKiB, m.rss);
          mem.hwmKiB = Math.max(mem.hwmKiB, m.hwm);
        };
        const sampler = setInterval(sample, 100);
        const gone = () => (child.exitCode !== null ? `hetu run exited early: ${out}\n${err}` : null);
        let collectS: number;
        let stalled = false;
        try {
          await until('hetu run collect-logs started', () => out.includes('collect-logs running.'), {
            timeoutMs: 120_000,
            everyMs: 200,
            dead: gone,
          });
          // created while the collector runs: read from its first line, with no gap (docs/collectors.md)
          await core.createNamespacedPod({
            namespace: NS,
            body: {
              metadata: { name: POD, labels: { app: POD, [SIM_MODE_LABEL]: 'running' } },
              spec: {
                nodeName: kube!.nodes[0]!,
                containers: [{ name: CONTAINER, image: 'registry.example/noisy:1.0' }],
              },
            },
          });
          // until every line is on the topic, or it stops growing
          let seen = -1;
          let movedAt = performance.now();
          await until(
            `${LINES} records on ${RAW}`,
            async () => {
              const n = await recordCount(kafka, RAW).catch(() => 0);
              if (n !== seen) {
                seen = n;
                movedAt = performance.now();
              }
              stalled = performance.now() - movedAt > STALL_MS;
              return n >= LINES || stalled;
            },
            { timeoutMs: 24 * 3_600_000, everyMs: 1000, dead: gone },
          );
          collectS = seconds(t0);
          sample();
        } finally {
          child.kill('SIGTERM');
        }
        const exit = await exited;
        clearInterval(sampler);
        expect(exit, `hetu run collect-logs: ${out}\n${err}`).toEqual({ code: 0, signal: null });
        expect(out).toContain('collect-logs stopped: buffered observations written');
        const peakKiB = Math.max(mem.hwmKiB, mem.sampledKiB);

        // ---- accounting: every generated line against what the raw topic holds ----
        const readT0 = performance.now();
        const byClass = new Map<LineClass, Record<Outcome, number>>();
        const tally = (cls: LineClass, o: Outcome) => {
          let r = byClass.get(cls);
          if (r === undefined) {
            r = Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<Outcome, number>;
            byClass.set(cls, r);
          }
          r[o]++;
        };
        const problems: string[] = [];
        const note = (s: string) => {
          if (problems.length < 20) problems.push(s);
        };
        const gen = generateLines(LINES, SEED, baseMs);
        let next = gen.next();
        let gaps = 0;
        let foreign = 0;
        // the library pass over the delivered records: what the errors stage must count
        const stitcher = new Stitcher();
        const fingerprinter = new Fingerprinter();
        let watermark: number | null = null;
        let occurrences = 0;
        const expectedGroups = new Map<string, number>();
        // the records, re-encoded for the embedded log's registry (as `hetu load` would)
        await createCatalogueTopics(embedded.log);
        let copy: AppendRecord[] = [];
        for await (const r of records(kafka, RAW, READ_CHUNK)) {
          const v = await kafka.serde.decode(r.value!, 'LogLineObserved');
          copy.push({
            key: r.key,
            value: await embedded.serde.encode(RAW, 'LogLineObserved', v),
            timestamp: r.timestamp,
            headers: r.headers,
          });
          if (copy.length >= 2000) {
            await embedded.log.append(RAW, copy);
            copy = [];
          }
          if (v.pod !== POD || v.container !== CONTAINER || v.cluster !== CLUSTER) {
            foreign++;
            note(`a record of another container: ${v.cluster}/${v.namespace}/${v.pod}/${v.container}`);
            continue;
          }
          if (v.gap) {
            gaps++;
            note(`gap record: ${v.line}`);
            continue;
          }
          const completed = stitcher.push({
            key: `${CLUSTER}/${NS}/${POD}/${CONTAINER}`,
            ts: v.ts,
            line: v.line,
          });
          if (watermark === null || v.ts > watermark) {
            watermark = v.ts;
            completed.push(...stitcher.flush(v.ts));
          }
          for (const c of completed) {
            const parsed = parseOccurrence(c.lines);
            const d = detect(parsed);
            if (d.kind === 'none') continue;
            occurrences++;
            const f = fingerprinter.fingerprint(parsed, d).fingerprint;
            expectedGroups.set(f, (expectedGroups.get(f) ?? 0) + 1);
          }

          const tsText = r.headers[LOG_TS_HEADER]?.toString('latin1');
          const ns = tsText === undefined ? null : parseKubeTimestamp(tsText);
          const idx = ns === null ? null : indexOfTime(ns, LINES, baseMs);
          if (idx === null) {
            tally('ordinary', 'wrong');
            note(
              `record ${r.partition}/${r.offset} names no generated line (hetu-log-ts ${tsText ?? 'absent'})`,
            );
            continue;
          }
          // the lines before this one that have no record are missing
          while (!next.done && next.value.index < idx) {
            tally(next.value.cls, 'missing');
            note(`line ${next.value.index} (${next.value.cls}) is missing`);
            next = gen.next();
          }
          if (next.done || next.value.index > idx) {
            tally('ordinary', 'duplicate');
            note(`line ${idx} arrived twice (or out of order) at ${r.partition}/${r.offset}`);
            continue;
          }
          const l = next.value;
          next = gen.next();
          let text = l.payload;
          if (text.length > 0 && text[text.length - 1] === 0x0d) text = text.subarray(0, text.length - 1);
          let outcome: Outcome;
          if (v.ts !== l.ms || r.key?.toString() !== `${CLUSTER}/${NS}/${POD}`) outcome = 'wrong';
          else if (text.length <= MAX_LINE_BYTES) {
            if (v.truncated || v.line !== text.toString('utf8')) outcome = 'wrong';
            else outcome = Buffer.from(v.line).equals(text) ? 'intact' : 'replaced';
          } else {
            // cut on a character boundary within the cap's last 3 bytes, and flagged
            const got = Buffer.from(v.line);
            const ok =
              v.truncated &&
              got.length <= MAX_LINE_BYTES &&
              got.length > MAX_LINE_BYTES - 4 &&
              got.equals(text.subarray(0, got.length));
            outcome = ok ? 'truncated' : 'wrong';
          }
          if (outcome === 'wrong')
            note(
              `line ${idx} (${l.cls}): record ${JSON.stringify(v.line.slice(0, 80))} (${v.line.length} chars, truncated ${v.truncated}, ts ${v.ts}) ≠ generated ${JSON.stringify(text.subarray(0, 80).toString('utf8'))} (${text.length} bytes, ts ${l.ms})`,
            );
          tally(l.cls, outcome);
        }
        if (copy.length > 0) await embedded.log.append(RAW, copy);
        while (!next.done) {
          tally(next.value.cls, 'missing');
          note(`line ${next.value.index} (${next.value.cls}) is missing`);
          next = gen.next();
        }
        const readS = seconds(readT0);

        // ---- the errors stage over the records, as `hetu analyze` runs it ----
        const errT0 = performance.now();
        const rt = new ProcessorRuntime({
          log: embedded.log,
          processor: pipelineStages(embedded).find(([name]) => name === 'errors')![1],
          encodeFact: avroFactEncoder(embedded.serde),
          encodeDeadLetter: avroDeadLetterEncoder(embedded.serde),
          maxBatchRecords: 2000,
        });
        const sub = await rt.start();
        try {
          await sub.whenCaughtUp(24 * 3_600_000);
        } finally {
          await rt.close();
        }
        const errorsS = seconds(errT0);
        const [rawInfo] = await embedded.log.describeTopics([RAW]);
        const committed = await embedded.log.committed('errors', RAW);
        const unconsumed = rawInfo!.partitions.reduce(
          (s, part) => s + Number(part.high - (committed.get(part.partition) ?? part.low)),
          0,
        );
        const deadLetters: Record<string, number> = {};
        for await (const r of records(embedded, 'hetu.dlq')) {
          const d = (await embedded.serde.decode(r.value!, recordOf('hetu.dlq'))) as {
            processor: string;
            reasonCode: string;
          };
          const k = `${d.processor}: ${d.reasonCode}`;
          deadLetters[k] = (deadLetters[k] ?? 0) + 1;
        }
        // The newest value of each group. A group deleted (only the 2 000-group cap can delete one
        // here: every line is within the 7-day TTL) takes its count with it, by design (SPEC §9):
        // its last count before the tombstone is added to its fingerprint's total instead.
        const latest = new Map<string, Buffer>();
        const evicted = new Map<string, number>();
        let deleted = 0;
        for await (const r of records(embedded, 'hetu.facts.error-groups')) {
          const key = r.key?.toString() ?? '';
          if (r.value !== null) latest.set(key, r.value);
          else {
            deleted++;
            const last = latest.get(key);
            if (last !== undefined) {
              const g = await embedded.serde.decode(last, 'ErrorGroup');
              evicted.set(g.fingerprint, (evicted.get(g.fingerprint) ?? 0) + Number(g.count));
            }
            latest.delete(key);
          }
        }
        const groups: { fingerprint: string; title: string; count: number }[] = [];
        for (const value of latest.values()) {
          const g = await embedded.serde.decode(value, 'ErrorGroup');
          groups.push({ fingerprint: g.fingerprint, title: g.title, count: Number(g.count) });
        }
        const perFingerprint = new Map(evicted);
        for (const g of groups)
          perFingerprint.set(g.fingerprint, (perFingerprint.get(g.fingerprint) ?? 0) + g.count);
        const grouped = [...perFingerprint.values()].reduce((s, n) => s + n, 0);
        const events = Object.keys(ERROR_EVENTS) as ErrorEvent[];
        const perEvent = Object.fromEntries(
          events.map((e) => [
            e,
            groups.filter((g) => g.title.includes(ERROR_EVENTS[e])).reduce((s, g) => s + g.count, 0),
          ]),
        );
        const generatedEvents = Object.fromEntries(events.map((e) => [e, 0])) as Record<ErrorEvent, number>;
        for (const l of generateLines(LINES, SEED, baseMs))
          if (l.event !== undefined) generatedEvents[l.event]++;

        // ---- the figure ----
        const sum = (o: Outcome, cls?: LineClass) =>
          [...byClass].filter(([c]) => cls === undefined || c === cls).reduce((s, [, r]) => s + r[o], 0);
        const delivered = sum('intact') + sum('replaced') + sum('truncated');
        const perClass = HOSTILE_CLASSES.map(
          (c) => `${c} ${sum('intact', c)}/${sum('replaced', c)}/${sum('truncated', c)}/${sum('missing', c)}`,
        ).join(', ');
        process.stdout.write(
          `[faults] hostile logs: ${LINES} lines (${p.hostile} hostile by class: ` +
            `${HOSTILE_CLASSES.map((c) => `${c} ${p.perClass[c]}`).join(', ')}), ` +
            `delivered ${delivered} (intact ${sum('intact')}, invalid UTF-8 as U+FFFD ${sum('replaced')}), ` +
            `truncated ${sum('truncated')}, missing ${sum('missing')}, duplicate ${sum('duplicate')}, ` +
            `wrong ${sum('wrong')}, gaps ${gaps}; peak collector RSS ${MiB(peakKiB).toFixed(1)} MiB ` +
            `(hetu run collect-logs on Kafka, V8 sized for a 256 Mi pod, VmHWM; ${mem.samples} samples), ` +
            `${collectS.toFixed(1)} s to collect ${(written.bytes / 2 ** 20).toFixed(0)} MiB ` +
            `(${Math.round(LINES / collectS)} lines/s${stalled ? ', STALLED' : ''}); ` +
            `errors stage ${errorsS.toFixed(1)} s: ${groups.length} groups, ${deleted} deleted by the group cap, counting ${grouped} occurrences ` +
            `(library pass ${occurrences}), ${Object.keys(deadLetters).length === 0 ? 'no dead letters' : `dead letters ${JSON.stringify(deadLetters)}`}; ` +
            `per hostile class intact/replaced/truncated/missing: ${perClass}; ` +
            `log file written in ${written.s.toFixed(1)} s, raw topic checked in ${readS.toFixed(1)} s\n`,
        );

        expect(problems, problems.join('\n')).toEqual([]);
        expect([sum('missing'), sum('duplicate'), sum('wrong'), gaps, foreign]).toEqual([0, 0, 0, 0, 0]);
        expect(delivered).toBe(LINES);
        for (const c of HOSTILE_CLASSES)
          expect(sum('intact', c) + sum('replaced', c) + sum('truncated', c), c).toBe(p.perClass[c]);
        // every 4 MiB line arrived cut and flagged; NUL-laden binary arrived (with U+FFFD)
        expect(sum('truncated', 'huge')).toBe(p.perClass.huge);
        expect(sum('replaced', 'binary')).toBeGreaterThan(0);
        expect(mem.samples).toBeGreaterThan(0);

        expect(unconsumed).toBe(0);
        expect(deadLetters).toEqual({});
        // a deletion only by the cap, of a hostile group: the ordinary events' groups are all there
        if (deleted > 0) expect(groups.length).toBe(DEFAULT_ERROR_GROUPS_CONFIG.maxGroups);
        expect(perEvent).toEqual(generatedEvents);
        expect(grouped).toBe(occurrences);
        expect(perFingerprint).toEqual(expectedGroups);
        // last, so that a run over the limit still checks everything else
        expect(MiB(peakKiB)).toBeLessThan(RSS_LIMIT_MIB);
      } finally {
        await embedded.close();
        await kafkaBackend.close();
      }
    },
    900_000 + LINES * 2,
  );
});
