/**
 * `hetu run <role>`: one part of hetu as its own process on Kafka (docs/roles.md) — a stage of the
 * pipeline, a collector, the projections with the GraphQL API, or the LLM worker. Processes of the
 * same stage form one consumer group and share its partitions; one that dies hands its partitions
 * to the others, which restore the tasks' state from the changelog and go on from the committed
 * positions.
 */
import { join } from 'node:path';
import {
  HetuError,
  ProcessorRuntime,
  avroDeadLetterEncoder,
  avroFactEncoder,
  prefixedLog,
  type AnyProcessor,
  type BatchCommittedInfo,
  type Log,
} from '@hetu/streams';
import { createRegistryClient, createSerde, topicEntry } from '@hetu/schemas';
import type { AuthConfig } from '@hetu/projections';
import type { PipelineMetrics } from '@hetu/projections/metrics';
import { DEFAULT_API_PORT } from '@hetu/projections/defaults';
import type { GlobalConfig } from '../config.ts';
import { createCatalogueTopics, openBackend, type Backend } from '../backend.ts';
import { internalFeedSpecs } from '../feeds.ts';
import { RawFrontier, StageGates, isRaw, startLiveClock, writersByTopic } from '../gates.ts';
import {
  FRONTIERS_TOPIC,
  FrontierPublisher,
  FrontierTable,
  LogFrontiers,
  stageTasks,
  type FrontierStage,
} from '../frontiers.ts';
import type { LlmSetup } from '../llm.ts';
import type { LogShard } from '@hetu/producers/logs';
import { findKube, kubeSource, loadKube, type KubeTarget } from '../kube.ts';
import { printRows } from '../output.ts';
import { boundedClose } from '../exit-after-stop.ts';
import {
  activeLog,
  mappedLog,
  physicalName,
  projectionsDir,
  type ResolvedGeneration,
} from '../generations.ts';
import {
  aborted,
  followIntervalMs,
  followSwitches,
  pollErrorLine,
  type SwitchFollower,
} from '../follow-switch.ts';

// A process loads only its roles' modules (imported where a role starts): the processors, the
// projections with the GraphQL server, the LLM client and each collector cost 20-85 MiB of RSS
// apiece, and a collector's pod has 256 Mi (docs/benchmarks.md, collectors at 10 000 pods).

export type RoleKind = 'stage' | 'collector' | 'api' | 'worker';

/** One role `hetu run` can play. */
export interface Role {
  readonly name: string;
  readonly kind: RoleKind;
  /** One line: what it does. */
  readonly description: string;
  /** How many instances make sense, and what happens to more. */
  readonly scaling: string;
}

export interface RunOptions {
  readonly out: NodeJS.WritableStream;
  /** Stops the role (SIGTERM and SIGINT do too): it commits what it did, closes and returns. */
  readonly signal?: AbortSignal;
  /**
   * Namespace on a shared Kafka cluster: every topic and consumer group gets this prefix (as
   * `prefixedLog` does), so several installations or test runs share one cluster. Default none.
   */
  readonly prefix?: string;
  /**
   * Records per batch (one transaction) of a stage. Default STAGE_BATCH_RECORDS (2 000), as
   * `hetu start`, `hetu analyze` and `hetu replay` batch: with it the stages derive their facts.
   */
  readonly batchRecords?: number;
  /**
   * Stages take their inputs as they come instead of waiting for the stages before them to pass
   * an event time (docs/roles.md, "Event-time gates across processes"). Default false.
   */
  readonly ungated?: boolean;
  /**
   * Serve the stages' pipeline metrics (docs/metrics.md) at `http://<host>:<port>/metrics`, and
   * `/healthz` (0: any free port; the start line names it). Default: none.
   */
  readonly metricsPort?: number;
  /**
   * Stop once every stage of the process has processed what raw input held when it started, and
   * what the stages before it (wherever they run) derive from that (a backfill, a Kubernetes Job,
   * a test), instead of running until SIGTERM. Stages only.
   */
  readonly untilCaughtUp?: boolean;
  /** The cluster to watch (collectors); default found like kubectl finds it. */
  readonly kube?: KubeTarget | null;
  /** Name stamped on the cluster's records (collectors); default the context name. */
  readonly cluster?: string;
  /** Prometheus server root (collect-metrics). */
  readonly prometheus?: string;
  /** collect-logs follows only the pods of this shard, `<index>/<count>` (docs/collectors.md). */
  readonly logShard?: string;
  /** The LLM (llm-worker; the llm-requests stage reads `pseudonymize`). */
  readonly llm?: LlmSetup;
  /** The API (api role). */
  readonly host?: string;
  readonly port?: number;
  readonly auth?: AuthConfig;
  readonly introspection?: boolean;
  /** The api role's dashboard (a directory with index.html); default the built web/dist; null serves none. */
  readonly webRoot?: string | null;
  /**
   * How often stages and the API look for a generation switch (ms; 0: never, a switch then needs
   * a restart). Default HETU_GENERATION_POLL_MS, else 5 000 (docs/replay.md).
   */
  readonly followIntervalMs?: number;
}

