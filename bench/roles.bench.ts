// Peak memory of every stage role, of all the stages in one process (the chart's analyzer) and of
// the API role, each a `hetu run` process on Kafka, over the data of one large cluster (issue I,
// "peak memory per role for a 10 000-pod cluster (targets: collector ≤ 256 Mi, processors and
// API ≤ 512 Mi)"; the collectors are measured by bench/collect.bench.ts).
//
//   1. A scale recording (producers/src/recording/scale.ts, the generator of the analyze bench) of
//      HETU_BENCH_ROLES_PODS pods (default 10 000) and HETU_BENCH_ROLES_OBS observations (default
//      50 per pod: 500 000 at 10 000 pods, about 11 metric scrapes of every series, the start's
//      snapshot of every object, log lines of every pod) is generated in a child process, with
//      event times starting an hour ago (so no topic retention drops it).
//   2. It is ingested into the raw topics of a fresh topic prefix the way `hetu analyze` does it
//      (`ingest()` of cli/src/commands/analyze.ts: the recording reader, the serde, the log's
//      append), here in the bench process: once for step 3 and once for step 4, each under a
//      prefix of its own (a stage's consumer group is its name under the prefix, so on one prefix
//      the second run would find the first one's work committed and do nothing).
//   3. `hetu run stages` — every stage in ONE process, as the chart's analyzer runs them — without
//      --until-caught-up (that stops each stage at what its inputs held when it started, and a
//      downstream stage's inputs are then still empty). Its VmRSS and VmHWM are sampled every
//      100 ms; it is done once every stage's group has committed each of its inputs to the input's
//      end and no end nor committed position moved for QUIET_MS (read every POLL_MS through the
//      log port under the prefix: describeTopics and committed). Then its VmHWM (and, when asked,
//      a heap snapshot: every stage's state at the end), then SIGTERM (it must exit 0). Its time
//      is from the spawn to the last move of an end or a committed position.
//   4. Every stage of `hetu run --list`, in pipeline order, runs as `hetu run <stage>
//      --until-caught-up` in a child process of its own, one after the other (so each sees its
//      whole input and has the machine's 2 cores to itself: per-role peaks not inflated by the
//      others' backlog). Each child's VmRSS and VmHWM are sampled from /proc every 100 ms (the
//      kernel's VmHWM is the figure: the last sample before the process exits).
//   5. `hetu run api` on the resulting facts until it prints "projections caught up", then
//      HETU_BENCH_ROLES_QUERIES overview queries (default 50, the dashboard's first screen, one
//      after another over HTTP), then its VmHWM, then SIGTERM.
//
// HETU_BENCH_ROLES_ONLY selects the parts (a comma list, default all): `stages` (step 3), `each`
// (step 4), `api` (step 5: on the facts of `each` when it ran, else of `stages`); e.g.
// `HETU_BENCH_ROLES_ONLY=stages npm run bench -- roles` measures the one-process analyzer alone.
//
// The children's V8 is sized as Node sizes it in a container limited to 512 MiB (the processors'
// and the API's target), CONTAINER_V8 below, unless HETU_BENCH_ROLE_NODE_OPTIONS says otherwise
// (empty: V8's own sizing for this machine). `hetu run` refuses the embedded log: KAFKA_BROKERS /
// SCHEMA_REGISTRY_URL when set, else Kafka and Apicurio from .cache/infra. HETU_BENCH_ROLES_BATCH
// sets --batch-records (default: hetu run's own, 2 000, as the chart runs the roles).
// HETU_BENCH_HEAP_SNAPSHOTS=<dir> has the roles named in HETU_BENCH_ROLES_SNAPSHOT (a comma list,
// default all; `stages` for step 3) write a heap snapshot there: a stage once its group committed
// HETU_BENCH_ROLES_SNAPSHOT_AT (default 0.8) of its input, the API after the queries, `stages`
// once done; the VmHWM reported is then the one read just before the snapshot (writing one costs
// memory).
// The raw topics and internal feeds of the prefix keep their records RETENTION_MS (counted from
// the records' event times, which start an hour before the run), so a shared broker is not filled
// up while it runs; at the end every topic under its prefixes and the stages' groups are deleted
// (HETU_BENCH_ROLES_KEEP=1 keeps them).
// Figures only: nothing is asserted.
// Run alone: `npm run bench -- roles`; `HETU_BENCH_ROLES_PODS=2000 npm run bench -- roles` is quicker.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topicSpecs } from '@hetu/schemas';
import { groupProgress, prefixedLog, type AnyProcessor, type Log, type TopicSpec } from '@hetu/streams';
import { parseGlobalConfig } from '../cli/src/config.ts';
import { openBackend, type Backend } from '../cli/src/backend.ts';
import { createAnalysisTopics, ingest } from '../cli/src/commands/analyze.ts';
import { internalFeedSpecs, pipelineStages } from '../cli/src/stages.ts';
import { llmRequestsStage } from '../cli/src/llm.ts';
import { OVERVIEW_QUERY } from './api.bench.ts';
import { procMemory, startRole, type RoleProcess } from './role-process.ts';
import { envInt, generateScale, kafkaServices, loads, mib, secs } from './util.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGET_MIB = 512;
/**
 * The children's V8 flags by default: the heap Node sizes for itself in a container limited to
 * 512 MiB. Node gives V8 the cgroup's limit as the machine's memory; V8 takes half of it for the
 * old generation but at least 256 MiB, and 1 MiB semi-spaces at that size. Measured with Node
 * 24.21 on this machine (cgroup v1), the limit file bind-mounted in a mount namespace of its own:
 * `v8.getHeapStatistics().heap_size_limit` is 259 MiB under 256 MiB and under 512 MiB alike
 * (560 MiB under 1 GiB, 1 120 MiB under 2 GiB), which is what these flags give (256 + 3 × 1).
 */
