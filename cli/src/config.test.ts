import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONFIG_KEYS,
  HetuFileSchema,
  findConfigFile,
  globalConfigOf,
  llmConfigOf,
  loadConfigFile,
  parseGlobalConfig,
  resolveSettings,
  shownValue,
  validateSettings,
  type ConfigFile,
} from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function yamlFile(text: string): string {
  const path = join(dir, `hetu-${++n}.yaml`);
  writeFileSync(path, text);
  return path;
}
const load = (text: string): ConfigFile => loadConfigFile(yamlFile(text));

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
  throw new Error('expected an error');
}

describe('precedence: flag > environment > file > default', () => {
  // One key of each class: a string, a list, a whole number, a boolean switch, a secret.
  const file = () =>
    load(
      [
        'dataDir: /from/file',
        'kafka:',
        '  brokers: [file-a:9092, file-b:9092]',
        '  registry: http://file-registry:8081',
        'api:',
        '  port: 5001',
        '  readTokens: { env: READ_TOKENS_REF }',
        'llm:',
        '  baseUrl: http://file-llm/v1',
        '  model: file-model',
        '  pseudonymize: true',
        '  apiKey: { env: KEY_REF }',
      ].join('\n'),
    );
  const env = {
    READ_TOKENS_REF: 'r1, r2',
    KEY_REF: 'key-from-ref',
  };

  it('string keys: the file over the default, the variable over the file, the flag over the variable', () => {
    const f = file();
    expect(resolveSettings({ env: {} }).entries.get('dataDir')).toMatchObject({
      value: '.hetu',
      source: 'default',
    });
    expect(resolveSettings({ env, file: f }).entries.get('dataDir')).toMatchObject({
      value: '/from/file',
      source: 'file',
      origin: `${f.path}:1`,
    });
    expect(
      resolveSettings({ env: { ...env, HETU_DATA_DIR: '/from/env' }, file: f }).entries.get('dataDir'),
    ).toMatchObject({ value: '/from/env', source: 'env', origin: 'HETU_DATA_DIR' });
    expect(
      resolveSettings({
        flags: { dataDir: '/from/flag' },
        env: { ...env, HETU_DATA_DIR: '/from/env' },
        file: f,
      }).entries.get('dataDir'),
    ).toMatchObject({ value: '/from/flag', source: 'flag', origin: '--data-dir' });
  });

  it('list keys: a comma-separated flag or variable, a YAML list in the file', () => {
    const f = file();
    expect(resolveSettings({ env, file: f }).get('kafka.brokers')).toEqual(['file-a:9092', 'file-b:9092']);
    expect(
      resolveSettings({ env: { ...env, HETU_KAFKA_BROKERS: 'env-a:1, env-b:2' }, file: f }).get(
        'kafka.brokers',
      ),
    ).toEqual(['env-a:1', 'env-b:2']);
    expect(
      resolveSettings({
        flags: { 'kafka.brokers': 'flag:3' },
        env: { ...env, HETU_KAFKA_BROKERS: 'env-a:1' },
        file: f,
      }).get('kafka.brokers'),
    ).toEqual(['flag:3']);
    // The registry of the file still applies under a broker flag: keys resolve one by one.
    expect(globalConfigOf(resolveSettings({ flags: { 'kafka.brokers': 'flag:3' }, env, file: f }))).toEqual({
      dataDir: '/from/file',
      kafka: ['flag:3'],
      registry: 'http://file-registry:8081',
      output: 'table',
    });
  });

  it('whole numbers: default 4380, then the file, the variable, the flag; text that is not a number is refused', () => {
    const f = file();
    expect(resolveSettings({ env: {} }).get('api.port')).toBe(4380);
    expect(resolveSettings({ env, file: f }).get('api.port')).toBe(5001);
    expect(resolveSettings({ env: { ...env, HETU_API_PORT: '5002' }, file: f }).get('api.port')).toBe(5002);
    expect(
      resolveSettings({ flags: { 'api.port': '5003' }, env: { ...env, HETU_API_PORT: '5002' }, file: f }).get(
        'api.port',
      ),
    ).toBe(5003);
    expect(message(() => resolveSettings({ env: { HETU_API_PORT: 'eighty' } }))).toBe(
      'HETU_CLI_BAD_OPTION: HETU_API_PORT is not valid for api.port: eighty is not a whole number.',
    );
    expect(message(() => resolveSettings({ flags: { 'api.port': '70000' }, env: {} }))).toBe(
      'HETU_CLI_BAD_OPTION: --port is not valid for api.port: 70000: a port is 0 to 65535.',
    );
  });

  it('booleans: a variable of 0 turns off what the file turned on; an absent switch is not "false"', () => {
    const f = file();
    expect(resolveSettings({ env: {} }).entries.get('llm.pseudonymize')).toMatchObject({
      value: false,
      source: 'default',
    });
    expect(resolveSettings({ env, file: f }).get('llm.pseudonymize')).toBe(true);
    expect(
      resolveSettings({ env: { ...env, HETU_LLM_PSEUDONYMIZE: '0' }, file: f }).entries.get(
        'llm.pseudonymize',
      ),
    ).toMatchObject({ value: false, source: 'env' });
    expect(
      resolveSettings({
        flags: { 'llm.pseudonymize': true },
        env: { HETU_LLM_PSEUDONYMIZE: 'false' },
      }).entries.get('llm.pseudonymize'),
    ).toMatchObject({ value: true, source: 'flag' });
    expect(message(() => resolveSettings({ env: { HETU_LLM_PSEUDONYMIZE: 'maybe' } }))).toBe(
      'HETU_CLI_BAD_OPTION: HETU_LLM_PSEUDONYMIZE is not valid for llm.pseudonymize: maybe is not a boolean (use 1 or 0, true or false).',
    );
  });

  it('secrets: the file names a variable or a file, never the value; the variable and the flag win; shown masked', () => {
    const f = file();
    const s = resolveSettings({ env, file: f });
    expect(s.get('llm.apiKey')).toBe('key-from-ref');
    expect(s.get('api.readTokens')).toEqual(['r1', 'r2']);
    expect(shownValue(s.entries.get('llm.apiKey')!)).toBe('(set, hidden)');
    expect(shownValue(s.entries.get('api.readTokens')!)).toBe('2 set (hidden)');
    expect(resolveSettings({ env: { ...env, HETU_LLM_API_KEY: 'env-key' }, file: f }).get('llm.apiKey')).toBe(
      'env-key',
    );
    expect(
      resolveSettings({
        flags: { 'llm.apiKey': 'flag-key' },
        env: { ...env, HETU_LLM_API_KEY: 'env-key' },
        file: f,
      }).get('llm.apiKey'),
    ).toBe('flag-key');
    const secretFile = join(dir, 'admin-tokens');
    writeFileSync(secretFile, 'a1,a2\n');
    const withFile = load(`api:\n  adminTokens: { file: ${secretFile} }\n`);
    expect(resolveSettings({ env: {}, file: withFile }).get('api.adminTokens')).toEqual(['a1', 'a2']);
    // A reference to a missing variable is one sentence naming file, line, key and variable.
    expect(message(() => resolveSettings({ env: {}, file: f }))).toBe(
      `HETU_CONFIG_INVALID: ${f.path} line 7: key api.readTokens refers to the environment variable READ_TOKENS_REF, which is not set: set it, or remove the key.`,
    );
  });

  it('the LLM configuration of the merged settings: model from the file, URL from the environment', () => {
    const f = load('llm:\n  model: m1\n  dailyTokens: 5000\n');
    expect(llmConfigOf(resolveSettings({ env: { HETU_LLM_BASE_URL: 'http://x:1/v1' }, file: f }))).toEqual({
      baseUrl: 'http://x:1/v1',
      model: 'm1',
      maxOutputTokens: 4096,
      dailyTokens: 5000,
    });
    expect(llmConfigOf(resolveSettings({ env: {} }))).toBeUndefined();
    expect(message(() => validateSettings(resolveSettings({ env: {}, file: f })))).toBe(
      'HETU_LLM_CONFIG_INVALID: HETU_LLM_MODEL is set but HETU_LLM_BASE_URL is not: set both to enable the LLM, or neither.',
    );
  });

  it('parseGlobalConfig keeps its meaning for callers without a file', () => {
    expect(parseGlobalConfig({ dataDir: 'd', output: 'json' }, {})).toEqual({ dataDir: 'd', output: 'json' });
    expect(parseGlobalConfig({}, { HETU_DATA_DIR: 'e' })).toEqual({ dataDir: 'e', output: 'table' });
    expect(message(() => parseGlobalConfig({ kafka: 'k:1' }, {}))).toBe(
      'HETU_CLI_BAD_OPTION: Option registry is not valid: --kafka needs --registry <url> too (the schema registry of that cluster).',
    );
    expect(parseGlobalConfig({}, {}, load('output: json\n'))).toEqual({ dataDir: '.hetu', output: 'json' });
  });
});