/** The stage processors by role name: every stage of the pipeline, then the LLM requests stage. */
async function stageProcessors(
  backend: Backend,
  pseudonymize: boolean,
): Promise<[string, AnyProcessor<unknown, unknown>][]> {
  const [{ pipelineStages }, { llmRequestsStage }] = await Promise.all([
    import('../stages.ts'),
    import('../llm.ts'),
  ]);
  return [...pipelineStages(backend), llmRequestsStage(backend, { pseudonymize })];
}

/**
 * A backend for naming the stages without a log: building a stage only captures the serde, which
 * is never called here.
 */
function offlineBackend(): Backend {
  const registry = createRegistryClient({ url: 'http://registry.invalid' });
  return { serde: createSerde(registry), registry } as Pick<Backend, 'serde' | 'registry'> as Backend;
}

function inputsLine(inputs: readonly string[]): string {
  return inputs.length <= 3
    ? inputs.join(', ')
    : `${inputs.slice(0, 2).join(', ')} and ${inputs.length - 2} more`;
}

/** The roles, stages first (derived from the pipeline, in its order). */
export async function listRoles(): Promise<Role[]> {
  const feeds = new Map(internalFeedSpecs(-1).map((f) => [f.name, f.partitions]));
  const stages: Role[] = (await stageProcessors(offlineBackend(), false)).map(([name, p]) => {
    const partitions = Math.max(...p.inputs.map((t) => feeds.get(t) ?? topicEntry(t)?.partitions ?? 1));
    return {
      name,
      kind: 'stage',
      description: `processor ${p.name}: reads ${inputsLine(p.inputs)}`,
      scaling: p.singleTask
        ? 'one active instance (a single task); more stand by and take over'
        : `up to ${partitions} instances share its ${partitions} partitions`,
    };
  });
  return [...stages, ...OTHER_ROLES];
}

/** The roles that are not stages: known without loading the pipeline. */
const OTHER_ROLES: readonly Role[] = [
  {
    name: 'collect-kube',
    kind: 'collector',
    description: 'watches the Kubernetes API and writes hetu.raw.kube',
    scaling: 'one per cluster',
  },
  {
    name: 'collect-logs',
    kind: 'collector',
    description: "follows the pods' logs through the Kubernetes API and writes hetu.raw.logs",
    scaling: 'one per cluster, or one per shard of its pods (--shard 0/2, 1/2: each pod to one)',
  },
  {
    name: 'collect-metrics',
    kind: 'collector',
    description: 'queries Prometheus (--prometheus) and writes hetu.raw.metrics',
    scaling: 'one per cluster',
  },
  {
    name: 'api',
    kind: 'api',
    description: 'the projections (read models) and the GraphQL API on --host:--port',
    scaling: 'any number; each keeps its own read models (behind a load balancer)',
  },
  {
    name: 'llm-worker',
    kind: 'worker',
    description: 'calls the configured LLM for hetu.llm.requests and writes hetu.facts.llm-analyses',
    scaling: 'one active instance (a single task); more stand by and take over',
  },
];

/** `hetu run --list`: the roles, and the `stages` group, as a table or JSON Lines. */
export async function printRoles(out: NodeJS.WritableStream, format: 'json' | 'table'): Promise<void> {
  const roles = await listRoles();
  const rows: Record<string, unknown>[] = [
    ...roles.map((r) => ({ ...r })),
    {
      name: 'stages',
      kind: 'group',
      description: `every stage in one process: ${roles
        .filter((r) => r.kind === 'stage')
        .map((r) => r.name)
        .join(', ')}`,
      scaling: 'like each of its stages: instances share every stage',
    },
  ];
  printRows(out, format, ['name', 'kind', 'description', 'scaling'], rows);
}

function unknownRole(role: string, roles: readonly Role[]): HetuError {
  return new HetuError(
    'HETU_CLI_BAD_OPTION',
    `There is no role ${role}: run 'hetu run --list' to see the roles (${[
      ...roles.map((r) => r.name),
      STAGES_GROUP,
    ].join(', ')}).`,
  );
}

