/**
 * `hetu config init` (write a hetu.yaml from answers) and `hetu config check` (validate one and
 * print the effective configuration with the source of each value). docs/configuration.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { Document, parse as parseYaml } from 'yaml';
import { confirm, input, number, select } from '@inquirer/prompts';
import { HetuError, errorCode } from '@hetu/streams';
import { LLM_DEFAULTS } from '@hetu/producers/llm/config';
import {
  DEFAULT_CONFIG_FILE,
  checkValue,
  findConfigFile,
  loadConfigFile,
  resolveSettings,
  shownValue,
  validateSettings,
  type ConfigFlags,
  type ConfigPath,
  type Settings,
} from '../config.ts';
import { findKube } from '../kube.ts';
import { printRows, toJson } from '../output.ts';

// ----- check -----

export interface CheckOptions {
  /** The file to check; default the lookup (`--config`, HETU_CONFIG, ./hetu.yaml). */
  readonly file?: string;
  readonly configFlag?: string;
  readonly flags: ConfigFlags;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly output: 'json' | 'table';
  readonly out: NodeJS.WritableStream;
}

export interface CheckResult {
  readonly valid: boolean;
  readonly file: string | null;
  readonly error?: { readonly code: string; readonly message: string };
  readonly settings: readonly {
    key: string;
    value: string;
    source: string;
    origin: string;
  }[];
}

/** The effective configuration, as `hetu config check` shows it (secrets masked). */
export function effectiveRows(s: Settings): CheckResult['settings'] {
  return [...s.entries.values()].map((e) => ({
    key: e.path,
    value: shownValue(e),
    source: e.source,
    origin: e.origin,
  }));
}

/**
 * Validates a configuration file with the flags and environment over it; prints the effective
 * configuration (or the one sentence saying what is wrong). Never throws for invalid input.
 */
export function runConfigCheck(o: CheckOptions): CheckResult {
  let file: string | null = null;
  let result: CheckResult;
  try {
    const path = o.file !== undefined ? resolve(o.cwd, o.file) : findConfigFile(o.configFlag, o.env, o.cwd);
    file = path ?? null;
    const loaded = path !== undefined ? loadConfigFile(path) : undefined;
    const s = resolveSettings({ flags: o.flags, env: o.env, ...(loaded ? { file: loaded } : {}) });
    validateSettings(s);
    result = { valid: true, file, settings: effectiveRows(s) };
  } catch (err) {
    const code = errorCode(err);
    if (!code?.startsWith('HETU_')) throw err;
    result = { valid: false, file, error: { code, message: (err as Error).message }, settings: [] };
  }
  if (o.output === 'json') o.out.write(`${toJson(result)}\n`);
  else if (!result.valid) o.out.write(`invalid: ${result.error!.message}\n`);
  else {
    o.out.write(
      `${result.file ? `${result.file} is valid` : `no configuration file (--config, HETU_CONFIG, ./${DEFAULT_CONFIG_FILE})`}; effective configuration (flag > env > file > default):\n`,
    );
    printRows(o.out, 'table', ['key', 'value', 'source', 'origin'], result.settings);
  }
  return result;
}

// ----- init -----

/** Answers given up front (flags); in interactive mode they are the prompts' defaults. */
export interface InitAnswers {
  readonly dataDir?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly cluster?: string;
  readonly kafkaBrokers?: string;
  readonly registry?: string;
  readonly prometheus?: string;
  readonly llmBaseUrl?: string;
  readonly llmModel?: string;
  /** Name of the environment variable that holds the API key (written as `{ env: NAME }`). */
  readonly llmApiKeyEnv?: string;
  readonly llmDailyTokens?: string;
}

export interface InitOptions {
  /** Where to write. */
  readonly path: string;
  readonly force: boolean;
  /** False: take the answers and defaults, ask nothing (`--yes`). */
  readonly interactive: boolean;
  readonly answers: InitAnswers;
  readonly env: NodeJS.ProcessEnv;
  /** Check that Kafka, the registry, Prometheus and the LLM answer (reported, never required). */
  readonly probe: boolean;
  readonly probeTimeoutMs?: number;
  /** The prompts' streams (default the terminal). */
  readonly input?: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
}

