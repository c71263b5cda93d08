/**
 * hetu's configuration: flags over environment over `hetu.yaml` over defaults, resolved once here
 * (docs/configuration.md) and passed down validated and frozen. The only place hetu reads
 * process.env (main.ts hands it in).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { LineCounter, parseDocument, isMap, isScalar, type Document } from 'yaml';
import { HetuError } from '@hetu/streams';
import { LLM_DEFAULTS, llmConfigFromEnv, type LlmConfig } from '@hetu/producers/llm/config';
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '@hetu/projections/defaults';

/** The file looked for in the working directory when neither `--config` nor HETU_CONFIG names one. */
export const DEFAULT_CONFIG_FILE = 'hetu.yaml';

/** Global options, after flags, environment and file are merged. */
export const GlobalConfig = z
  .object({
    dataDir: z.string().min(1),
    kafka: z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'a broker is host:port'))
      .min(1)
      .optional(),
    registry: z.url().optional(),
    output: z.enum(['json', 'table']),
  })
  .refine((c) => !(c.kafka && !c.registry), {
    message: '--kafka needs --registry <url> too (the schema registry of that cluster)',
    path: ['registry'],
  })
  .readonly();

export type GlobalConfig = z.infer<typeof GlobalConfig>;

// ----- the keys -----

/** Where a value came from, strongest first. */
export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

const Broker = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'a broker is host:port, e.g. localhost:9092');
const HttpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+/, 'it must be an http(s) URL such as http://localhost:8080')
  .pipe(z.url());
const Text = z.string().trim().min(1, 'it must not be empty');
/** A secret is named, never written in the file: `{ env: NAME }` or `{ file: /path }`. */
export const SecretRef = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }),
  z.strictObject({ file: Text }),
]);
export type SecretRef = z.infer<typeof SecretRef>;

type Kind = 'string' | 'list' | 'int' | 'bool' | 'secret' | 'secretList';

interface KeyDef {
  /** Dotted path in hetu.yaml. */
  readonly path: string;
  readonly kind: Kind;
  /** The value's schema (after a flag or variable string is converted to the kind). */
  readonly schema: z.ZodType;
  /** The flag that sets it, as shown in messages. */
  readonly flag?: string;
  readonly env?: string;
  readonly default?: unknown;
  /** Masked when printed. */
  readonly secret?: boolean;
  readonly doc: string;
}