/** Resolves when `signal` aborts or on SIGTERM/SIGINT; `dispose` removes the listeners. */
function stopSignal(signal: AbortSignal | undefined): { stopped: Promise<void>; dispose(): void } {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  signal?.addEventListener('abort', onSignal, { once: true });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (signal?.aborted) ac.abort();
  return {
    stopped: new Promise<void>((resolve) => {
      if (ac.signal.aborted) resolve();
      ac.signal.addEventListener('abort', () => resolve(), { once: true });
    }),
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      signal?.removeEventListener('abort', onSignal);
    },
  };
}

/** The topics every role may read or write: the catalogue and the internal feeds (as `hetu start`). */
async function ensurePipelineTopics(backend: Backend): Promise<void> {
  await createCatalogueTopics(backend.log);
  await backend.log.ensureTopics(internalFeedSpecs(7 * 86_400_000));
}

/** A role that was started: a failure of `done` stops the process; `close` stops it cleanly. */
interface Running {
  readonly done?: Promise<void>;
  /** Resolves once a stage processed what its inputs held when this was called. */
  whenCaughtUp?(): Promise<void>;
  /**
   * Moves the role to another generation (stages and the API; collectors and the LLM worker read
   * and write no generational topic and have none). Returns what it did, for the switch's line.
   */
  switchTo?(next: Backend, generation: number, where: string, signal: AbortSignal): Promise<string>;
  close(): Promise<void>;
  /** Printed once closed. */
  readonly stoppedLine: string;
}

/** The group names `hetu run` accepts besides the roles: `stages` is every stage. */
export const STAGES_GROUP = 'stages';

/** The role names a command line asks for, in order, with `stages` expanded; checked. */
export async function resolveRoles(names: readonly string[]): Promise<Role[]> {
  // the stages are listed (their modules loaded) only when a name is not another role
  const roles = names.every((n) => OTHER_ROLES.some((r) => r.name === n)) ? OTHER_ROLES : await listRoles();
  const out: Role[] = [];
  for (const name of names) {
    const picked =
      name === STAGES_GROUP ? roles.filter((r) => r.kind === 'stage') : roles.filter((r) => r.name === name);
    if (picked.length === 0) throw unknownRole(name, roles);
    for (const r of picked) if (!out.includes(r)) out.push(r);
  }
  return out;
}

/**
 * Runs one or more roles in this process until SIGTERM/SIGINT (or `io.signal`): then each stage
 * finishes and commits the batch in hand, leaves its group (the others take its partitions at
 * once) and the call returns. A stage that fails stops the process with its error.
 */
