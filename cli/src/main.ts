#!/usr/bin/env node
// The `hetu` command. The only place that reads the environment: it parses flags and
// environment into one validated, frozen config and passes it down.
import { createReadStream, createWriteStream } from 'node:fs';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { HetuError, errorCode } from '@hetu/streams';
import {
  findConfigFile,
  globalConfigOf,
  globalFlags,
  llmConfigOf,
  loadConfigFile,
  resolveSettings,
  type ConfigFlags,
  type RawGlobalOptions,
  type RawLlmOptions,
} from './config.ts';
import { registerConfigCommand } from './commands/config.ts';
import { openBackend } from './backend.ts';
import { findKube, type KubeTarget } from './kube.ts';

import { printRows } from './output.ts';
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '@hetu/projections/defaults';
import { registerReplay } from './replay-command.ts';
import { exitAfterStop } from './exit-after-stop.ts';

// kafkajs 2.2.4 schedules a timer with a negative delay on Node ≥ 23 (its request queue's
// "throttled until" starts at -1); Node clamps it to 1 ms and warns. Keep every other warning.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'TimeoutNegativeWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
});

// Output piped into a reader that stops early (`hetu tail … | head`): end quietly, as Unix tools
// do, instead of an unhandled EPIPE with its stack.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });

/** `90s`, `10m`, `1h`, or milliseconds. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m)
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `--duration ${text} is not a duration: use e.g. 90s, 10m or 1h.`,
    );
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

/** The kubeconfig file of a found target (for --context alone). */
function kubeconfigOf(t: KubeTarget | null): string {
  if (t !== null && 'kubeconfig' in t) return t.kubeconfig;
  throw new HetuError(
    'HETU_CLI_BAD_OPTION',
    '--context needs a kubeconfig: pass --kubeconfig <file> or set KUBECONFIG.',
  );
}

const program = new Command();
program
  .name('hetu')
  .description("Why is this pod hurting my cluster's score, and what should I do about it?")
  .option(
    '--config <file>',
    'configuration file (env HETU_CONFIG; default ./hetu.yaml when present); flags > env > file > defaults',
  )
  .option('--data-dir <dir>', 'data directory of the embedded log (env HETU_DATA_DIR)', undefined)
  .option(
    '--kafka <brokers>',
    'Kafka brokers host:port[,host:port] instead of the embedded log (env HETU_KAFKA_BROKERS)',
  )
  .option(
    '--registry <url>',
    'Confluent-compatible schema registry URL, with --kafka (env HETU_SCHEMA_REGISTRY_URL)',
  )
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']))
  .option(
    '--llm-base-url <url>',
    'OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (env HETU_LLM_BASE_URL)',
  )
  .option('--llm-model <name>', 'model name at that endpoint (env HETU_LLM_MODEL)')
  .option(
    '--llm-api-key <key>',
    'API key, sent as a bearer token; prefer the environment, flags show in ps (env HETU_LLM_API_KEY)',
  )
  .option('--llm-max-tokens <n>', 'output tokens per call, at most 4096 (env HETU_LLM_MAX_TOKENS)')
  .option(
    '--llm-pseudonymize',
    'replace names of namespaces, workloads, pods and nodes by tokens in what is sent (env HETU_LLM_PSEUDONYMIZE=1)',
  )
  .option(
    '--llm-daily-tokens <n>',
    'daily budget, input + output tokens per UTC day, default 1000000 (env HETU_LLM_DAILY_TOKENS)',
  )
  .showHelpAfterError();

/** Every setting: the command's and the global flags over environment over hetu.yaml over defaults. */
function settings(commandFlags: ConfigFlags = {}) {
  const path = findConfigFile(program.opts<RawGlobalOptions>().config, process.env, process.cwd());
  const file = path !== undefined ? loadConfigFile(path) : undefined;
  const flags = { ...globalFlags(program.opts<RawGlobalOptions & RawLlmOptions>()), ...commandFlags };
  return resolveSettings({ flags, env: process.env, ...(file ? { file } : {}) });
}

function config() {
  return globalConfigOf(settings());
}

/** The LLM setup of analyze and start: the client's configuration and pseudonymisation. */
function llmSetup(s = settings()) {
  const config = llmConfigOf(s);
  if (!config) return undefined;
  return { config, pseudonymize: s.get('llm.pseudonymize') === true };
}