const CONTAINER_V8 = '--max-old-space-size=256 --max-semi-space-size=1';
/** Retention of the bench's raw topics and internal feeds (the records' timestamps are event times). */
const RETENTION_MS = 6 * 3_600_000;
/** How often the one-process run's committed positions and input ends are read. */
const POLL_MS = 2000;
/** The one-process run is done once every group is at its inputs' ends and nothing moved this long. */
const QUIET_MS = 15_000;
/** The parts HETU_BENCH_ROLES_ONLY may name, in the order they run. */
const PARTS = ['stages', 'each', 'api'] as const;
type Part = (typeof PARTS)[number];
/** SIGKILL when a role has not exited this long after SIGTERM. */
const STOP_GRACE_MS = 60_000;
/** A stage that has not caught up within this long is stopped (and the bench fails). */
const STAGE_TIMEOUT_MS = 3 * 3_600_000;

const fmt = (n: number): string => n.toLocaleString('en-US');

/** The catalogue and the internal feeds; the raw topics and feeds keep RETENTION_MS. */
function benchTopicSpecs(): TopicSpec[] {
  const raw = topicSpecs().filter((s) => s.name.startsWith('hetu.raw.'));
  return [
    ...raw.map((s) => ({ ...s, retentionMs: RETENTION_MS, segmentMs: 600_000 })),
    ...internalFeedSpecs(RETENTION_MS).map((s) => ({ ...s, segmentMs: 600_000 })),
  ];
}

/** Records (offsets: transaction markers included) the topics hold now, summed. */
async function offsetsOf(log: Log, topics: readonly string[]): Promise<number> {
  const infos = await log.describeTopics(topics);
  let n = 0n;
  for (const t of infos) for (const p of t.partitions) n += p.high - p.low;
  return Number(n);
}

/** Offsets of `topics` that the consumer group `group` committed, summed. */
async function committedOf(log: Log, group: string, topics: readonly string[]): Promise<number> {
  let n = 0n;
  for (const t of topics) for (const o of (await log.committed(group, t)).values()) n += o;
  return Number(n);
}