export async function runRoles(cfg: GlobalConfig, names: readonly string[], io: RunOptions): Promise<void> {
  const roles = await resolveRoles(names);
  const label = names.join(' ');
  if (!cfg.kafka)
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `hetu run ${label} needs Kafka (--kafka <brokers> --registry <url>, or HETU_KAFKA_BROKERS and HETU_SCHEMA_REGISTRY_URL): the embedded log belongs to one process, so to run every role on one machine use 'hetu start'.`,
    );
  if (io.batchRecords !== undefined && (!Number.isInteger(io.batchRecords) || io.batchRecords < 1))
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `--batch-records must be a whole number of at least 1, not ${io.batchRecords}.`,
    );
  if (roles.some((r) => r.kind === 'worker') && io.llm === undefined)
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      'hetu run llm-worker needs an LLM: set --llm-base-url and --llm-model (or HETU_LLM_BASE_URL and HETU_LLM_MODEL).',
    );
  if (roles.some((r) => r.name === 'collect-metrics') && !io.prometheus)
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      'hetu run collect-metrics needs Prometheus: pass --prometheus <url> (or set HETU_PROMETHEUS_URL).',
    );
  // Parsed before anything starts, for the collect-logs role.
  let logShard: LogShard | undefined;
  if (io.logShard !== undefined) {
    if (!roles.some((r) => r.name === 'collect-logs'))
      throw new HetuError(
        'HETU_CLI_BAD_OPTION',
        `--shard (HETU_LOG_SHARD) splits the pods between collect-logs processes, and ${label} does not run collect-logs: leave it out.`,
      );
    const { parseLogShard } = await import('@hetu/producers/logs');
    logShard = parseLogShard(io.logShard, '--shard (HETU_LOG_SHARD)');
  }
  const port = io.port ?? DEFAULT_API_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new HetuError('HETU_CLI_BAD_OPTION', `--port must be a port number (0 to 65535), not ${io.port}.`);
  if (
    io.metricsPort !== undefined &&
    (!Number.isInteger(io.metricsPort) || io.metricsPort < 0 || io.metricsPort > 65_535)
  )
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `--metrics-port must be a port number (0 to 65535), not ${io.metricsPort}.`,
    );
  if (io.metricsPort !== undefined && !roles.some((r) => r.kind === 'stage'))
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `--metrics-port serves the metrics of stages, and ${label} has none: leave it out (the api role serves /metrics on its own port).`,
    );
  const notStage = roles.find((r) => r.kind !== 'stage');
  if (io.untilCaughtUp === true && notStage)
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `--until-caught-up is for stages, and ${notStage.name} is not one: leave the option out, or run ${notStage.name} in a process of its own.`,
    );

  const followMs = io.followIntervalMs ?? followIntervalMs();
  const opened = await openBackend(cfg);
  // Roles read and write the active generation (docs/replay.md), as `hetu start` does.
  const base = io.prefix ? prefixedLog(opened.log, io.prefix) : opened.log;
  let active: ResolvedGeneration;
  try {
    active = await activeLog(base);
  } catch (err) {
    await opened.close();
    throw err;
  }
  const backend: Backend = { ...opened, log: active.log };
  const whereOf = (generation: number) =>
    `${opened.description}${io.prefix ? `, topic prefix ${io.prefix}` : ''}${generation === 1 ? '' : `, generation ${generation}`}`;
  const where = whereOf(active.generation);
  const stop = stopSignal(io.signal);
  const running: Running[] = [];
  // A part that fails (a stage, a switch) ends the process with its error.
  let fail!: (err: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const watch = (done: Promise<void> | undefined) => void done?.catch(fail);
  let follower: SwitchFollower | undefined;
  let gating: RoleGating | undefined;
  let metricsMapping = active.mapping;
  let metricsServer: Awaited<ReturnType<typeof serveStageMetrics>> | undefined;
  try {
    await ensurePipelineTopics(backend);
    const stages = roles.some((r) => r.kind === 'stage')
      ? await stageProcessors(backend, io.llm?.pseudonymize === true)
      : [];
    let stageSetup: StageSetup | undefined;
    if (stages.length > 0) {
      const { STAGE_BATCH_RECORDS, STAGE_OUTPUTS } = await import('../stages.ts');
      if (io.ungated !== true) {
        gating = await openRoleGating(base, io, STAGE_OUTPUTS);
        watch(gating.done);
      }
      const g = gating;
      const gatesByGeneration = new Map<number, Promise<StageGates>>();
      let latestGates: StageGates | undefined;
      if (io.metricsPort !== undefined) {
        const mine = stages.filter(([n]) => roles.some((r) => r.name === n));
        // The lag of the generation the stages work in now: its mapping follows a switch.
        metricsServer = await serveStageMetrics(
          mappedLog(base, () => metricsMapping),
          mine,
          () => latestGates?.frontiers() ?? new Map(),
          io.host ?? '127.0.0.1',
          io.metricsPort,
        );
      }
      stageSetup = {
        batchRecords: io.batchRecords ?? STAGE_BATCH_RECORDS,
        gatesOf: g
          ? (b, generation) => {
              let gates = gatesByGeneration.get(generation);
              if (!gates) {
                gates = g.gatesFor(b, generation);
                gatesByGeneration.set(generation, gates);
                void gates.then((x) => (latestGates = x)).catch(() => undefined);
              }
              return gates;
            }
          : undefined,
        metrics: metricsServer?.metrics,
        upstreamDone:
          io.untilCaughtUp === true
            ? await upstreamWaiter(backend, stages, STAGE_OUTPUTS, (line) => io.out.write(`${line}\n`))
            : undefined,
      };
      if (metricsServer) io.out.write(`hetu run: stage metrics at ${metricsServer.url}\n`);
    }
    for (const role of roles) {
      if (role.kind === 'stage') {
        const [, processor] = stages.find(([n]) => n === role.name)!;
        running.push(
          await startStage(backend, active.generation, role.name, processor, io, where, stageSetup!, watch),
        );
      } else if (role.kind === 'worker') running.push(await startWorker(backend, io, where));
      else if (role.kind === 'api')
        running.push(await startApi(cfg, backend, io, where, port, active.generation));
      else running.push(await startCollector(backend, role.name, io, where, logShard));
    }
    for (const r of running) watch(r.done);
    // A running stage or API follows `hetu replay --switch` (docs/replay.md); a backfill
    // (--until-caught-up) finishes the generation it started on.
    const generational = running.filter((r) => r.switchTo !== undefined);
    if (generational.length > 0 && io.untilCaughtUp !== true && followMs > 0) {
      follower = followSwitches({
        log: base,
        current: active,
        intervalMs: followMs,
        onPollError: pollErrorLine(io.out, followMs),
        onSwitch: async (next, previous, signal) => {
          const nextBackend: Backend = { ...opened, log: next.log };
          await ensurePipelineTopics(nextBackend);
          const did: string[] = [];
          for (const r of generational) {
            if (signal.aborted) return;
            did.push(await r.switchTo!(nextBackend, next.generation, whereOf(next.generation), signal));
          }
          metricsMapping = next.mapping;
          if (signal.aborted) return;
          io.out.write(
            `generation switch: ${previous.generation} → ${next.generation} (hetu.meta.generations): ${did.join('; ')}\n`,
          );
        },
      });
      void follower.failed.catch(fail);
    }
    io.out.write(
      `hetu run: ${roles.map((r) => r.name).join(', ')} running. ${io.untilCaughtUp === true ? 'Stops once caught up; ' : ''}SIGTERM stops.\n`,
    );
    // Until told to stop (or caught up), or until a part fails (then its error ends the process).
    await Promise.race([
      stop.stopped,
      ...(io.untilCaughtUp === true
        ? [Promise.all(running.map((r) => r.whenCaughtUp?.())).then(() => io.out.write('caught up\n'))]
        : []),
      failed,
    ]);
  } finally {
    stop.dispose();
    // A switch in progress ends first (aborted), then every part stops.
    await follower?.close();
    for (const r of running.reverse()) {
      await r.close();
      io.out.write(`${r.stoppedLine}\n`);
    }
    // After the stages: their last frontiers go out first. Everything is committed by now: a
    // closing step that hangs is named and left, so the process still ends (exitAfterStop).
    await boundedClose('run', 'the frontier publisher', gating?.close());
    await boundedClose('run', 'the metrics server', metricsServer?.close());
    await boundedClose('run', 'the connections to Kafka and the registry', opened.close());
  }
}