program
  .command('topics')
  .description('list the topic catalogue as it is on the log (partitions, cleanup, retention, records)')
  .option('--create', 'create the catalogue topics that are missing')
  .action(async (o: { create?: boolean }) => {
    const cfg = config();
    const backend = await openBackend(cfg);
    try {
      await (
        await import('./commands/topics.ts')
      ).runTopics(backend, { create: o.create === true, output: cfg.output, out: process.stdout });
    } finally {
      await backend.close();
    }
  });

program
  .command('tail <topic>')
  .description('print the last records of a topic, decoded through the schema registry')
  .option('-n, --lines <n>', 'how many records', '20')
  .option('-f, --follow', 'keep printing new records until interrupted')
  .action(async (topic: string, o: { lines: string; follow?: boolean }) => {
    const cfg = config();
    const backend = await openBackend(cfg);
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    try {
      await (
        await import('./commands/tail.ts')
      ).runTail(backend, topic, {
        lines: Number(o.lines),
        follow: o.follow === true,
        output: cfg.output,
        out: process.stdout,
        signal: ac.signal,
      });
    } finally {
      await backend.close();
    }
  });

function progressBar(label: string) {
  if (!process.stderr.isTTY) return undefined;
  return new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} records`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
}

program
  .command('dump <topic>')
  .description('write every retained record of a topic as JSON Lines')
  .option('--out <file>', 'file to write (default: standard output)')
  .action(async (topic: string, o: { out?: string }) => {
    const backend = await openBackend(config());
    const out = o.out ? createWriteStream(o.out) : process.stdout;
    const bar = progressBar(`dump ${topic}`);
    let started = false;
    try {
      const n = await (
        await import('./commands/dump-load.ts')
      ).runDump(backend, topic, {
        out,
        progress: (done, total) => {
          if (!bar) return;
          if (!started) bar.start(Number(total), 0);
          started = true;
          bar.update(Number(done));
        },
      });
      bar?.stop();
      process.stderr.write(`dumped ${n} records of ${topic}\n`);
    } finally {
      if (o.out) await new Promise<void>((r) => (out as NodeJS.WritableStream).end(() => r()));
      await backend.close();
    }
  });

program
  .command('load <topic>')
  .description('append JSON Lines (as dump writes them) to a topic, encoding values with its schema')
  .option('--in <file>', 'file to read (default: standard input)')
  .action(async (topic: string, o: { in?: string }) => {
    const backend = await openBackend(config());
    try {
      const n = await (
        await import('./commands/dump-load.ts')
      ).runLoad(backend, topic, {
        in: o.in ? createReadStream(o.in) : process.stdin,
        progress: (lines) => {
          if (process.stderr.isTTY) process.stderr.write(`\rloaded ${lines} records`);
        },
      });
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}loaded ${n} records into ${topic}\n`);
    } finally {
      await backend.close();
    }
  });

program
  .command('fingerprint [file]')
  .description('one JSON object per log line: its fingerprint, template, level and reason')
  .addOption(
    new Option('--input <kind>', 'content: bare messages; raw: lines with their timestamp/level header')
      .choices(['content', 'raw'])
      .default('content'),
  )
  .action(async (file: string | undefined, o: { input: 'content' | 'raw' }) => {
    await (
      await import('./commands/fingerprint.ts')
    ).runFingerprint({
      input: o.input,
      in: file ? createReadStream(file) : process.stdin,
      out: process.stdout,
    });
  });

program
  .command('detect [file]')
  .description('anomaly scores for a timestamp,value CSV (the NAB format)')
  .option('--threshold <score>', 'flag a row when its anomaly_score is above this', '0.5')
  .action(async (file: string | undefined, o: { threshold: string }) => {
    await (
      await import('./commands/detect.ts')
    ).runDetect({
      in: file ? createReadStream(file) : process.stdin,
      out: process.stdout,
      threshold: Number(o.threshold),
    });
  });

program
  .command('analyze <recording>')
  .description(
    'replay a recording (JSON Lines, .gz too) through every stage offline and print the final facts',
  )
  .option('--json', 'machine-readable output (docs/analyze-output.md), as -o json')
  .option('--keep <dir>', 'keep the embedded log in this directory instead of a temporary one')
  .option(
    '--threads <n>',
    'run independent stages at the same time on 2 threads (default), or on 1 (less memory)',
    '2',
  )
  .action(async (recording: string, o: { json?: boolean; keep?: string; threads: string }) => {
    if (o.threads !== '1' && o.threads !== '2')
      throw new HetuError('HETU_CLI_BAD_OPTION', `--threads must be 1 or 2, not ${o.threads}.`);
    const llm = llmSetup();
    const { analyze, printAnalysis } = await import('./commands/analyze.ts');
    const { analyzeProgress } = await import('./analyze-progress.ts');
    const progress = analyzeProgress(process.stderr);
    let result: Record<string, unknown>;
    try {
      ({ result } = await analyze(recording, {
        threads: o.threads === '1' ? 1 : 2,
        ...(o.keep ? { dataDir: o.keep } : {}),
        ...(llm ? { llm } : {}),
        progress,
      }));
    } finally {
      progress.stop();
    }
    printAnalysis(process.stdout, result, o.json === true || config().output === 'json');
  });