describe('hetu.yaml: bad input is one sentence with the file, the key, its line and what to do', () => {
  it('an unknown key, at the top and nested', () => {
    const top = yamlFile('dataDir: x\nkafak:\n  brokers: [a:1]\n');
    expect(message(() => loadConfigFile(top))).toBe(
      `HETU_CONFIG_INVALID: ${top} line 2: unknown key kafak; remove it or use one of dataDir, output, kafka, kube, prometheus, logs, api, llm (docs/configuration.md).`,
    );
    const nested = yamlFile('llm:\n  model: m\n  budget: 10\n');
    expect(message(() => loadConfigFile(nested))).toBe(
      `HETU_CONFIG_INVALID: ${nested} line 3: unknown key llm.budget; remove it or use one of baseUrl, model, apiKey, maxTokens, dailyTokens, pseudonymize (docs/configuration.md).`,
    );
  });

  it('a bad value, a secret written in clear, and broken YAML', () => {
    const port = yamlFile('api:\n  host: 0.0.0.0\n  port: 99999\n');
    expect(message(() => loadConfigFile(port))).toBe(
      `HETU_CONFIG_INVALID: ${port} line 3: key api.port is not valid: a port is 0 to 65535; fix or remove it.`,
    );
    const broker = yamlFile('kafka:\n  brokers: "a:1, nohost"\n');
    expect(message(() => loadConfigFile(broker))).toBe(
      `HETU_CONFIG_INVALID: ${broker} line 2: key kafka.brokers.1 is not valid: a broker is host:port, e.g. localhost:9092; fix or remove it.`,
    );
    const clear = yamlFile('llm:\n  apiKey: sk-live-123\n');
    const m = message(() => loadConfigFile(clear));
    expect(m).toBe(
      `HETU_CONFIG_INVALID: ${clear} line 2: key llm.apiKey is not valid: must be a reference, { env: VARIABLE } or { file: /path/to/secret }, never the secret itself; fix or remove it.`,
    );
    expect(m).not.toContain('sk-live');
    const broken = yamlFile('kafka: [a\n');
    expect(message(() => loadConfigFile(broken))).toMatch(
      new RegExp(`^HETU_CONFIG_INVALID: ${broken} line \\d is not valid YAML \\(.+\\): fix the syntax\\.$`),
    );
    expect(message(() => loadConfigFile(join(dir, 'absent.yaml')))).toBe(
      `HETU_CONFIG_INVALID: Cannot read the configuration file ${join(dir, 'absent.yaml')} (ENOENT): check the path given by --config or HETU_CONFIG, or create one with 'hetu config init'.`,
    );
  });

  it('an empty file is a valid file with nothing in it; every key of the table has a place in the schema', () => {
    expect(load('').values.size).toBe(0);
    const full: Record<string, Record<string, unknown> | unknown> = {};
    for (const k of CONFIG_KEYS) {
      const [a, b] = k.path.split('.') as [string, string | undefined];
      const v =
        k.kind === 'secret' || k.kind === 'secretList'
          ? { env: 'X' }
          : k.kind === 'int'
            ? 1
            : k.kind === 'bool'
              ? true
              : k.kind === 'list'
                ? ['h:1']
                : k.path === 'output'
                  ? 'json'
                  : k.path === 'logs.shard'
                    ? '0/2'
                    : 'http://h:1';
      if (b === undefined) full[a] = v;
      else ((full[a] ??= {}) as Record<string, unknown>)[b] = v;
    }
    expect(HetuFileSchema.safeParse(full).success).toBe(true);
  });
});

describe('finding the file: --config, else HETU_CONFIG, else ./hetu.yaml if present', () => {
  it('takes them in that order, and insists that a named file exists', () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    expect(findConfigFile(undefined, {}, cwd)).toBeUndefined();
    writeFileSync(join(cwd, 'hetu.yaml'), '');
    writeFileSync(join(cwd, 'env.yaml'), '');
    writeFileSync(join(cwd, 'flag.yaml'), '');
    expect(findConfigFile(undefined, {}, cwd)).toBe(join(cwd, 'hetu.yaml'));
    expect(findConfigFile(undefined, { HETU_CONFIG: 'env.yaml' }, cwd)).toBe(join(cwd, 'env.yaml'));
    expect(findConfigFile('flag.yaml', { HETU_CONFIG: 'env.yaml' }, cwd)).toBe(join(cwd, 'flag.yaml'));
    expect(message(() => findConfigFile(undefined, { HETU_CONFIG: 'missing.yaml' }, cwd))).toBe(
      "HETU_CONFIG_INVALID: The configuration file missing.yaml (HETU_CONFIG) does not exist: check the path, or create it with 'hetu config init'.",
    );
  });
});