/** What every stage of the process shares: the batch size, the gates by generation (none: ungated), the metrics. */
interface StageSetup {
  readonly batchRecords: number;
  /**
   * `--until-caught-up`: resolves once every stage a stage depends on, wherever it runs, has
   * processed what raw input held when this process started; only then does the stage take its
   * inputs' ends, so it processes all that, derived facts included.
   */
  readonly upstreamDone: ((role: string) => Promise<void>) | undefined;
  readonly gatesOf: ((b: Backend, generation: number) => Promise<StageGates>) | undefined;
  readonly metrics: PipelineMetrics | undefined;
}

/**
 * The pipeline metrics of the stages of this process on their own port (`--metrics-port`): records
 * in and out, dead letters, batch latency and watermarks as its stages commit, the lag of their
 * consumer groups and the frontiers of every stage (read at each scrape).
 */
export async function serveStageMetrics(
  log: Log,
  stages: readonly (readonly [string, AnyProcessor<unknown, unknown>])[],
  frontiers: () => ReadonlyMap<string, number>,
  host: string,
  port: number,
): Promise<{ metrics: PipelineMetrics; url: string; close(): Promise<void> }> {
  const [{ createPipelineMetrics, processRegistry }, { createServer }] = await Promise.all([
    import('@hetu/projections/metrics'),
    import('node:http'),
  ]);
  const registry = processRegistry('hetu_run_');
  const groups = stages.map(([, p]) => ({ group: p.name, topics: p.inputs }));
  const metrics = createPipelineMetrics({ log, groups: () => groups, frontiers });
  metrics.register(registry);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
    } else if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: GET /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES'
          ? new HetuError(
              'HETU_CLI_BAD_OPTION',
              `--metrics-port ${port} on ${host} is ${err.code === 'EADDRINUSE' ? 'in use' : 'not allowed'}: choose another port (0: any free one).`,
              { cause: err },
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    metrics,
    url: `http://${shown}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's kept-alive connection would hold close() until it idles out.
        server.closeAllConnections();
      }),
  };
}

/**
 * The event-time gates of the stages of this process across processes (docs/roles.md): raw input
 * complete up to the wall clock less LIVE_INPUT_SLACK_MS, as in `hetu start` on a cluster, and the
 * stages' frontiers through the frontiers topic (cli/src/frontiers.ts).
 */
interface RoleGating {
  gatesFor(b: Backend, generation: number): Promise<StageGates>;
  /** Rejects when following the frontiers topic failed. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/**
 * For `--until-caught-up`: reads what raw input holds now, and returns a function that waits, for a
 * stage, until every stage it depends on (through the topics it reads, transitively, wherever they
 * run) has committed its input — raw input up to those ends, the topics of the stages before it up
 * to their ends once those stages are done — by the consumer groups' committed positions.
 */
async function upstreamWaiter(
  backend: Backend,
  stages: readonly (readonly [string, AnyProcessor<unknown, unknown>])[],
  outputs: Readonly<Record<string, readonly string[]>>,
  say: (line: string) => void,
): Promise<(role: string) => Promise<void>> {
  const log = backend.log;
  const raw = [...new Set(stages.flatMap(([, p]) => p.inputs.filter(isRaw)))];
  const rawEnds = new Map<string, Map<number, bigint>>();
  for (const t of await log.describeTopics(raw))
    rawEnds.set(t.name, new Map(t.partitions.map((p) => [p.partition, p.high])));
  const writersOf = writersByTopic(stages.map(([name]) => ({ name, outputs: outputs[name] ?? [] })));
  const upstreamOf = (role: string): Set<string> => {
    const seen = new Set<string>();
    const visit = (name: string) => {
      const p = stages.find(([n]) => n === name)?.[1];
      for (const t of p?.inputs ?? [])
        for (const w of writersOf.get(t) ?? [])
          if (!seen.has(w)) {
            seen.add(w);
            visit(w);
          }
    };
    visit(role);
    return seen;
  };
  /** Records of `p`'s gated inputs its group has not committed yet (raw: up to `rawEnds`). */
  const behind = async (p: AnyProcessor<unknown, unknown>): Promise<bigint> => {
    let n = 0n;
    const gated = p.inputs.filter((t) => isRaw(t) || writersOf.has(t));
    for (const info of await log.describeTopics(gated)) {
      const committed = await log.committed(p.name, info.name);
      for (const part of info.partitions) {
        const end = isRaw(info.name) ? (rawEnds.get(info.name)?.get(part.partition) ?? 0n) : part.high;
        const from = committed.get(part.partition) ?? part.low;
        if (end > from) n += end - from;
      }
    }
    return n;
  };
  return async (role) => {
    const upstream = upstreamOf(role);
    // In pipeline order: a stage's derived inputs are complete once the stages before it are done.
    for (const [name, p] of stages) {
      if (!upstream.has(name)) continue;
      let said = Date.now();
      for (;;) {
        const n = await behind(p);
        if (n === 0n) break;
        if (Date.now() - said >= WAITING_LINE_MS) {
          said = Date.now();
          say(
            `${role} (--until-caught-up) waits for ${name}: ${n} records of its input not processed yet (is 'hetu run ${name}' running?)`,
          );
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
}

/** How often a stage held back by a stage nobody reported for says so. */
const WAITING_LINE_MS = 30_000;

async function openRoleGating(
  base: Log,
  io: RunOptions,
  outputs: Readonly<Record<string, readonly string[]>>,
): Promise<RoleGating> {
  const raw = new RawFrontier();
  const stopClock = startLiveClock(raw);
  let lastErrorLine = 0;
  const publisher = new FrontierPublisher(base, (err) => {
    if (Date.now() - lastErrorLine < WAITING_LINE_MS) return;
    lastErrorLine = Date.now();
    io.out.write(
      `could not publish the stages' frontiers to ${FRONTIERS_TOPIC} (${err instanceof Error ? err.message : String(err)}); trying again every second: the stages after these wait meanwhile\n`,
    );
  });
  const table = new FrontierTable();
  try {
    await table.follow(base);
  } catch (err) {
    stopClock();
    throw err;
  }
  return {
    gatesFor: async (b, generation) => {
      const all = await stageProcessors(b, io.llm?.pseudonymize === true);
      const stages: FrontierStage[] = [];
      for (const [name, p] of all) stages.push({ name, group: p.name, tasks: await stageTasks(b.log, p) });
      return new StageGates(
        all.map(([name, p]) => ({ name, inputs: p.inputs, outputs: outputs[name] ?? [] })),
        raw,
        new LogFrontiers(table, publisher, generation, stages),
      );
    },
    done: table.done ?? Promise.resolve(),
    close: async () => {
      stopClock();
      await publisher.close();
      await table.close();
    },
  };
}

