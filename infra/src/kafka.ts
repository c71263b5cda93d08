/**
 * A single-node Apache Kafka broker (KRaft, combined broker+controller) on loopback, run from the
 * jars that `infra/fetch.sh` copied out of Maven Central. One fresh run directory per start.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, InfraError, retryOnPortClash, startProcess, tailFile, waitUntil } from './supervisor.ts';
import type { SupervisedProcess } from './supervisor.ts';

export interface KafkaOptions {
  /** Folder of the broker's runtime jars (`.cache/infra/kafka-<version>/libs`). */
  readonly libsDir: string;
  /** Folder of pid files shared by all runs (see `killStaleProcesses`). */
  readonly pidDir: string;
  /** The `java` executable (17 or newer). Default `java`. */
  readonly java?: string;
  /** Maximum heap in MiB. Default 512. */
  readonly heapMb?: number;
  /** Where the per-run directory is made. Default the OS temp dir. */
  readonly baseDir?: string;
  /** Deadline of the storage format step. Default 60 000 ms. */
  readonly formatTimeoutMs?: number;
  /** Deadline from launch until ready (log line, port, then `probe`). Default 90 000 ms. */
  readonly readyTimeoutMs?: number;
  /**
   * Client-level readiness check run last, with the time left before the deadline
   * (`probeKafka` of `streams/src/kafka/probe.ts`: infra may not import kafkajs itself).
   */
  readonly probe?: (brokers: string[], timeoutMs: number) => Promise<void>;
}

export interface KafkaHandle {
  readonly brokers: string[];
  readonly runDir: string;
  readonly logFile: string;
  readonly pid: number;
  /**
   * Stops the broker process (SIGTERM, or SIGKILL with `kill`), waits `downMs`, and starts it again
   * on the same ports and storage; resolves once it is ready. For fault tests.
   */
  restart(opts?: { readonly kill?: boolean; readonly downMs?: number }): Promise<void>;
  /** Stops the broker (SIGTERM, SIGKILL after 15 s) and removes the run directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A KRaft cluster id: 16 random bytes, base64url (22 characters), as `kafka-storage random-uuid` makes.
 * Like Kafka's own `Uuid.randomUuid()`, it never starts with `-`: the storage tool's argument parser
 * would read such an id as an option ("argument --cluster-id/-t: expected one argument"), which failed
 * one CI run in about 64.
 */
export function makeClusterId(random: () => string = randomUUID): string {
  for (;;) {
    const id = Buffer.from(random().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The broker's `server.properties`: loopback only, everything sized for one node and for tests. */
export function kafkaServerProperties(p: {
  brokerPort: number;
  controllerPort: number;
  dataDir: string;
}): string {
  const b = `127.0.0.1:${p.brokerPort}`;
  const c = `127.0.0.1:${p.controllerPort}`;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${c}`,
    `listeners=PLAINTEXT://${b},CONTROLLER://${c}`,
    `advertised.listeners=PLAINTEXT://${b},CONTROLLER://${c}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${p.dataDir}`,
    // one node: every internal topic has replication factor 1 and few partitions
    'num.partitions=1',
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // topics come from hetu's catalogue; a typo must fail, not create a topic
    'auto.create.topics.enable=false',
    // small machine (2 cores)
    'num.network.threads=2',
    'num.io.threads=2',
    'num.recovery.threads.per.data.dir=1',
    'background.threads=2',
    // let compaction and retention tests see their effect within seconds
    'log.initial.task.delay.ms=0',
    'log.cleaner.backoff.ms=500',
    'log.retention.check.interval.ms=1000',
    '',
  ].join('\n');
}

const LOG4J2_PROPERTIES = [
  'status = warn',
  'appender.out.type = Console',
  'appender.out.name = OUT',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = WARN',
  'rootLogger.appenderRef.out.ref = OUT',
  'logger.raft.name = kafka.server.KafkaRaftServer',
  'logger.raft.level = INFO',
  '',
].join('\n');

const STARTED_LINE = 'Kafka Server started';

function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; cwd: string },
): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 << 20 },
      (err, stdout, stderr) =>
        resolve({ ok: err === null, output: `${stdout}${stderr}${err ? `\n${err.message}` : ''}` }),
    );
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * Formats KRaft storage and starts the broker on free loopback ports; resolves once it is ready.
 * On failure the broker is stopped, its run directory kept, and the log's tail is in the error.
 */