/** Every key hetu.yaml knows, with its flag, variable and default (docs/configuration.md). */
export const CONFIG_KEYS: readonly KeyDef[] = [
  {
    path: 'dataDir',
    kind: 'string',
    schema: Text,
    flag: '--data-dir',
    env: 'HETU_DATA_DIR',
    default: '.hetu',
    doc: 'data directory of the embedded log and the projections',
  },
  {
    path: 'output',
    kind: 'string',
    schema: z.enum(['json', 'table']),
    flag: '--output',
    default: 'table',
    doc: 'output format of the commands: table or json',
  },
  {
    path: 'kafka.brokers',
    kind: 'list',
    schema: z.array(Broker).min(1, 'give at least one broker'),
    flag: '--kafka',
    env: 'HETU_KAFKA_BROKERS',
    doc: 'Kafka brokers (host:port); none = the embedded log',
  },
  {
    path: 'kafka.registry',
    kind: 'string',
    schema: HttpUrl,
    flag: '--registry',
    env: 'HETU_SCHEMA_REGISTRY_URL',
    doc: 'Confluent-compatible schema registry URL (with kafka.brokers)',
  },
  {
    path: 'kube.kubeconfig',
    kind: 'string',
    schema: Text,
    flag: '--kubeconfig',
    env: 'KUBECONFIG',
    doc: 'kubeconfig file; default found like kubectl (KUBECONFIG, ~/.kube/config, in-cluster)',
  },
  {
    path: 'kube.context',
    kind: 'string',
    schema: Text,
    flag: '--context',
    env: 'HETU_KUBE_CONTEXT',
    doc: 'context of the kubeconfig; default its current context',
  },
  {
    path: 'kube.cluster',
    kind: 'string',
    schema: Text,
    flag: '--cluster',
    env: 'HETU_CLUSTER',
    doc: "name stamped on the cluster's records; default the context name",
  },
  {
    path: 'prometheus.url',
    kind: 'string',
    schema: HttpUrl,
    flag: '--prometheus',
    env: 'HETU_PROMETHEUS_URL',
    doc: 'Prometheus server root for metric samples; none = no metric samples',
  },
  {
    path: 'logs.shard',
    kind: 'string',
    schema: z.string().regex(/^\d+\/\d+$/, 'give <index>/<count>, e.g. 0/2'),
    flag: '--shard',
    env: 'HETU_LOG_SHARD',
    doc: "collect-logs follows only this shard's pods (index/count, e.g. 0/2); default every pod",
  },
  {
    path: 'api.host',
    kind: 'string',
    schema: Text,
    flag: '--host',
    env: 'HETU_API_HOST',
    default: DEFAULT_API_HOST,
    doc: 'address the API listens on; beyond loopback it needs tokens',
  },
  {
    path: 'api.port',
    kind: 'int',
    schema: z.number().int().min(0).max(65_535, 'a port is 0 to 65535'),
    flag: '--port',
    env: 'HETU_API_PORT',
    default: DEFAULT_API_PORT,
    doc: 'port of the API (GraphQL, /healthz, /readyz, /metrics)',
  },
  {
    path: 'api.introspection',
    kind: 'bool',
    schema: z.boolean(),
    flag: '--introspection',
    env: 'HETU_API_INTROSPECTION',
    default: false,
    doc: 'allow GraphQL introspection',
  },
  {
    path: 'api.readTokens',
    kind: 'secretList',
    schema: z.array(Text),
    env: 'HETU_API_READ_TOKEN',
    secret: true,
    doc: 'read-only bearer tokens, comma-separated (a reference in the file)',
  },
  {
    path: 'api.adminTokens',
    kind: 'secretList',
    schema: z.array(Text),
    env: 'HETU_API_ADMIN_TOKEN',
    secret: true,
    doc: 'admin bearer tokens, comma-separated (a reference in the file)',
  },
  {
    path: 'llm.baseUrl',
    kind: 'string',
    schema: HttpUrl,
    flag: '--llm-base-url',
    env: 'HETU_LLM_BASE_URL',
    doc: 'OpenAI-compatible endpoint, e.g. http://localhost:11434/v1; none = no LLM',
  },
  {
    path: 'llm.model',
    kind: 'string',
    schema: Text.max(200, 'at most 200 characters'),
    flag: '--llm-model',
    env: 'HETU_LLM_MODEL',
    doc: 'model name at that endpoint',
  },
  {
    path: 'llm.apiKey',
    kind: 'secret',
    schema: Text,
    flag: '--llm-api-key',
    env: 'HETU_LLM_API_KEY',
    secret: true,
    doc: 'API key, sent as a bearer token (a reference in the file)',
  },
  {
    path: 'llm.maxTokens',
    kind: 'int',
    schema: z.number().int().min(1).max(4096, 'at most 4096'),
    flag: '--llm-max-tokens',
    env: 'HETU_LLM_MAX_TOKENS',
    default: LLM_DEFAULTS.maxOutputTokens,
    doc: 'output tokens per call',
  },
  {
    path: 'llm.dailyTokens',
    kind: 'int',
    schema: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    flag: '--llm-daily-tokens',
    env: 'HETU_LLM_DAILY_TOKENS',
    default: LLM_DEFAULTS.dailyTokens,
    doc: 'daily budget, input + output tokens per UTC day',
  },
  {
    path: 'llm.pseudonymize',
    kind: 'bool',
    schema: z.boolean(),
    flag: '--llm-pseudonymize',
    env: 'HETU_LLM_PSEUDONYMIZE',
    default: false,
    doc: 'replace names of namespaces, workloads, pods and nodes by tokens in what is sent',
  },
];