async function startStage(
  backend: Backend,
  generation: number,
  role: string,
  processor: AnyProcessor<unknown, unknown>,
  io: RunOptions,
  where: string,
  setup: StageSetup,
  watch: (done: Promise<void>) => void,
): Promise<Running> {
  let gates: StageGates | undefined;
  const start = async (b: Backend, p: AnyProcessor<unknown, unknown>, gen: number) => {
    gates = await setup.gatesOf?.(b, gen);
    const runtime = new ProcessorRuntime({
      log: b.log,
      processor: p,
      encodeFact: avroFactEncoder(b.serde),
      encodeDeadLetter: avroDeadLetterEncoder(b.serde),
      maxBatchRecords: setup.batchRecords,
      ...(gates ? { gate: gates.gate(role), ungatedTopics: gates.ungated(role) } : {}),
      events: {
        ...(setup.metrics
          ? { batchCommitted: (i: BatchCommittedInfo) => setup.metrics!.batchCommitted(p.name, i) }
          : {}),
        restored: (i) =>
          io.out.write(
            `restored ${role} task ${i.partition}: ${i.keys} keys from ${i.records} changelog records\n`,
          ),
        assigned: (tasks) =>
          io.out.write(
            `${role} owns ${tasks.length === 0 ? 'no task (the other members of its group own them all)' : `task${tasks.length === 1 ? '' : 's'} ${tasks.join(', ')}`}\n`,
          ),
      },
    });
    return { runtime, subscription: await runtime.start() };
  };
  let current = await start(backend, processor, generation);
  io.out.write(
    `hetu run ${role}: consumer group ${processor.name} on ${where}; reads ${processor.inputs.join(', ')}${gates ? '' : ' (ungated)'}\n`,
  );
  // A stage held back by stages nobody runs says so (once per set of them).
  let waitingLine = '';
  const waiting = setInterval(() => {
    const missing = gates?.waitingFor(role) ?? [];
    const line =
      missing.length === 0
        ? ''
        : `${role} waits for ${missing.join(', ')}: no instance of ${missing.length === 1 ? 'it' : 'them'} has said how far it got (start 'hetu run ${missing.join(' ')}' with the same Kafka and topic prefix, or run this stage with --ungated)`;
    if (line !== '' && line !== waitingLine) io.out.write(`${line}\n`);
    waitingLine = line;
  }, WAITING_LINE_MS);
  waiting.unref();
  return {
    done: current.subscription.done,
    whenCaughtUp: async () => {
      await setup.upstreamDone?.(role);
      await current.subscription.whenCaughtUp(Number.MAX_SAFE_INTEGER);
    },
    // The batch in hand commits and the group is left (as on SIGTERM); the stage starts again on
    // the generation's group and changelog, so it goes on where the replay (or its last run) stopped.
    switchTo: async (next, generation) => {
      await current.runtime.close();
      const [, p] = (await stageProcessors(next, io.llm?.pseudonymize === true)).find(([n]) => n === role)!;
      current = await start(next, p, generation);
      watch(current.subscription.done);
      return `${role} restarted on consumer group ${physicalName(p.name, generation)}`;
    },
    close: () => {
      clearInterval(waiting);
      return current.runtime.close();
    },
    stoppedLine: `${role} stopped: its last batch committed, its partitions handed back to the group`,
  };
}