program
  .command('record')
  .description('write a recording (SPEC §1.1) of a live cluster: what the collectors observe, in time order')
  .requiredOption('--out <file>', 'the recording to write (JSON Lines; gzip when it ends in .gz)')
  .option('--duration <time>', 'stop after this long, e.g. 90s, 10m, 1h (default: until Ctrl-C)')
  .option('--kubeconfig <file>', 'the cluster (default: KUBECONFIG, ~/.kube/config, in-cluster)')
  .option('--context <name>', 'context of the kubeconfig (default its current context)')
  .option('--cluster <name>', 'name stamped on the observations (env HETU_CLUSTER; default the context name)')
  .option('--prometheus <url>', 'Prometheus server root for metric samples (env HETU_PROMETHEUS_URL)')
  .action(
    async (o: {
      out: string;
      duration?: string;
      kubeconfig?: string;
      context?: string;
      cluster?: string;
      prometheus?: string;
    }) => {
      const s = settings({
        'kube.kubeconfig': o.kubeconfig,
        'kube.context': o.context,
        'kube.cluster': o.cluster,
        'prometheus.url': o.prometheus,
      });
      const kubeconfig = s.get('kube.kubeconfig');
      const context = s.get('kube.context');
      const found = kubeconfig !== undefined ? { kubeconfig } : findKube(process.env);
      if (found === null)
        throw new HetuError(
          'HETU_CLI_BAD_OPTION',
          'No Kubernetes context to record (KUBECONFIG, ~/.kube/config, in-cluster): pass --kubeconfig <file>.',
        );
      const kube = context !== undefined ? { kubeconfig: kubeconfigOf(found), context } : found;
      const durationMs = o.duration !== undefined ? parseDuration(o.duration) : undefined;
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      const cluster = s.get('kube.cluster');
      const prometheus = s.get('prometheus.url');
      const summary = await (
        await import('./commands/record.ts')
      ).runRecord({
        out: o.out,
        kube,
        signal: stop.signal,
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(cluster !== undefined ? { cluster } : {}),
        ...(prometheus !== undefined ? { prometheus } : {}),
        progress: (p) =>
          process.stderr.write(
            `\rrecording ${Math.round(p.elapsedMs / 1000)} s: ${p.watch} watch, ${p.metric} metric, ${p.log} log observations   `,
          ),
      });
      process.stderr.write('\n');
      process.stdout.write(
        `wrote ${summary.lines} observations of cluster ${summary.cluster} to ${o.out} (${Math.round(summary.elapsedMs / 1000)} s); replay it with: hetu analyze ${o.out}\n`,
      );
    },
  );

program
  .command('doctor')
  .description(
    'check what hetu needs: Node, data dir, port, Kafka and registry, kube context and RBAC, Prometheus, LLM — each line ok or the exact fix',
  )
  .option('--host <host>', 'address the API will listen on (default 127.0.0.1)')
  .option('--port <port>', `port the API will listen on (default ${DEFAULT_API_PORT})`)
  .option('--prometheus <url>', 'Prometheus server root URL (env HETU_PROMETHEUS_URL)')
  .action(async (o: { host?: string; port?: string; prometheus?: string }) => {
    const s = settings({ 'api.host': o.host, 'api.port': o.port, 'prometheus.url': o.prometheus });
    const cfg = globalConfigOf(s);
    const llm = llmConfigOf(s);
    const prometheus = s.get('prometheus.url');
    const { formatChecks, runDoctor } = await import('./commands/doctor.ts');
    const checks = await runDoctor(cfg, {
      host: s.get('api.host') ?? DEFAULT_API_HOST,
      port: s.get('api.port') ?? DEFAULT_API_PORT,
      ...(prometheus ? { prometheus } : {}),
      ...(llm ? { llm } : {}),
    });
    if (cfg.output === 'json') printRows(process.stdout, 'json', [], checks as never);
    else process.stdout.write(`${formatChecks(checks)}\n`);
    const failed = checks.filter((c) => c.status === 'fail').length;
    if (cfg.output === 'table')
      process.stdout.write(
        failed === 0
          ? 'hetu can run here.\n'
          : `${failed} check(s) failed: fix them and run \`hetu doctor\` again.\n`,
      );
    if (failed > 0) process.exitCode = 1;
  });