export type ConfigPath =
  | 'dataDir'
  | 'output'
  | 'kafka.brokers'
  | 'kafka.registry'
  | 'kube.kubeconfig'
  | 'kube.context'
  | 'kube.cluster'
  | 'prometheus.url'
  | 'logs.shard'
  | 'api.host'
  | 'api.port'
  | 'api.introspection'
  | 'api.readTokens'
  | 'api.adminTokens'
  | 'llm.baseUrl'
  | 'llm.model'
  | 'llm.apiKey'
  | 'llm.maxTokens'
  | 'llm.dailyTokens'
  | 'llm.pseudonymize';

/** Flag values by key (commander gives strings and booleans; undefined = not given). */
export type ConfigFlags = Partial<Record<ConfigPath, string | boolean | undefined>>;

// ----- the file -----

function fileSchemaOf(key: KeyDef): z.ZodType {
  if (key.kind === 'secret' || key.kind === 'secretList') return SecretRef;
  // A list may be written as one comma-separated string too.
  if (key.kind === 'list')
    return z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v), key.schema);
  return key.schema;
}

/** The schema of hetu.yaml, built from CONFIG_KEYS: nested strict objects, every key optional. */
function buildFileSchema(): z.ZodType {
  const tree: Record<string, Record<string, z.ZodType> | z.ZodType> = {};
  for (const k of CONFIG_KEYS) {
    const [head, leaf] = k.path.split('.') as [string, string | undefined];
    if (leaf === undefined) tree[head] = fileSchemaOf(k).optional();
    else ((tree[head] ??= {}) as Record<string, z.ZodType>)[leaf] = fileSchemaOf(k).optional();
  }
  const shape: Record<string, z.ZodType> = {};
  for (const [name, v] of Object.entries(tree))
    shape[name] = v instanceof z.ZodType ? v : z.strictObject(v).optional();
  return z.strictObject(shape);
}

export const HetuFileSchema = buildFileSchema();

/** A loaded hetu.yaml: its path and its values by key (validated). */
export interface ConfigFile {
  readonly path: string;
  readonly values: ReadonlyMap<ConfigPath, unknown>;
  /** Line of each key in the file, for messages. */
  readonly lines: ReadonlyMap<string, number>;
}

function configError(message: string): HetuError {
  return new HetuError('HETU_CONFIG_INVALID', message);
}

function lineOf(
  doc: Document,
  counter: LineCounter,
  path: readonly PropertyKey[],
  unknownKey?: string,
): number | undefined {
  const node = doc.getIn(path as unknown[], true) as unknown;
  if (unknownKey !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === unknownKey);
    const r = isScalar(pair?.key) ? pair.key.range : undefined;
    return r ? counter.linePos(r[0]).line : undefined;
  }
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (range) return counter.linePos(range[0]).line;
  return path.length > 0 ? lineOf(doc, counter, path.slice(0, -1)) : undefined;
}

/**
 * Reads and validates a hetu.yaml. Unknown keys and bad values throw `HETU_CONFIG_INVALID` with
 * one sentence: the file, the key, its line, what is wrong and what to do.
 */