/** What `init` wrote and what it found. */
export interface InitResult {
  readonly path: string;
  readonly text: string;
  readonly probes: readonly { target: string; ok: boolean; detail: string }[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An inquirer `validate`: true, or the message shown under the prompt. */
function validator(path: ConfigPath, optional: boolean) {
  return (text: string): true | string => {
    if (optional && text.trim() === '') return true;
    const c = checkValue(path, text);
    return c.ok ? true : c.error;
  };
}

/** A flag answer checked like a prompt's (non-interactive mode): one sentence when bad. */
function checked(path: ConfigPath, flag: string, text: string | undefined): unknown {
  if (text === undefined || text.trim() === '') return undefined;
  const c = checkValue(path, text);
  if (!c.ok) throw new HetuError('HETU_CLI_BAD_OPTION', `${flag} is not valid: ${c.error}.`);
  return c.value;
}

async function probeTcp(hostPort: string, timeoutMs: number): Promise<string | null> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((done) => {
    const sock = connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) });
    const finish = (err: string | null) => {
      sock.destroy();
      done(err);
    };
    sock.setTimeout(timeoutMs, () => finish(`no answer within ${timeoutMs} ms`));
    sock.once('connect', () => finish(null));
    sock.once('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
  });
}

async function probeHttp(url: string, timeoutMs: number): Promise<string | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    // Any HTTP answer means something listens there; 401/403 still need a key, which init does not send.
    return res.status < 500 ? null : `HTTP ${res.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ?? (err as Error).name;
  }
}

/** The contexts of a kubeconfig file, and its current one; null when it cannot be read. */
function contextsOf(kubeconfig: string): { names: string[]; current: string } | null {
  try {
    // the file as kubectl writes it (YAML); read without the client library (~85 MiB loaded)
    const doc = parseYaml(readFileSync(kubeconfig, 'utf8')) as {
      contexts?: { name?: unknown }[] | null;
      'current-context'?: unknown;
    } | null;
    const names = (doc?.contexts ?? []).flatMap((c) => (typeof c?.name === 'string' ? [c.name] : []));
    const current = doc?.['current-context'];
    return { names, current: typeof current === 'string' ? current : '' };
  } catch {
    return null;
  }
}

/**
 * `hetu config init`: asks (or takes from flags with `--yes`) the kube context, Kafka or the
 * embedded log, the registry, Prometheus and the LLM endpoint, model and daily budget; checks
 * each answer's format (and, with `probe`, whether it answers, reporting but never insisting);
 * writes the file, refusing to overwrite one without `force`.
 */
export async function runConfigInit(o: InitOptions): Promise<InitResult> {
  if (existsSync(o.path) && !o.force)
    throw new HetuError(
      'HETU_CONFIG_EXISTS',
      `${o.path} exists already: pass --force to overwrite it, or --file <path> to write another file.`,
    );
  // Each prompt ends the stream it is given when it is done: give it one that forwards to ours.
  // It keeps the terminal's size and TTY-ness, so the prompts wrap lines as the terminal does.
  const forward = () => {
    const w = new Writable({
      write(chunk: Buffer, _enc, cb) {
        o.output.write(chunk);
        cb();
      },
    });
    const tty = o.output as Partial<NodeJS.WriteStream>;
    for (const key of ['isTTY', 'columns', 'rows'] as const)
      Object.defineProperty(w, key, { get: () => tty[key] });
    return w;
  };
  const prompt = () => ({ ...(o.input ? { input: o.input } : {}), output: forward() });
  const a = o.answers;
  const say = (line: string) => o.output.write(`${line}\n`);
  const timeout = o.probeTimeoutMs ?? 2_000;
  const probes: { target: string; ok: boolean; detail: string }[] = [];
  const report = async (target: string, check: Promise<string | null>) => {
    if (!o.probe) return;
    const err = await check;
    probes.push({ target, ok: err === null, detail: err ?? 'reachable' });
    say(
      err === null
        ? `  ok: ${target} answers`
        : `  warning: ${target} does not answer (${err}); written anyway — start it, or fix the value later (hetu doctor checks it)`,
    );
  };
  const file: Record<string, Record<string, unknown> | unknown> = {};
  const put = (section: string, key: string, value: unknown) => {
    if (value === undefined) return;
    ((file[section] ??= {}) as Record<string, unknown>)[key] = value;
  };

  // Kubernetes: the contexts of the kubeconfig.
  const kubeFlag = checked('kube.kubeconfig', '--kubeconfig', a.kubeconfig) as string | undefined;
  const found = findKube(o.env);
  const kubeconfig = kubeFlag ?? (found && 'kubeconfig' in found ? found.kubeconfig : undefined);
  const contexts = kubeconfig !== undefined ? contextsOf(kubeconfig) : null;
  let context = checked('kube.context', '--context', a.context) as string | undefined;
  if (context !== undefined && contexts && !contexts.names.includes(context))
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `--context ${context} is not a context of ${kubeconfig}: use one of ${contexts.names.join(', ')}.`,
    );
  if (o.interactive) {
    if (contexts && contexts.names.length > 0) {
      context =
        (await select(
          {
            message: `Kubernetes context to watch (from ${kubeconfig})`,
            choices: [
              ...contexts.names.map((n) => ({
                name: n === contexts.current ? `${n} (current)` : n,
                value: n,
              })),
              { name: 'none: play the demo recording', value: '' },
            ],
            default: context ?? contexts.current,
          },
          prompt(),
        )) || undefined;
    } else
      say(
        kubeconfig
          ? `The kubeconfig ${kubeconfig} cannot be read: hetu will play the demo recording (set kube.kubeconfig later).`
          : 'No kubeconfig found (KUBECONFIG, ~/.kube/config, in-cluster): hetu will play the demo recording.',
      );
  }
  if (kubeFlag !== undefined) put('kube', 'kubeconfig', kubeFlag);
  put('kube', 'context', context);
  put('kube', 'cluster', checked('kube.cluster', '--cluster', a.cluster));

  // The log: embedded, or Kafka with its registry.
  let brokers = checked('kafka.brokers', '--kafka', a.kafkaBrokers) as string[] | undefined;
  let registry = checked('kafka.registry', '--registry', a.registry) as string | undefined;
  if (o.interactive) {
    const kind = await select(
      {
        message: 'Where does hetu keep its log?',
        choices: [
          { name: 'embedded (one process, data on disk; no Kafka needed)', value: 'embedded' },
          { name: 'a Kafka cluster with a Confluent-compatible schema registry', value: 'kafka' },
        ],
        default: brokers ? 'kafka' : 'embedded',
      },
      prompt(),
    );
    if (kind === 'kafka') {
      const b = await input(
        {
          message: 'Kafka brokers (host:port, comma-separated)',
          default: brokers?.join(',') ?? 'localhost:9092',
          validate: validator('kafka.brokers', false),
        },
        prompt(),
      );
      const parsed = checkValue('kafka.brokers', b);
      brokers = parsed.ok ? (parsed.value as string[]) : [];
      registry = (
        await input(
          {
            message: 'Schema registry URL',
            default: registry ?? 'http://localhost:8081',
            validate: validator('kafka.registry', false),
          },
          prompt(),
        )
      ).trim();
    } else {
      brokers = undefined;
      registry = undefined;
      const dir = await input(
        { message: 'Data directory', default: a.dataDir ?? '.hetu', validate: validator('dataDir', false) },
        prompt(),
      );
      file.dataDir = dir.trim();
    }
  } else if (a.dataDir !== undefined) file.dataDir = checked('dataDir', '--data-dir', a.dataDir);
  if ((brokers === undefined) !== (registry === undefined))
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      '--kafka and --registry go together: give both (Kafka and its schema registry), or neither for the embedded log.',
    );
  if (brokers && registry) {
    put('kafka', 'brokers', brokers);
    put('kafka', 'registry', registry);
    for (const b of brokers) await report(`Kafka broker ${b}`, probeTcp(b, timeout));
    await report(
      `schema registry ${registry}`,
      probeHttp(`${registry.replace(/\/$/, '')}/subjects`, timeout),
    );
  }

  // Prometheus (optional).
  let prometheus = checked('prometheus.url', '--prometheus', a.prometheus) as string | undefined;
  if (o.interactive) {
    prometheus =
      (
        await input(
          {
            message: 'Prometheus URL for metric samples (empty: none)',
            default: prometheus ?? '',
            validate: validator('prometheus.url', true),
          },
          prompt(),
        )
      ).trim() || undefined;
  }
  if (prometheus) {
    put('prometheus', 'url', prometheus);
    await report(`Prometheus ${prometheus}`, probeHttp(`${prometheus.replace(/\/$/, '')}/-/ready`, timeout));
  }

  // The LLM second opinion (optional).
  let baseUrl = checked('llm.baseUrl', '--llm-base-url', a.llmBaseUrl) as string | undefined;
  let model = checked('llm.model', '--llm-model', a.llmModel) as string | undefined;
  let keyEnv = a.llmApiKeyEnv?.trim() || undefined;
  if (keyEnv !== undefined && !ENV_NAME.test(keyEnv))
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `--llm-api-key-env ${keyEnv} is not an environment variable name: use letters, digits and _, e.g. OPENAI_API_KEY.`,
    );
  let daily = checked('llm.dailyTokens', '--llm-daily-tokens', a.llmDailyTokens) as number | undefined;
  if (o.interactive) {
    const use = await confirm(
      {
        message: 'Ask an LLM (OpenAI-compatible) for a second opinion on root causes?',
        default: baseUrl !== undefined,
      },
      prompt(),
    );
    if (use) {
      baseUrl = (
        await input(
          {
            message: 'LLM endpoint (OpenAI-compatible base URL)',
            default: baseUrl ?? 'http://localhost:11434/v1',
            validate: validator('llm.baseUrl', false),
          },
          prompt(),
        )
      ).trim();
      model = (
        await input(
          { message: 'Model name', default: model ?? 'llama3.1:8b', validate: validator('llm.model', false) },
          prompt(),
        )
      ).trim();
      keyEnv =
        (
          await input(
            {
              message: 'Environment variable holding the API key (empty: no key)',
              default: keyEnv ?? '',
              validate: (t) =>
                t.trim() === '' ||
                ENV_NAME.test(t.trim()) ||
                'letters, digits and _ only, e.g. OPENAI_API_KEY',
            },
            prompt(),
          )
        ).trim() || undefined;
      daily = await number(
        {
          message: 'Daily budget (input + output tokens per UTC day)',
          default: daily ?? LLM_DEFAULTS.dailyTokens,
          min: 1,
          step: 1,
          required: true,
        },
        prompt(),
      );
    } else {
      baseUrl = undefined;
      model = undefined;
    }
  }
  if ((baseUrl === undefined) !== (model === undefined))
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      '--llm-base-url and --llm-model go together: give both to enable the LLM, or neither.',
    );
  if (baseUrl !== undefined && model !== undefined) {
    put('llm', 'baseUrl', baseUrl);
    put('llm', 'model', model);
    if (keyEnv !== undefined) {
      put('llm', 'apiKey', { env: keyEnv });
      if (!o.env[keyEnv]) say(`  note: ${keyEnv} is not set here; set it where hetu runs.`);
    }
    put('llm', 'dailyTokens', daily ?? LLM_DEFAULTS.dailyTokens);
    await report(`LLM endpoint ${baseUrl}`, probeHttp(`${baseUrl.replace(/\/$/, '')}/models`, timeout));
  }

  const doc = new Document(file);
  doc.commentBefore =
    ' hetu configuration (docs/configuration.md). Flags > environment > this file > defaults;\n' +
    ' `hetu config check` shows where each value comes from. Secrets are references: { env: NAME } or { file: path }.';
  const text = doc.toString();
  writeFileSync(o.path, text);
  // What was written must load: the same check `hetu config check` runs.
  loadConfigFile(o.path);
  say(`wrote ${o.path}; see the effective configuration with: hetu config check ${o.path}`);
  return { path: o.path, text, probes };
}

// ----- commander -----

export interface ConfigCommandDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** `--config` of the program. */
  configFlag(): string | undefined;
  /** The global flags (`--data-dir`, `--kafka`, `--llm-*`, …) by key. */
  globalFlags(): ConfigFlags;
  /** `--output` of the program (undefined when not given). */
  outputFlag(): string | undefined;
}

export function registerConfigCommand(program: Command, deps: ConfigCommandDeps): void {
  const config = program
    .command('config')
    .description('write a hetu.yaml (init) or validate one and show where each value comes from (check)');
  config
    .command('init')
    .description(
      'ask for the kube context, Kafka (or embedded), registry, Prometheus, LLM endpoint and budget; write hetu.yaml',
    )
    .option('--file <path>', `file to write (default: --config, HETU_CONFIG, ./${DEFAULT_CONFIG_FILE})`)
    .option('--force', 'overwrite the file if it exists')
    .option('-y, --yes', 'ask nothing: answers from flags (--kafka, --llm-base-url, …), defaults otherwise')
    .option('--kubeconfig <file>', 'kubeconfig whose contexts are offered (default: found like kubectl)')
    .option('--context <name>', 'Kubernetes context to watch')
    .option('--cluster <name>', "name stamped on the cluster's records")
    .option('--prometheus <url>', 'Prometheus server root')
    .option('--llm-api-key-env <name>', 'environment variable that holds the LLM API key')
    .option('--no-probe', 'do not check whether Kafka, the registry, Prometheus and the LLM answer')
    .action(
      async (o: {
        file?: string;
        force?: boolean;
        yes?: boolean;
        kubeconfig?: string;
        context?: string;
        cluster?: string;
        prometheus?: string;
        llmApiKeyEnv?: string;
        probe: boolean;
      }) => {
        const g = deps.globalFlags();
        const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
        const named = o.file ?? deps.configFlag() ?? (deps.env.HETU_CONFIG?.trim() || undefined);
        const answers: InitAnswers = Object.fromEntries(
          Object.entries({
            dataDir: str(g.dataDir),
            kubeconfig: o.kubeconfig,
            context: o.context,
            cluster: o.cluster,
            kafkaBrokers: str(g['kafka.brokers']),
            registry: str(g['kafka.registry']),
            prometheus: o.prometheus,
            llmBaseUrl: str(g['llm.baseUrl']),
            llmModel: str(g['llm.model']),
            llmApiKeyEnv: o.llmApiKeyEnv,
            llmDailyTokens: str(g['llm.dailyTokens']),
          }).filter(([, v]) => v !== undefined),
        );
        const path = resolve(deps.cwd, named ?? DEFAULT_CONFIG_FILE);
        try {
          await runConfigInit({
            path,
            force: o.force === true,
            interactive: o.yes !== true,
            answers,
            env: deps.env,
            probe: o.probe,
            output: process.stdout,
          });
        } catch (err) {
          // Ctrl-C or the end of the input while a question is asked.
          if ((err as Error).name !== 'ExitPromptError') throw err;
          process.stderr.write(
            `hetu config init: stopped before the last answer; ${path} was not written.\n`,
          );
          process.exitCode = 130;
        }
      },
    );
  config
    .command('check [file]')
    .description(
      'validate a hetu.yaml (default: --config, HETU_CONFIG, ./hetu.yaml) and print the effective configuration with the source of each value; exit 1 when invalid',
    )
    .action((file: string | undefined) => {
      const output = deps.outputFlag() === 'json' ? 'json' : 'table';
      const result = runConfigCheck({
        ...(file !== undefined ? { file } : {}),
        ...(deps.configFlag() !== undefined ? { configFlag: deps.configFlag()! } : {}),
        flags: deps.globalFlags(),
        env: deps.env,
        cwd: deps.cwd,
        output,
        out: process.stdout,
      });
      if (!result.valid) process.exitCode = 1;
    });
}