program
  .command('start')
  .description(
    'run hetu in one process: the log (embedded, or Kafka with --kafka/--registry), every stage, the projections and the GraphQL API',
  )
  .option('--no-demo', 'do not play the demo recording into an empty log')
  .option(
    '--kubeconfig <file>',
    'the cluster to watch (default: KUBECONFIG, ~/.kube/config, in-cluster; none: the demo)',
  )
  .option('--context <name>', 'context of the kubeconfig (default its current context)')
  .option(
    '--cluster <name>',
    "name stamped on the cluster's records (env HETU_CLUSTER; default the context name)",
  )
  .option('--prometheus <url>', 'Prometheus server root for metric samples (env HETU_PROMETHEUS_URL)')
  .option('--recording <file>', 'feed this recording (JSON Lines, .gz too) as its event time passes')
  .option('--speed <n>', 'feed the recording n times faster than it was recorded (default 1)')
  .option('--host <host>', 'address the API listens on; beyond loopback it needs tokens (default 127.0.0.1)')
  .option('--port <port>', 'port of the API: GraphQL at /graphql, /healthz, /readyz, /metrics (default 4380)')
  .option('--introspection', 'allow GraphQL introspection (__schema, __type)')
  .option(
    '--topic-prefix <prefix>',
    'namespace on a shared Kafka cluster: prefix of every topic and consumer group (env HETU_TOPIC_PREFIX)',
  )
  .action(
    async (o: {
      demo: boolean;
      topicPrefix?: string;
      recording?: string;
      speed?: string;
      host?: string;
      port?: string;
      introspection?: boolean;
      kubeconfig?: string;
      context?: string;
      cluster?: string;
      prometheus?: string;
    }) => {
      // Flags > environment > hetu.yaml > defaults (docs/configuration.md). Tokens come from the
      // environment or a file reference only (a flag would show in `ps`).
      const s = settings({
        'kube.kubeconfig': o.kubeconfig,
        'kube.context': o.context,
        'kube.cluster': o.cluster,
        'prometheus.url': o.prometheus,
        'api.host': o.host,
        'api.port': o.port,
        'api.introspection': o.introspection === true ? true : undefined,
      });
      const llm = llmSetup(s);
      const kubeconfig = s.get('kube.kubeconfig');
      const context = s.get('kube.context');
      const cluster = s.get('kube.cluster');
      const prometheus = s.get('prometheus.url');
      const prefix = o.topicPrefix ?? process.env.HETU_TOPIC_PREFIX;
      await (
        await import('./commands/start.ts')
      ).runStart(globalConfigOf(s), {
        out: process.stdout,
        ...(prefix ? { prefix } : {}),
        ...(llm ? { llm } : {}),
        ...(kubeconfig !== undefined || context !== undefined
          ? {
              kube: {
                kubeconfig: kubeconfig ?? kubeconfigOf(findKube(process.env)),
                ...(context !== undefined ? { context } : {}),
              },
            }
          : {}),
        ...(cluster !== undefined ? { cluster } : {}),
        ...(prometheus !== undefined ? { prometheus } : {}),
        demo: o.demo,
        ...(o.recording !== undefined ? { recording: o.recording } : {}),
        ...(o.speed !== undefined ? { speed: Number(o.speed) } : {}),
        host: s.get('api.host') ?? DEFAULT_API_HOST,
        port: s.get('api.port') ?? DEFAULT_API_PORT,
        introspection: s.get('api.introspection') === true,
        auth: {
          readTokens: s.get('api.readTokens') ?? [],
          adminTokens: s.get('api.adminTokens') ?? [],
        },
      });
      exitAfterStop('start');
    },
  );