export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw configError(
      `Cannot read the configuration file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check the path given by --config or HETU_CONFIG, or create one with 'hetu config init'.`,
    );
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = counter.linePos(e.pos[0]).line;
    throw configError(
      `${path}${line ? ` line ${line}` : ''} is not valid YAML (${e.message.split('\n')[0]}): fix the syntax.`,
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = HetuFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const unknown = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const keyPath = [...issue.path, ...(unknown !== undefined ? [unknown] : [])].map(String).join('.');
    const line = lineOf(doc, counter, issue.path, unknown);
    const where = `${path}${line !== undefined ? ` line ${line}` : ''}`;
    if (unknown !== undefined) {
      const known = knownKeysUnder(issue.path.map(String));
      throw configError(
        `${where}: unknown key ${keyPath}; remove it or use one of ${known.join(', ')} (docs/configuration.md).`,
      );
    }
    const key = CONFIG_KEYS.find((k) => k.path === keyPath);
    const isSecretKey = key?.kind === 'secret' || key?.kind === 'secretList';
    const what = isSecretKey
      ? 'must be a reference, { env: VARIABLE } or { file: /path/to/secret }, never the secret itself'
      : issue.message;
    throw configError(`${where}: key ${keyPath || '(top level)'} is not valid: ${what}; fix or remove it.`);
  }
  const values = new Map<ConfigPath, unknown>();
  const lines = new Map<string, number>();
  for (const k of CONFIG_KEYS) {
    const segs = k.path.split('.');
    let v: unknown = parsed.data;
    for (const s of segs) v = (v as Record<string, unknown> | undefined)?.[s];
    if (v === undefined) continue;
    values.set(k.path as ConfigPath, v);
    const line = lineOf(doc, counter, segs);
    if (line !== undefined) lines.set(k.path, line);
  }
  return { path, values, lines };
}

function knownKeysUnder(prefix: readonly string[]): string[] {
  const p = prefix.join('.');
  const names = new Set<string>();
  for (const k of CONFIG_KEYS) {
    if (p === '') names.add(k.path.split('.')[0]!);
    else if (k.path.startsWith(`${p}.`)) names.add(k.path.slice(p.length + 1).split('.')[0]!);
  }
  return [...names];
}

/**
 * The configuration file to use: `--config`, else HETU_CONFIG, else ./hetu.yaml when it exists;
 * undefined when none. A file named by the flag or the variable must exist.
 */
export function findConfigFile(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): string | undefined {
  const named = flag ?? (env.HETU_CONFIG?.trim() || undefined);
  if (named !== undefined) {
    const path = resolve(cwd, named);
    if (!existsSync(path))
      throw configError(
        `The configuration file ${named} (${flag !== undefined ? '--config' : 'HETU_CONFIG'}) does not exist: check the path, or create it with 'hetu config init'.`,
      );
    return path;
  }
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? local : undefined;
}

// ----- resolution -----

export interface ConfigEntry {
  readonly path: ConfigPath;
  readonly value: unknown;
  readonly source: ConfigSource;
  /** The flag, variable or `file:line` it came from. */
  readonly origin: string;
  readonly secret: boolean;
}

/** The effective configuration: every key's value and where it came from. */
export interface Settings {
  readonly file: string | undefined;
  readonly entries: ReadonlyMap<ConfigPath, ConfigEntry>;
  get(path: 'kafka.brokers' | 'api.readTokens' | 'api.adminTokens'): string[] | undefined;
  get(path: 'api.port' | 'llm.maxTokens' | 'llm.dailyTokens'): number | undefined;
  get(path: 'api.introspection' | 'llm.pseudonymize'): boolean | undefined;
  get(path: ConfigPath): string | undefined;
}

function optionError(key: KeyDef, origin: string, what: string): HetuError {
  return new HetuError('HETU_CLI_BAD_OPTION', `${origin} is not valid for ${key.path}: ${what}.`);
}

type Converted = { ok: true; value: unknown } | { ok: false; error: string };

/** Converts a flag, variable or answer string to the key's kind and validates it. */
function convert(key: KeyDef, raw: string | boolean): Converted {
  let v: unknown = raw;
  if (typeof raw === 'string') {
    const text = raw.trim();
    switch (key.kind) {
      case 'list':
      case 'secretList':
        v = text
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case 'int':
        if (!/^\d+$/.test(text)) return { ok: false, error: `${text} is not a whole number` };
        v = Number(text);
        break;
      case 'bool':
        if (/^(1|true|yes|on)$/i.test(text)) v = true;
        else if (/^(0|false|no|off|)$/i.test(text)) v = false;
        else return { ok: false, error: `${text} is not a boolean (use 1 or 0, true or false)` };
        break;
      default:
        v = text;
    }
  }
  const parsed = key.schema.safeParse(v);
  if (parsed.success) return { ok: true, value: parsed.data };
  const shown = key.secret ? '(value hidden)' : String(raw);
  return { ok: false, error: `${shown}: ${parsed.error.issues[0]!.message}` };
}