async function startWorker(backend: Backend, io: RunOptions, where: string): Promise<Running> {
  const { createWorker } = await import('../llm.ts');
  const worker = createWorker(backend, io.llm!);
  const subscription = await worker.start().catch(async (err: unknown) => {
    await worker.close();
    throw err;
  });
  io.out.write(`hetu run llm-worker: model ${io.llm!.config.model} on ${where}\n`);
  return { done: subscription.done, close: () => worker.close(), stoppedLine: 'llm-worker stopped' };
}

async function startApi(
  cfg: GlobalConfig,
  backend: Backend,
  io: RunOptions,
  where: string,
  port: number,
  generation: number,
): Promise<Running> {
  // Each generation has read models of its own (as `hetu start` keeps them).
  const dataDir = projectionsDir(cfg.dataDir, generation);
  const [{ Projections }, { dashboardOf, serveApi }] = await Promise.all([
    import('@hetu/projections'),
    import('./start.ts'),
  ]);
  let projections = await Projections.start({ log: backend.log, serde: backend.serde, dataDir });
  // The dashboard on the same port, as `hetu start` serves it.
  const { webRoot, web } = dashboardOf(io);
  const { createPipelineMetrics } = await import('@hetu/projections/metrics');
  // Its /metrics: the API's, and what the facts count for the whole deployment (dead letters in
  // hetu.dlq, LLM tokens); the stages serve their own (--metrics-port).
  const serve = async (b: Backend, p: typeof projections, onPort: number) => {
    const s = await serveApi(io, b, p, onPort);
    createPipelineMetrics({ log: b.log, groups: () => [], projections: () => p }).register(
      s.api.metrics.registry,
    );
    return s;
  };
  let server: Awaited<ReturnType<typeof serve>>;
  try {
    server = await serve(backend, projections, port);
  } catch (err) {
    await projections.close();
    throw err;
  }
  io.out.write(
    `hetu run api: GraphQL API at ${server.url}/graphql (WebSocket too); ${server.url}/healthz, /readyz, /metrics; ${web !== undefined ? `dashboard at ${server.url}/` : webRoot === null ? 'no dashboard' : `dashboard not built (no ${join(webRoot, 'index.html')}: run 'npm run build:web')`}; projections in ${dataDir}; ${where}\n`,
  );
  // Ready (/readyz) once the read models caught up with what the fact topics held at the start.
  let closed = false;
  void projections.whenCaughtUp(3_600_000).then(
    () => {
      if (!closed) io.out.write('projections caught up: /readyz is ready\n');
    },
    () => undefined,
  );
  return {
    switchTo: async (next, n, _where, signal) => {
      // The generation's read models catch up while the API still answers from the old ones; then
      // the API starts again on the same port over them (open WebSockets end; clients reconnect).
      const dir = projectionsDir(cfg.dataDir, n);
      const fresh = await Projections.start({ log: next.log, serde: next.serde, dataDir: dir });
      await Promise.race([fresh.whenCaughtUp(3_600_000).catch(() => undefined), aborted(signal)]);
      if (signal.aborted) {
        await fresh.close();
        return 'api not switched (stopping)';
      }
      const onPort = Number(new URL(server.url).port);
      await server.close();
      const old = projections;
      projections = fresh;
      try {
        server = await serve(next, fresh, onPort);
      } finally {
        await old.close();
      }
      return `api answers from ${dir} at ${server.url}/graphql`;
    },
    close: async () => {
      closed = true;
      await server.close();
      await projections.close();
    },
    stoppedLine: 'api stopped',
  };
}