export function startKafka(opts: KafkaOptions): Promise<KafkaHandle> {
  return retryOnPortClash(() => startKafkaOnce(opts));
}

async function startKafkaOnce(opts: KafkaOptions): Promise<KafkaHandle> {
  const java = opts.java ?? 'java';
  const heapMb = opts.heapMb ?? 512;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const runDir = mkdtempSync(join(opts.baseDir ?? tmpdir(), 'hetu-kafka-'));
  const classpath = `${opts.libsDir}/*`;
  const [brokerPort, controllerPort] = await freePorts(2);
  if (brokerPort === undefined || controllerPort === undefined) throw new Error('freePorts(2)');
  const serverProps = join(runDir, 'server.properties');
  const log4j = join(runDir, 'log4j2.properties');
  writeFileSync(
    serverProps,
    kafkaServerProperties({ brokerPort, controllerPort, dataDir: join(runDir, 'data') }),
  );
  writeFileSync(log4j, LOG4J2_PROPERTIES);

  const fmt = await run(
    java,
    [
      '-Xmx256m',
      '-XX:TieredStopAtLevel=1',
      `-Dlog4j2.configurationFile=${log4j}`,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '--cluster-id',
      makeClusterId(),
      '--config',
      serverProps,
    ],
    { timeoutMs: opts.formatTimeoutMs ?? 60_000, cwd: runDir },
  );
  writeFileSync(join(runDir, 'format.log'), fmt.output);
  if (!fmt.ok) {
    throw new InfraError(
      'HETU_INFRA_KAFKA_FORMAT',
      `Formatting Kafka storage failed (run dir ${runDir}):\n${fmt.output.trim().split('\n').slice(-30).join('\n')}`,
    );
  }

  const brokers = [`127.0.0.1:${brokerPort}`];
  /** Starts the broker process on the formatted storage and waits until it is ready. */
  const launch = async (): Promise<SupervisedProcess> => {
    const started = performance.now();
    const logFile = join(runDir, 'kafka.log');
    // The log is appended to across restarts: ready means one more "started" line than before.
    const startedLines = () =>
      existsSync(logFile) ? readFileSync(logFile, 'utf8').split(STARTED_LINE).length - 1 : 0;
    const before = startedLines();
    const proc = startProcess({
      name: 'kafka',
      command: java,
      args: [
        '-Xms128m',
        `-Xmx${heapMb}m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dkafka.logs.dir=${join(runDir, 'logs')}`,
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        serverProps,
      ],
      runDir,
      pidDir: opts.pidDir,
    });
    const left = () => Math.max(1000, readyTimeoutMs - (performance.now() - started));
    try {
      await waitUntil('Kafka broker', () => startedLines() > before, {
        timeoutMs: readyTimeoutMs,
        process: proc,
      });
      await waitUntil('Kafka broker port', () => tcpOpen(brokerPort), { timeoutMs: left(), process: proc });
      if (opts.probe) {
        try {
          await opts.probe(brokers, left());
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new InfraError(
            'HETU_INFRA_KAFKA_PROBE',
            `Kafka broker at ${brokers[0]} did not pass the client check: ${msg}\nLast lines of ${proc.logFile}:\n${tailFile(proc.logFile)}`,
          );
        }
      }
    } catch (err) {
      await proc.stop(5_000);
      throw err;
    }
    return proc;
  };
  let proc = await launch();
  let stopped: Promise<void> | null = null;
  return {
    brokers,
    runDir,
    logFile: proc.logFile,
    get pid() {
      return proc.pid;
    },
    async restart(r = {}) {
      if (stopped)
        throw new InfraError('HETU_INFRA_STOPPED', 'The Kafka broker was stopped; it cannot restart.');
      await proc.stop(r.kill ? 0 : 15_000);
      if (r.downMs) await new Promise((res) => setTimeout(res, r.downMs));
      proc = await launch();
    },
    stop() {
      stopped ??= (async () => {
        await proc.stop(15_000);
        rmSync(runDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