function fromText(key: KeyDef, raw: string | boolean, origin: string): unknown {
  const c = convert(key, raw);
  if (!c.ok) throw optionError(key, origin, c.error);
  return c.value;
}

/** A secret reference's value: the variable's or the file's content (trimmed). */
function readSecret(
  key: KeyDef,
  ref: SecretRef,
  env: NodeJS.ProcessEnv,
  where: string,
  baseDir: string,
): string {
  if ('env' in ref) {
    const v = env[ref.env]?.trim();
    if (!v)
      throw configError(
        `${where}: key ${key.path} refers to the environment variable ${ref.env}, which is not set: set it, or remove the key.`,
      );
    return v;
  }
  try {
    return readFileSync(resolve(baseDir, ref.file), 'utf8').trim();
  } catch (err) {
    throw configError(
      `${where}: key ${key.path} refers to the file ${ref.file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): fix the path or remove the key.`,
    );
  }
}

/** KUBECONFIG as kubectl reads it: the first file of the list that exists. */
function kubeconfigFromEnv(v: string | undefined): string | undefined {
  return (v ?? '').split(':').find((f) => f !== '' && existsSync(f));
}

export interface ResolveInput {
  readonly flags?: ConfigFlags;
  readonly env: NodeJS.ProcessEnv;
  readonly file?: ConfigFile;
}

/**
 * Resolves every key: a flag, else its environment variable, else the file, else the default
 * (docs/configuration.md, "Precedence"). Values are validated where they are read; a bad one
 * throws one sentence naming the flag, variable or file line.
 */
export function resolveSettings(input: ResolveInput): Settings {
  const { env, file } = input;
  const flags = input.flags ?? {};
  const entries = new Map<ConfigPath, ConfigEntry>();
  const baseDir = file ? resolve(file.path, '..') : process.cwd();
  for (const key of CONFIG_KEYS) {
    const path = key.path as ConfigPath;
    const secret = key.secret === true;
    const flag = flags[path];
    let entry: ConfigEntry | undefined;
    if (flag !== undefined && flag !== '') {
      const origin = key.flag ?? path;
      entry = { path, value: fromText(key, flag, origin), source: 'flag', origin, secret };
    }
    if (!entry && key.env !== undefined) {
      const raw = key.env === 'KUBECONFIG' ? kubeconfigFromEnv(env.KUBECONFIG) : env[key.env];
      if (raw !== undefined && raw.trim() !== '')
        entry = { path, value: fromText(key, raw, key.env), source: 'env', origin: key.env, secret };
    }
    if (!entry && file?.values.has(path)) {
      const line = file.lines.get(path);
      const origin = `${file.path}${line !== undefined ? `:${line}` : ''}`;
      let value = file.values.get(path);
      if (key.kind === 'secret' || key.kind === 'secretList') {
        const text = readSecret(
          key,
          value as SecretRef,
          env,
          `${file.path}${line ? ` line ${line}` : ''}`,
          baseDir,
        );
        value = fromText(key, text, origin);
      }
      entry = { path, value, source: 'file', origin, secret };
    }
    if (!entry && key.default !== undefined)
      entry = { path, value: key.default, source: 'default', origin: 'default', secret };
    if (entry) entries.set(path, Object.freeze(entry));
  }
  const get = ((path: ConfigPath) => entries.get(path)?.value) as Settings['get'];
  return Object.freeze({ file: file?.path, entries, get });
}

// ----- the views the commands use -----

/** Global options as commander gives them. */
export interface RawGlobalOptions {
  dataDir?: string;
  kafka?: string;
  registry?: string;
  output?: string;
  config?: string;
}