program
  .command('run [roles...]')
  .description(
    "run parts of hetu as their own process on Kafka: stages ('stages' = all), collectors, the API, the LLM worker (without a role: list them)",
  )
  .option('--list', 'list the roles with what each does and how it scales')
  .option(
    '--topic-prefix <prefix>',
    'namespace on a shared Kafka cluster: prefix of every topic and consumer group (env HETU_TOPIC_PREFIX)',
  )
  .option(
    '--batch-records <n>',
    "records per batch, one transaction each, of a stage (default 2000, as hetu start's: the same facts)",
  )
  .option(
    '--until-caught-up',
    'stages: stop once what raw input held at the start is processed, by them and the stages before them',
  )
  .option(
    '--ungated',
    'stages: take inputs as they come instead of waiting for the stages before them to pass an event time',
  )
  .option('--kubeconfig <file>', 'collectors: the cluster (default: KUBECONFIG, ~/.kube/config, in-cluster)')
  .option('--context <name>', 'collectors: context of the kubeconfig (default its current context)')
  .option('--cluster <name>', "collectors: name stamped on the cluster's records (env HETU_CLUSTER)")
  .option('--prometheus <url>', 'collect-metrics: Prometheus server root (env HETU_PROMETHEUS_URL)')
  .option(
    '--shard <index/count>',
    "collect-logs: follow only this shard's pods, e.g. 0/2 and 1/2 in two processes (env HETU_LOG_SHARD)",
  )
  .option(
    '--host <host>',
    'api and --metrics-port: address to listen on; the API beyond loopback needs tokens (default 127.0.0.1)',
  )
  .option('--port <port>', 'api: port of the GraphQL API (default 4380)')
  .option(
    '--metrics-port <port>',
    'stages: serve their pipeline metrics at http://<host>:<port>/metrics (0: any free port)',
  )
  .option('--introspection', 'api: allow GraphQL introspection')
  .action(
    async (
      roles: string[],
      o: {
        list?: boolean;
        topicPrefix?: string;
        batchRecords?: string;
        untilCaughtUp?: boolean;
        ungated?: boolean;
        metricsPort?: string;
        kubeconfig?: string;
        context?: string;
        cluster?: string;
        prometheus?: string;
        shard?: string;
        host?: string;
        port?: string;
        introspection?: boolean;
      },
    ) => {
      // Flags > environment > hetu.yaml > defaults (docs/configuration.md), as for `hetu start`.
      const s = settings({
        'kube.kubeconfig': o.kubeconfig,
        'kube.context': o.context,
        'kube.cluster': o.cluster,
        'prometheus.url': o.prometheus,
        'logs.shard': o.shard,
        'api.host': o.host,
        'api.port': o.port,
        'api.introspection': o.introspection === true ? true : undefined,
      });
      const cfg = globalConfigOf(s);
      // Only the role's modules: a collector's pod has 256 Mi (docs/benchmarks.md)
      const { printRoles, runRoles } = await import('./commands/run.ts');
      if (roles.length === 0 || o.list === true) {
        await printRoles(process.stdout, cfg.output);
        return;
      }
      const llm = llmSetup(s);
      const prefix = o.topicPrefix ?? process.env.HETU_TOPIC_PREFIX;
      const kubeconfig = s.get('kube.kubeconfig');
      const context = s.get('kube.context');
      const cluster = s.get('kube.cluster');
      const prometheus = s.get('prometheus.url');
      const logShard = s.get('logs.shard');
      await runRoles(cfg, roles, {
        out: process.stdout,
        ...(prefix ? { prefix } : {}),
        ...(o.batchRecords !== undefined ? { batchRecords: Number(o.batchRecords) } : {}),
        untilCaughtUp: o.untilCaughtUp === true,
        ...(o.ungated === true ? { ungated: true } : {}),
        ...(o.metricsPort !== undefined ? { metricsPort: Number(o.metricsPort) } : {}),
        ...(kubeconfig !== undefined || context !== undefined
          ? {
              kube: {
                kubeconfig: kubeconfig ?? kubeconfigOf(findKube(process.env)),
                ...(context !== undefined ? { context } : {}),
              },
            }
          : {}),
        ...(cluster !== undefined ? { cluster } : {}),
        ...(prometheus !== undefined ? { prometheus } : {}),
        ...(logShard !== undefined ? { logShard } : {}),
        ...(llm ? { llm } : {}),
        host: s.get('api.host') ?? DEFAULT_API_HOST,
        port: s.get('api.port') ?? DEFAULT_API_PORT,
        introspection: s.get('api.introspection') === true,
        auth: {
          readTokens: s.get('api.readTokens') ?? [],
          adminTokens: s.get('api.adminTokens') ?? [],
        },
      });
      exitAfterStop('run');
    },
  );

registerConfigCommand(program, {
  env: process.env,
  cwd: process.cwd(),
  configFlag: () => program.opts<RawGlobalOptions>().config,
  globalFlags: () => globalFlags(program.opts<RawGlobalOptions & RawLlmOptions>()),
  outputFlag: () => program.opts<RawGlobalOptions>().output,
});

registerReplay(program, config);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const code = errorCode(err);
  if (code?.startsWith('HETU_')) {
    process.stderr.write(`hetu: ${(err as Error).message}\n`);
    process.exit(2);
  }
  throw err;
}