async function startCollector(
  backend: Backend,
  role: string,
  io: RunOptions,
  where: string,
  logShard: LogShard | undefined,
): Promise<Running> {
  let collector: { start(): Promise<void> | void; close(): Promise<void> };
  let clusterName: string;
  if (role === 'collect-metrics') {
    clusterName = io.cluster ?? 'cluster';
    if (io.cluster === undefined) {
      const target = io.kube === undefined ? findKube(process.env) : io.kube;
      if (target !== null) clusterName = loadKube(target).context || clusterName;
    }
    const { createMetricsCollector } = await import('@hetu/producers/metrics');
    collector = createMetricsCollector({
      prometheusUrl: io.prometheus!,
      cluster: clusterName,
      log: backend.log,
      serde: backend.serde,
    });
  } else {
    const target = io.kube === undefined ? findKube(process.env) : io.kube;
    if (target === null)
      throw new HetuError(
        'HETU_CLI_BAD_OPTION',
        `hetu run ${role} found no Kubernetes context (KUBECONFIG, ~/.kube/config, in-cluster): pass --kubeconfig <file>.`,
      );
    clusterName = io.cluster ?? (loadKube(target).context || 'cluster');
    const opts = { ...kubeSource(target), cluster: clusterName, log: backend.log, serde: backend.serde };
    if (role === 'collect-kube') collector = (await import('@hetu/producers/kube')).createKubeCollector(opts);
    else
      collector = (await import('@hetu/producers/logs')).createLogCollector({
        ...opts,
        ...(logShard ? { shard: logShard } : {}),
      });
  }
  try {
    await collector.start();
  } catch (err) {
    await collector.close();
    throw err;
  }
  const shard =
    role === 'collect-logs' && logShard
      ? `, shard ${logShard.index}/${logShard.count} (only its pods' containers)`
      : '';
  io.out.write(`hetu run ${role}: cluster ${clusterName} on ${where}${shard}\n`);
  return {
    close: () => collector.close(),
    stoppedLine: `${role} stopped: buffered observations written`,
  };
}