/** The LLM flags (`--llm-*`); each wins over its `HETU_LLM_*` variable. */
export interface RawLlmOptions {
  llmBaseUrl?: string;
  llmModel?: string;
  llmApiKey?: string;
  llmMaxTokens?: string;
  llmDailyTokens?: string;
  llmPseudonymize?: boolean;
}

/** The flags of commander's global options, by key. */
export function globalFlags(o: RawGlobalOptions & RawLlmOptions): ConfigFlags {
  return {
    dataDir: o.dataDir,
    output: o.output,
    'kafka.brokers': o.kafka,
    'kafka.registry': o.registry,
    'llm.baseUrl': o.llmBaseUrl,
    'llm.model': o.llmModel,
    'llm.apiKey': o.llmApiKey,
    'llm.maxTokens': o.llmMaxTokens,
    'llm.dailyTokens': o.llmDailyTokens,
    // A switch: absent means "not given", not false.
    'llm.pseudonymize': o.llmPseudonymize === true ? true : undefined,
  };
}

/** The global configuration of resolved settings, validated and frozen. */
export function globalConfigOf(s: Settings): GlobalConfig {
  const raw = {
    dataDir: s.get('dataDir'),
    kafka: s.get('kafka.brokers'),
    registry: s.get('kafka.registry'),
    output: s.get('output'),
  };
  const parsed = GlobalConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `Option ${issue.path.join('.') || '(global)'} is not valid: ${issue.message}.`,
    );
  }
  return Object.freeze(parsed.data);
}

/** Parses global flags over environment (over a file when given), validated and frozen. */
export function parseGlobalConfig(
  flags: RawGlobalOptions,
  env: NodeJS.ProcessEnv,
  file?: ConfigFile,
): GlobalConfig {
  return globalConfigOf(resolveSettings({ flags: globalFlags(flags), env, ...(file ? { file } : {}) }));
}

/**
 * The LLM configuration of resolved settings; undefined when no LLM is configured (a normal
 * state). A bad combination throws `HETU_LLM_CONFIG_INVALID` with one sentence; the API key is
 * never echoed.
 */
export function llmConfigOf(s: Settings): LlmConfig | undefined {
  const str = (v: unknown) => (v === undefined ? undefined : String(v));
  return llmConfigFromEnv({
    HETU_LLM_BASE_URL: str(s.get('llm.baseUrl')),
    HETU_LLM_MODEL: str(s.get('llm.model')),
    HETU_LLM_API_KEY: str(s.get('llm.apiKey')),
    HETU_LLM_MAX_TOKENS: str(s.get('llm.maxTokens')),
    HETU_LLM_DAILY_TOKENS: str(s.get('llm.dailyTokens')),
  });
}

/** The LLM configuration from flags over environment (over a file when given). */
export function parseLlmConfig(
  flags: RawLlmOptions,
  env: NodeJS.ProcessEnv,
  file?: ConfigFile,
): LlmConfig | undefined {
  return llmConfigOf(resolveSettings({ flags: globalFlags(flags), env, ...(file ? { file } : {}) }));
}

/** Checks the settings as a whole (combinations), throwing the first problem's sentence. */
export function validateSettings(s: Settings): void {
  globalConfigOf(s);
  llmConfigOf(s);
}

/** A value as `hetu config check` prints it: secrets masked. */
export function shownValue(e: ConfigEntry): string {
  if (e.secret) {
    const n = Array.isArray(e.value) ? e.value.length : 1;
    return Array.isArray(e.value) ? `${n} set (hidden)` : '(set, hidden)';
  }
  return Array.isArray(e.value) ? e.value.join(',') : String(e.value);
}

/**
 * Checks one answer as a flag would be checked (`hetu config init`): the converted value, or what
 * is wrong with it.
 */
export function checkValue(path: ConfigPath, text: string): Converted {
  return convert(CONFIG_KEYS.find((k) => k.path === path)!, text);
}