/**
 * The VmHWM of a running role, read every 100 ms: the kernel's peak RSS of the process, which is
 * gone with /proc/<pid> once it exits (a stage with --until-caught-up exits by itself).
 */
function hwmSampler(role: RoleProcess): { hwm(): number; hwmAtS(): number; stop(): void } {
  let hwm = 0;
  let at = 0;
  const read = (): void => {
    const m = procMemory(role.pid);
    if (m && m.hwm > hwm) {
      hwm = m.hwm;
      at = performance.now();
    }
  };
  read();
  const timer = setInterval(read, 100);
  return {
    hwm: () => {
      read();
      return hwm;
    },
    /** Seconds from the spawn to the sample that saw the peak rise last. */
    hwmAtS: () => secs(at - role.startedAt),
    stop: () => clearInterval(timer),
  };
}

async function waitFor(
  what: string,
  done: () => boolean,
  role: RoleProcess,
  timeoutMs: number,
): Promise<void> {
  const t0 = performance.now();
  while (!done()) {
    const exit = role.exited();
    if (exit)
      throw new Error(
        `${role.role} exited (code ${exit.code}, signal ${exit.signal}) before ${what}; its output:\n${role.output()}`,
      );
    if (performance.now() - t0 > timeoutMs)
      throw new Error(
        `no ${what} within ${Math.round(timeoutMs / 1000)} s; output of ${role.role}:\n${role.output()}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Row {
  role: string;
  /** What it read: records (offsets) of its inputs. */
  recordsIn: number;
  inputs: string;
  /** Seconds: a stage from spawn to exit; the API from spawn to its projections caught up. */
  seconds: number;
  /** VmRSS once `hetu run` said it runs (modules loaded, connected), MiB. */
  readyMiB: number;
  peakMiB: number;
  /** The peak was read just before a heap snapshot (the snapshot run's later figures are not the role's). */
  snapshot: boolean;
  /** Why it exited before it was done (the one-process run), if it did. */
  failed?: string;
  note: string;
}

/**
 * Where the stages' consumer groups are (`groupProgress` of each): `behind`, the groups that have
 * not committed their inputs to their ends; `key`, every group's committed offsets and ends, summed
 * (commits and ends only grow, so equal keys: nothing moved); `committed` and `ends`, summed over the
 * groups (a topic read by three groups counts three times).
 */
async function positionsOf(
  log: Log,
  processors: readonly AnyProcessor<unknown, unknown>[],
): Promise<{ behind: string[]; key: string; ends: number; committed: number }> {
  const behind: string[] = [];
  const parts: string[] = [];
  let committed = 0n;
  let ends = 0n;
  for (const p of processors) {
    const g = await groupProgress(log, p.name, p.inputs);
    committed += g.committed;
    ends += g.end;
    parts.push(`${p.name}=${g.committed}/${g.end}`);
    if (g.committed < g.end) behind.push(p.name);
  }
  return { behind, key: parts.join(' '), ends: Number(ends), committed: Number(committed) };
}

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const pods = envInt('HETU_BENCH_ROLES_PODS', 10_000, 10);
  const observations = envInt('HETU_BENCH_ROLES_OBS', pods * 50, 1);
  const queries = envInt('HETU_BENCH_ROLES_QUERIES', 50, 0);
  const batch = process.env.HETU_BENCH_ROLES_BATCH;
  const v8 = process.env.HETU_BENCH_ROLE_NODE_OPTIONS ?? CONTAINER_V8;
  const snapshots = process.env.HETU_BENCH_HEAP_SNAPSHOTS;
  const snapshotRoles = process.env.HETU_BENCH_ROLES_SNAPSHOT?.split(',').filter(Boolean);
  const snapshotAt = Number(process.env.HETU_BENCH_ROLES_SNAPSHOT_AT ?? 0.8);
  const wantsSnapshot = (role: string): boolean =>
    snapshots !== undefined &&
    snapshots !== '' &&
    (snapshotRoles === undefined || snapshotRoles.includes(role));
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '(git unavailable)';
    }
  };
  print(`commit ${git(['log', '-1', '--oneline']).slice(0, 100)}`);
  const runDiff = git(['diff', '--stat', 'cli/src/commands/run.ts', 'cli/src/main.ts']);
  print(
    `cli/src/commands/run.ts, cli/src/main.ts: ${runDiff === '' ? 'as committed' : `changed in the working tree (${runDiff.split('\n').pop()})`}`,
  );
  print(`load average before: ${loads()}`);
  print(`NODE_OPTIONS of the roles: ${v8 || '(none: V8 sizes itself for this machine)'}`);
  print(`--batch-records of the stages: ${batch ?? "hetu run's default (2 000)"}`);

  const parts = (process.env.HETU_BENCH_ROLES_ONLY ?? PARTS.join(','))
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const unknownPart = parts.find((x) => !(PARTS as readonly string[]).includes(x));
  if (unknownPart !== undefined || parts.length === 0)
    throw new Error(
      `HETU_BENCH_ROLES_ONLY=${process.env.HETU_BENCH_ROLES_ONLY}: name some of ${PARTS.join(', ')}`,
    );
  const runs = (x: Part): boolean => parts.includes(x);
  print(`parts (HETU_BENCH_ROLES_ONLY): ${PARTS.filter(runs).join(', ')}`);

  const services = await kafkaServices(print);
  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-roles-'));
  const kafka = await openBackend(
    parseGlobalConfig({ kafka: services.brokers.join(','), registry: services.registryUrl }, {}),
  );
  const figures: Record<string, number> = { pods };
  const rows: Row[] = [];
  /** The topic prefixes the bench created (deleted at the end). */
  const prefixes: string[] = [];
  try {
    // 1. the recording
    const file = join(dir, 'scale.jsonl.gz');
    const startMs = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const t = performance.now();
    const rec = await generateScale(file, { pods, observations, startMs });
    print(
      `recording: ${fmt(rec.observations)} observations of a ${fmt(pods)}-pod cluster (${fmt(rec.watch)} watch, ${fmt(rec.metric)} metric, ${fmt(rec.log)} log) over ${((rec.lastTs - rec.firstTs) / 60_000).toFixed(1)} min of event time, ${(rec.bytes / 2 ** 20).toFixed(1)} MiB gzip; generated in ${secs(performance.now() - t)} s`,
    );
    Object.assign(figures, {
      observations: rec.observations,
      watch: rec.watch,
      metric: rec.metric,
      log: rec.log,
      eventMinutes: Math.round((rec.lastTs - rec.firstTs) / 6000) / 10,
    });

    // 2. into the raw topics of a fresh prefix, as `hetu analyze` ingests a recording (the raw
    // topics and feeds created first, with the bench's retention): one prefix per part that runs
    // stages, since a stage's consumer group is its name under the prefix
    const ingested = async (
      part: Part,
    ): Promise<{ prefix: string; ns: Backend; env: NodeJS.ProcessEnv; ingestS: number }> => {
      const prefix = `bench-roles-${randomUUID().slice(0, 8)}.`;
      prefixes.push(prefix);
      const ns: Backend = { ...kafka, log: prefixedLog(kafka.log, prefix) };
      await ns.log.ensureTopics(benchTopicSpecs());
      await createAnalysisTopics(ns);
      const t0 = performance.now();
      const summary = await ingest(ns, file);
      const ingestS = secs(performance.now() - t0);
      print(
        `${part}: ingested under the prefix ${prefix} in ${ingestS} s (${fmt(Math.round(summary.observations / ingestS))}/s, the bench process); ${summary.deadLetters} dead letters; load average ${loads()}`,
      );
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HETU_KAFKA_BROKERS: services.brokers.join(','),
        HETU_SCHEMA_REGISTRY_URL: services.registryUrl,
        HETU_TOPIC_PREFIX: prefix,
        HETU_DATA_DIR: join(dir, `data-${part}`),
        NODE_OPTIONS: [v8, snapshots ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}` : '']
          .join(' ')
          .trim(),
      };
      return { prefix, ns, env, ingestS };
    };

    const listing = execFileSync(
      process.execPath,
      [join(ROOT, 'cli/src/main.ts'), 'run', '--list', '-o', 'json'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    const stages = listing
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { name: string; kind: string })
      .filter((r) => r.kind === 'stage')
      .map((r) => r.name);
    // the processors' names (their consumer groups) and inputs, without a prefix
    const processors = new Map<string, AnyProcessor<unknown, unknown>>([
      ...pipelineStages(kafka),
      llmRequestsStage(kafka, { pseudonymize: false }),
    ]);
    print(`stages (hetu run --list): ${stages.join(', ')}`);
    const stageProcessors = stages.map((name) => {
      const p = processors.get(name);
      if (p === undefined)
        throw new Error(`hetu run --list has a stage ${name} this bench cannot name the inputs of`);
      return p;
    });
    /** The facts the API reads: those of `each` when it ran, else those of `stages`. */
    let factsOf: { ns: Backend; env: NodeJS.ProcessEnv } | undefined;

    // 3. every stage in one process (the chart's analyzer), until every group is at its inputs' ends
    if (runs('stages')) {
      const { ns, env, ingestS } = await ingested('stages');
      figures.stagesIngestS = ingestS;
      factsOf = { ns, env };
      const rawIn = await offsetsOf(ns.log, [...new Set(stageProcessors.flatMap((p) => p.inputs))]);
      const role = startRole(ROOT, 'stages', batch ? ['--batch-records', batch] : [], env);
      const sampler = hwmSampler(role);
      let lastKey = '';
      let lastMove = role.startedAt;
      let lastBehind = '';
      let nextReport = role.startedAt + 30_000;
      let now = performance.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (role.exited()) break;
        const pos = await positionsOf(ns.log, stageProcessors);
        now = performance.now();
        if (pos.key !== lastKey) {
          lastKey = pos.key;
          lastMove = now;
        }
        lastBehind = pos.behind.join(', ');
        if (now >= nextReport) {
          nextReport += 30_000;
          const m = role.memory();
          print(
            `stages: ${secs(now - role.startedAt)} s: VmRSS ${mib(m?.rss ?? 0)} MiB, VmHWM ${mib(sampler.hwm())} MiB; committed ${fmt(pos.committed)} of ${fmt(pos.ends)} (the groups' inputs' ends, summed over the groups); behind: ${lastBehind || 'none'}; load average ${loads()}`,
          );
        }
        if (pos.behind.length === 0 && now - lastMove >= QUIET_MS) break;
        if (now - role.startedAt > STAGE_TIMEOUT_MS) {
          await role.stop(STOP_GRACE_MS);
          throw new Error(
            `hetu run stages was not done within ${STAGE_TIMEOUT_MS / 1000} s (behind: ${lastBehind}):\n${role.output()}`,
          );
        }
      }
      const exit = role.exited();
      if (exit) {
        // a figure too (V8's heap limit reached, say): reported, and the other parts still run
        const seconds = secs(role.exitedAt()! - role.startedAt);
        const hwm = sampler.hwm();
        sampler.stop();
        const why = /JavaScript heap out of memory/.test(role.output())
          ? 'JavaScript heap out of memory'
          : `code ${exit.code}, signal ${exit.signal}`;
        print(
          `stages: EXITED (${why}; code ${exit.code}, signal ${exit.signal}) ${seconds} s after the spawn, before every group was at its inputs' ends (behind then: ${lastBehind || 'none'}); VmHWM ${mib(hwm)} MiB, reached ${sampler.hwmAtS()} s after the spawn (RSS ${mib(role.rssAtReady())} MiB once running); load average ${loads()}; the end of its output:\n${role.output().slice(-1500)}`,
        );
        rows.push({
          role: 'stages',
          recordsIn: NaN,
          inputs: 'every stage',
          seconds,
          readyMiB: mib(role.rssAtReady()),
          peakMiB: mib(hwm),
          snapshot: false,
          note: '',
          failed: why,
        });
        Object.assign(figures, { stagesExitedS: seconds, stagesVmHwmMiB: mib(hwm), stagesRawIn: rawIn });
      } else {
        const seconds = secs(lastMove - role.startedAt);
        const hwm = sampler.hwm();
        const hwmAtS = sampler.hwmAtS();
        const m = role.memory();
        let recordsIn = 0;
        for (const p of stageProcessors) recordsIn += await offsetsOf(ns.log, p.inputs);
        print(
          `stages (${stages.length} stages in one process): ${fmt(rawIn)} records in its inputs at the start, ${fmt(recordsIn)} read by its stages in all; every group at its inputs' ends ${seconds} s after the spawn (done: nothing moved for ${QUIET_MS / 1000} s more); VmHWM ${mib(hwm)} MiB, reached ${hwmAtS} s after the spawn (RSS ${mib(role.rssAtReady())} MiB once running, highest sampled RSS ${mib(role.peakSampledRss())} MiB, RSS when done ${mib(m?.rss ?? 0)} MiB); load average ${loads()}`,
        );
        rows.push({
          role: 'stages',
          recordsIn,
          inputs: 'every stage',
          seconds,
          readyMiB: mib(role.rssAtReady()),
          peakMiB: mib(hwm),
          snapshot: false,
          note: `peak at ${hwmAtS} s`,
        });
        Object.assign(figures, { stagesPeakAtS: hwmAtS, stagesRawIn: rawIn });
        // the snapshot after the figures: writing one costs memory (the VmHWM above is from before)
        if (wantsSnapshot('stages')) {
          const path = await role.heapSnapshot(snapshots!);
          const after = role.memory();
          print(
            `stages: heap snapshot ${path ?? 'not written within 5 minutes'} once done (VmHWM after it ${mib(after?.hwm ?? 0)} MiB)`,
          );
        }
        sampler.stop();
        const stopped = await role.stop(STOP_GRACE_MS);
        if (stopped.code !== 0)
          throw new Error(
            `hetu run stages did not stop cleanly on SIGTERM: code ${stopped.code}, signal ${stopped.signal}:\n${role.output()}`,
          );
      }
    }

    // 4. the stages, in pipeline order, each in a process of its own until caught up
    if (runs('each')) {
      const { ns, env, ingestS } = await ingested('each');
      figures.ingestS = ingestS;
      factsOf = { ns, env };
      for (const name of stages) {
        const p = processors.get(name);
        if (p === undefined)
          throw new Error(`hetu run --list has a stage ${name} this bench cannot name the inputs of`);
        const recordsIn = await offsetsOf(ns.log, p.inputs);
        const role = startRole(
          ROOT,
          name,
          ['--until-caught-up', ...(batch ? ['--batch-records', batch] : [])],
          env,
        );
        const sampler = hwmSampler(role);
        let snapshotHwm: number | undefined;
        if (wantsSnapshot(name)) {
          // once the group committed `snapshotAt` of the input (offsets); none if it ends first
          let done = 0;
          const poll = setInterval(() => {
            void committedOf(ns.log, p.name, p.inputs).then(
              (n) => (done = n),
              () => undefined,
            );
          }, 2000);
          try {
            await waitFor(
              `${Math.round(snapshotAt * 100)} % of its input committed`,
              () => done >= snapshotAt * recordsIn,
              role,
              STAGE_TIMEOUT_MS,
            );
          } catch (err) {
            if (role.exited() === null) throw err;
          } finally {
            clearInterval(poll);
          }
          if (role.exited() === null) {
            snapshotHwm = sampler.hwm();
            const path = await role.heapSnapshot(snapshots!);
            print(
              `${name}: heap snapshot ${path ?? 'not written within 5 minutes'} at ${Math.round((100 * done) / recordsIn)} % of its input (VmHWM before it ${mib(snapshotHwm)} MiB)`,
            );
          }
        }
        const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
          (resolve, reject) => {
            const timer = setInterval(() => {
              const e = role.exited();
              if (e) {
                clearInterval(timer);
                resolve(e);
              } else if (performance.now() - role.startedAt > STAGE_TIMEOUT_MS) {
                clearInterval(timer);
                void role.stop(STOP_GRACE_MS);
                reject(
                  new Error(
                    `${name} did not catch up within ${STAGE_TIMEOUT_MS / 1000} s:\n${role.output()}`,
                  ),
                );
              }
            }, 50);
          },
        );
        const seconds = secs(performance.now() - role.startedAt);
        const hwm = snapshotHwm ?? sampler.hwm();
        sampler.stop();
        if (exit.code !== 0 || !/^caught up$/m.test(role.output()))
          throw new Error(
            `hetu run ${name} --until-caught-up exited with code ${exit.code}, signal ${exit.signal}:\n${role.output()}`,
          );
        const restored = /restored .*/.exec(role.output());
        rows.push({
          role: name,
          recordsIn,
          inputs: p.inputs.join(', '),
          seconds,
          readyMiB: mib(role.rssAtReady()),
          peakMiB: mib(hwm),
          snapshot: snapshotHwm !== undefined,
          note: restored ? restored[0] : '',
        });
        print(
          `${name}: ${fmt(recordsIn)} input records in ${seconds} s; VmHWM ${mib(hwm)} MiB (RSS ${mib(role.rssAtReady())} MiB once running, highest sampled RSS ${mib(role.peakSampledRss())} MiB); load average ${loads()}`,
        );
      }
    }

    // 5. the API over the facts, then overview queries
    if (runs('api')) {
      if (factsOf === undefined)
        throw new Error('HETU_BENCH_ROLES_ONLY=api needs stages or each: the API reads their facts');
      const { ns, env } = factsOf;
      const facts = (await ns.log.describeTopics())
        .map((i) => i.name)
        .filter((n) => n.startsWith('hetu.facts.'));
      const factRecords = await offsetsOf(ns.log, facts);
      const api = startRole(ROOT, 'api', ['--port', '0'], env);
      const sampler = hwmSampler(api);
      try {
        await waitFor(
          'its GraphQL API',
          () => /GraphQL API at (\S+)\/graphql/.test(api.output()),
          api,
          600_000,
        );
        const url = /GraphQL API at (\S+)\/graphql/.exec(api.output())![1]!;
        await waitFor(
          'projections caught up',
          () => api.output().includes('projections caught up'),
          api,
          STAGE_TIMEOUT_MS,
        );
        const caughtUpS = secs(performance.now() - api.startedAt);
        const caughtUpHwm = sampler.hwm();
        const times: number[] = [];
        let failed = 0;
        let clusters = '';
        for (let i = 0; i < queries; i++) {
          const q0 = performance.now();
          const res = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: OVERVIEW_QUERY }),
          });
          const body = (await res.json()) as {
            data?: { overview?: { cluster: string } | { cluster: string }[] | null };
            errors?: unknown;
          };
          times.push(performance.now() - q0);
          const overview = body.data?.overview;
          const list = Array.isArray(overview) ? overview : overview ? [overview] : [];
          if (!res.ok || body.errors !== undefined || list.length === 0) {
            if (failed++ === 0)
              print(`api: overview query failed: HTTP ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
          } else clusters = list.map((o) => o.cluster).join(',');
        }
        times.sort((a, b) => a - b);
        const hwm = sampler.hwm();
        const m = api.memory();
        const snap = wantsSnapshot('api');
        if (snap) {
          const path = await api.heapSnapshot(snapshots!);
          print(
            `api: heap snapshot ${path ?? 'not written within 5 minutes'} (VmHWM before it ${mib(hwm)} MiB)`,
          );
        }
        print(
          `api: projections caught up ${caughtUpS} s after the spawn (${fmt(factRecords)} records in ${facts.length} fact topics), VmHWM then ${mib(caughtUpHwm)} MiB; ${queries} overview queries one after another (clusters: ${clusters || 'none'}; ${failed} failed): first ${times.length ? Math.round(times[0]!) : '-'} ms… median ${times.length ? Math.round(times[Math.floor(times.length / 2)]!) : '-'} ms, max ${times.length ? Math.round(times[times.length - 1]!) : '-'} ms; VmHWM ${mib(hwm)} MiB, RSS now ${mib(m?.rss ?? 0)} MiB; load average ${loads()}`,
        );
        rows.push({
          role: 'api',
          recordsIn: factRecords,
          inputs: `${facts.length} fact topics`,
          seconds: caughtUpS,
          readyMiB: mib(api.rssAtReady()),
          peakMiB: mib(hwm),
          snapshot: snap,
          note: `${queries} overview queries, median ${times.length ? Math.round(times[Math.floor(times.length / 2)]!) : '-'} ms`,
        });
      } finally {
        sampler.stop();
        const exit = await api.stop(STOP_GRACE_MS);
        if (exit.code !== 0)
          print(`api did not stop cleanly: code ${exit.code}, signal ${exit.signal}:\n${api.output()}`);
      }
    }

    print('');
    print('| role | records in | time | RSS once running | peak RSS (VmHWM) | ≤ 512 MiB |');
    print('|---|---:|---:|---:|---:|---|');
    for (const r of rows)
      print(
        `| ${r.role} | ${r.failed ? '-' : fmt(r.recordsIn)} | ${r.seconds} s${r.failed ? `, then **exited**: ${r.failed}` : ''} | ${r.readyMiB} MiB | ${r.peakMiB} MiB${r.snapshot ? ' (before a heap snapshot)' : ''} | ${r.failed ? '**no**: did not finish' : r.peakMiB <= TARGET_MIB ? 'yes' : `**no**, by ${r.peakMiB - TARGET_MIB} MiB`} |`,
      );
    print('');
    print(
      "records in: the offsets of its inputs (a stage; `stages`: of every stage's inputs, summed) or of the fact topics (the api), transaction markers included; time: spawn to exit (a stage), spawn to every group at its inputs' ends (`stages`), spawn to projections caught up (the api)",
    );
    print(`load average after: ${loads()}`);
    for (const r of rows) {
      const k = r.role.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
      if (r.failed === undefined) figures[`${k}RecordsIn`] = r.recordsIn;
      figures[`${k}S`] = r.seconds;
      figures[`${k}ReadyMiB`] = r.readyMiB;
      figures[`${k}VmHwmMiB`] = r.peakMiB;
    }
    return figures;
  } finally {
    // The prefixes' topics and groups go, so a shared broker keeps nothing of the bench
    // (HETU_BENCH_ROLES_KEEP=1 keeps them to look at).
    if (process.env.HETU_BENCH_ROLES_KEEP !== '1' && prefixes.length > 0)
      try {
        print(await dropPrefixes(kafka.log, prefixes));
      } catch (err) {
        print(`could not delete the bench's topics (${prefixes.join(', ')}): ${(err as Error).message}`);
      }
    await kafka.close();
    await services.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Deletes every topic under the prefixes and the stages' consumer groups there; says what it
 * deleted. (The API role's projection groups are named by its data directory's store ids: Kafka
 * expires them once empty, after offsets.retention.minutes.)
 */
async function dropPrefixes(log: Log, prefixes: readonly string[]): Promise<string> {
  const under = (name: string) => prefixes.some((p) => name.startsWith(p));
  const topics = (await log.describeTopics()).map((t) => t.name).filter(under);
  await log.deleteTopics(topics);
  const backend = { serde: {} } as unknown as Backend;
  const names = [...pipelineStages(backend), llmRequestsStage(backend, { pseudonymize: false })].map(
    ([, p]) => p.name,
  );
  const groups = prefixes.flatMap((prefix) => names.map((n) => prefix + n));
  await log.deleteGroups(groups);
  return `deleted the bench's ${topics.length} topics and the stages' consumer groups under ${prefixes.join(', ')}`;
}
