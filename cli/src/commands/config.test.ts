import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runConfigCheck, runConfigInit, type CheckResult } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-config-cmd-'));

// A real HTTP server standing in for the registry and the LLM endpoint's reachability probes: it
// answers every GET and records the paths asked.
let http: Server;
let httpUrl = '';
const asked: string[] = [];
beforeAll(async () => {
  http = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => http.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: one
    cluster: { server: 'https://127.0.0.1:6443' }
  - name: two
    cluster: { server: 'https://127.0.0.1:7443' }
users:
  - name: u
    user: { token: t }
contexts:
  - name: prod
    context: { cluster: one, user: u }
  - name: staging
    context: { cluster: two, user: u }
current-context: prod
`;

/** A pseudo terminal: what the prompts print, and keys typed once a question shows. */
function terminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  let seen = 0;
  output.on('data', (d: Buffer) => {
    screen += d.toString('utf8');
  });
  const waitFor = async (text: string): Promise<void> => {
    // An observable condition, polled for up to 10 s (a failure names what never showed).
    for (let i = 0; i < 2000; i++) {
      const at = screen.indexOf(text, seen);
      if (at >= 0) {
        seen = at + text.length;
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`the prompt never showed "${text}"; the screen was:\n${screen}`);
  };
  return {
    input,
    output,
    screen: () => screen,
    /** Waits for `question`, then types `keys`. */
    async answer(question: string, keys: string): Promise<void> {
      await waitFor(question);
      input.write(keys);
    },
    waitFor,
  };
}

const ENTER = '\r';
const DOWN = '\u001b[B';
const BACKSPACE = '\u007f';

describe('hetu config init', () => {
  it('asks through the real prompts, re-asks a bad answer, probes what it can reach, and writes hetu.yaml', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, KUBECONFIG);
    const path = join(dir, 'interactive.yaml');
    const t = terminal();
    const brokerPort = (http.address() as AddressInfo).port; // anything that accepts TCP
    const done = runConfigInit({
      path,
      force: false,
      interactive: true,
      answers: {},
      env: { KUBECONFIG: kubeconfig, MY_LLM_KEY: 'k' },
      probe: true,
      input: t.input,
      output: t.output,
    });
    await t.answer('Kubernetes context to watch', DOWN + ENTER); // prod (current) → staging
    await t.answer('Where does hetu keep its log?', DOWN + ENTER); // → Kafka
    await t.answer('Kafka brokers', `nohost${ENTER}`);
    await t.waitFor('a broker is host:port');
    await t.answer('Kafka brokers', `${BACKSPACE.repeat(6)}127.0.0.1:${brokerPort}${ENTER}`);
    await t.answer('Schema registry URL', `${httpUrl}${ENTER}`);
    await t.answer('Prometheus URL', ENTER); // none
    await t.answer('second opinion', `y${ENTER}`);
    await t.answer('LLM endpoint', `${httpUrl}/v1${ENTER}`);
    await t.answer('Model name', `qwen2.5:7b${ENTER}`);
    await t.answer('API key', `MY_LLM_KEY${ENTER}`);
    await t.answer('Daily budget', `${BACKSPACE.repeat(10)}250000${ENTER}`);
    const result = await done;

    expect(parse(readFileSync(path, 'utf8'))).toEqual({
      kube: { context: 'staging' },
      kafka: { brokers: [`127.0.0.1:${brokerPort}`], registry: httpUrl },
      llm: {
        baseUrl: `${httpUrl}/v1`,
        model: 'qwen2.5:7b',
        apiKey: { env: 'MY_LLM_KEY' },
        dailyTokens: 250000,
      },
    });
    expect(result.probes.map((p) => [p.target, p.ok])).toEqual([
      [`Kafka broker 127.0.0.1:${brokerPort}`, true],
      [`schema registry ${httpUrl}`, true],
      [`LLM endpoint ${httpUrl}/v1`, true],
    ]);
    expect(asked).toEqual(expect.arrayContaining(['/subjects', '/v1/models']));
    // The file it wrote is valid, with each value traced to it.
    const out = new PassThrough();
    const check = runConfigCheck({
      file: path,
      flags: {},
      env: { MY_LLM_KEY: 'k' },
      cwd: dir,
      output: 'json',
      out,
    });
    expect(check.valid).toBe(true);
    expect(check.settings.find((s) => s.key === 'llm.dailyTokens')).toMatchObject({
      value: '250000',
      source: 'file',
    });
  });

  it('reports, but does not insist on, what does not answer; refuses to overwrite without --force', async () => {
    const path = join(dir, 'unreachable.yaml');
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const result = await runConfigInit({
      path,
      force: false,
      interactive: false,
      answers: { kafkaBrokers: '127.0.0.1:1', registry: 'http://127.0.0.1:1', llmDailyTokens: '7' },
      env: { KUBECONFIG: '/nonexistent', HOME: dir },
      probe: true,
      probeTimeoutMs: 1000,
      output: out,
    });
    expect(result.probes.map((p) => p.ok)).toEqual([false, false]);
    expect(text).toContain(
      'warning: Kafka broker 127.0.0.1:1 does not answer (ECONNREFUSED); written anyway',
    );
    expect(parse(readFileSync(path, 'utf8'))).toEqual({
      kafka: { brokers: ['127.0.0.1:1'], registry: 'http://127.0.0.1:1' },
    });
    await expect(
      runConfigInit({
        path,
        force: false,
        interactive: false,
        answers: {},
        env: {},
        probe: false,
        output: out,
      }),
    ).rejects.toThrow(
      `${path} exists already: pass --force to overwrite it, or --file <path> to write another file.`,
    );
    await runConfigInit({
      path,
      force: true,
      interactive: false,
      answers: {},
      env: {},
      probe: false,
      output: out,
    });
    expect(parse(readFileSync(path, 'utf8'))).toEqual({}); // every default
  });

  it('--yes takes the answers from flags and checks them like the prompts do', async () => {
    const out = new PassThrough();
    const path = join(dir, 'yes.yaml');
    await expect(
      runConfigInit({
        path,
        force: false,
        interactive: false,
        answers: { kafkaBrokers: 'localhost:9092' },
        env: {},
        probe: false,
        output: out,
      }),
    ).rejects.toThrow(
      '--kafka and --registry go together: give both (Kafka and its schema registry), or neither for the embedded log.',
    );
    await expect(
      runConfigInit({
        path,
        force: false,
        interactive: false,
        answers: { llmBaseUrl: 'ftp://x' },
        env: {},
        probe: false,
        output: out,
      }),
    ).rejects.toThrow(
      '--llm-base-url is not valid: ftp://x: it must be an http(s) URL such as http://localhost:8080.',
    );
    await runConfigInit({
      path,
      force: false,
      interactive: false,
      answers: {
        dataDir: '/var/lib/hetu',
        prometheus: 'http://prom:9090',
        llmBaseUrl: 'http://llm:11434/v1',
        llmModel: 'm',
        cluster: 'shop',
      },
      env: {},
      probe: false,
      output: out,
    });
    expect(parse(readFileSync(path, 'utf8'))).toEqual({
      dataDir: '/var/lib/hetu',
      kube: { cluster: 'shop' },
      prometheus: { url: 'http://prom:9090' },
      llm: { baseUrl: 'http://llm:11434/v1', model: 'm', dailyTokens: 1_000_000 },
    });
  });
});

describe('hetu config check', () => {
  const run = (file: string | undefined, env: NodeJS.ProcessEnv, output: 'json' | 'table', flags = {}) => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const result = runConfigCheck({
      ...(file !== undefined ? { file } : {}),
      flags,
      env,
      cwd: dir,
      output,
      out,
    });
    return { result, text: () => text };
  };

  it('prints every effective value with its source, secrets masked (json and table)', () => {
    const path = join(dir, 'check.yaml');
    writeFileSync(path, 'dataDir: /from/file\napi:\n  port: 5000\n  adminTokens: { env: ADMIN }\n');
    const { result, text } = run(path, { ADMIN: 'super-secret', HETU_API_PORT: '6000' }, 'json', {
      dataDir: '/from/flag',
    });
    expect(JSON.parse(text()) as CheckResult).toEqual(result);
    expect(result).toEqual({
      valid: true,
      file: path,
      settings: [
        { key: 'dataDir', value: '/from/flag', source: 'flag', origin: '--data-dir' },
        { key: 'output', value: 'table', source: 'default', origin: 'default' },
        { key: 'api.host', value: '127.0.0.1', source: 'default', origin: 'default' },
        { key: 'api.port', value: '6000', source: 'env', origin: 'HETU_API_PORT' },
        { key: 'api.introspection', value: 'false', source: 'default', origin: 'default' },
        { key: 'api.adminTokens', value: '1 set (hidden)', source: 'file', origin: `${path}:4` },
        { key: 'llm.maxTokens', value: '4096', source: 'default', origin: 'default' },
        { key: 'llm.dailyTokens', value: '1000000', source: 'default', origin: 'default' },
        { key: 'llm.pseudonymize', value: 'false', source: 'default', origin: 'default' },
      ],
    });
    expect(text()).not.toContain('super-secret');
    const table = run(path, { ADMIN: 'super-secret' }, 'table');
    expect(table.text()).toContain(
      `${path} is valid; effective configuration (flag > env > file > default):`,
    );
    expect(table.text()).toMatch(/│ api\.port\s+│ 5000\s+│ file\s+│ .*check\.yaml:3\s+│/);
    expect(table.text()).not.toContain('super-secret');
  });

  it('an invalid file: valid false, one sentence, nothing else', () => {
    const path = join(dir, 'invalid.yaml');
    writeFileSync(path, 'kube:\n  context: prod\n  namespace: shop\n');
    const json = run(path, {}, 'json');
    expect(json.result).toEqual({
      valid: false,
      file: path,
      error: {
        code: 'HETU_CONFIG_INVALID',
        message: `${path} line 3: unknown key kube.namespace; remove it or use one of kubeconfig, context, cluster (docs/configuration.md).`,
      },
      settings: [],
    });
    const table = run(path, {}, 'table');
    expect(table.text()).toBe(`invalid: ${json.result.error!.message}\n`);
    // A combination the keys allow one by one but not together.
    const half = join(dir, 'half.yaml');
    writeFileSync(half, 'kafka:\n  brokers: [k:9092]\n');
    expect(run(half, {}, 'json').result.error).toEqual({
      code: 'HETU_CLI_BAD_OPTION',
      message:
        'Option registry is not valid: --kafka needs --registry <url> too (the schema registry of that cluster).',
    });
  });
});
