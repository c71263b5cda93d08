import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeLlmServer } from '@hetu/producers/llm';
import { parseGlobalConfig } from '../config.ts';
import { compileCacheCheck, dataDirCheck, nodeCheck, runDoctor } from './doctor.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-doctor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const emptyKubeconfig = join(dir, 'kubeconfig-empty');
writeFileSync(emptyKubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');

describe('hetu doctor', () => {
  it('says exactly what to do about an old Node and an unusable data dir', () => {
    expect(nodeCheck('20.19.0')).toEqual({
      check: 'node',
      status: 'fail',
      detail: 'Node 20.19.0 is older than 24',
      fix: 'Run `npm install` in the hetu directory (it installs Node 24 into node_modules) and start hetu with `npm start` or `npx hetu`.',
    });
    expect(nodeCheck('24.21.0').status).toBe('ok');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(dataDirCheck(parseGlobalConfig({ dataDir: file }, {}))).toEqual({
      check: 'data dir',
      status: 'fail',
      detail: `${file} exists and is not a directory`,
      fix: 'Pass --data-dir <a writable directory> or set HETU_DATA_DIR.',
    });
    expect(dataDirCheck(parseGlobalConfig({ dataDir: join(dir, 'new', 'data') }, {}))).toEqual({
      check: 'data dir',
      status: 'ok',
      detail: `${join(dir, 'new', 'data')} (created on first start)`,
    });
  });

  it('says whether this process started through the compile cache, and what to do when not', () => {
    expect(compileCacheCheck('/c', false, {})).toEqual({
      check: 'compile cache',
      status: 'ok',
      detail: '/c: in use, no TypeScript stripped',
    });
    expect(compileCacheCheck('/c', true, {})).toMatchObject({
      status: 'warn',
      fix: 'Run `node cli/bin/warm-cache.js` once after installing or upgrading hetu (the image does it when it is built).',
    });
    expect(compileCacheCheck(undefined, true, {})).toMatchObject({
      status: 'warn',
      detail:
        'not in use: Node strips every TypeScript file at each start (about 25 MiB more RSS per process)',
    });
    expect(compileCacheCheck(undefined, true, { HETU_COMPILE_CACHE: 'off' })).toEqual({
      check: 'compile cache',
      status: 'off',
      detail: 'HETU_COMPILE_CACHE=off',
    });
  });

  it('on one machine with nothing configured: ok, with the demo and without metrics or LLM said plainly', async () => {
    const port = await closedPort();
    const checks = await runDoctor(parseGlobalConfig({ dataDir: join(dir, 'data') }, {}), {
      host: '127.0.0.1',
      port,
      kubeconfig: emptyKubeconfig,
    });
    expect(checks.map((c) => [c.check, c.status])).toEqual([
      ['node', 'ok'],
      // (this test process was not started through cli/bin/hetu.js: see the test of the check)
      ['compile cache', expect.stringMatching(/^(ok|warn)$/)],
      ['data dir', 'ok'],
      ['port', 'ok'],
      ['kafka', 'off'],
      ['kube context', 'warn'],
      ['prometheus', 'warn'],
      ['llm', 'off'],
    ]);
    expect(checks.find((c) => c.check === 'kube context')!.detail).toBe(
      'no Kubernetes context (KUBECONFIG, ~/.kube/config, in-cluster): `hetu start` plays the demo recording',
    );
    expect(checks.some((c) => c.status === 'fail')).toBe(false);
    // No kubeconfig anywhere: not the client library's made-up context for localhost:8080.
    const bare = await runDoctor(parseGlobalConfig({ dataDir: join(dir, 'data') }, {}), {
      host: '127.0.0.1',
      port,
      env: { HOME: join(dir, 'no-home') },
    });
    expect(bare.find((c) => c.check.startsWith('kube'))).toEqual(
      checks.find((c) => c.check === 'kube context'),
    );
    expect(bare.filter((c) => c.check.startsWith('kube')).length).toBe(1);
  });

  it('fails with a fix when the port is taken, Kafka, the registry, Prometheus or the API server do not answer', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const busyPort = (busy.address() as { port: number }).port;
    const [kafka, registry, prom, api] = [
      await closedPort(),
      await closedPort(),
      await closedPort(),
      await closedPort(),
    ];
    const kubeconfig = join(dir, 'kubeconfig-dead');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: dead, cluster: {server: "https://127.0.0.1:${api}", insecure-skip-tls-verify: true}}]`,
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: dead, context: {cluster: dead, user: u}}]',
        'current-context: dead',
      ].join('\n'),
    );
    try {
      const checks = await runDoctor(
        parseGlobalConfig({ kafka: `127.0.0.1:${kafka}`, registry: `http://127.0.0.1:${registry}` }, {}),
        {
          host: '127.0.0.1',
          port: busyPort,
          kubeconfig,
          prometheus: `http://127.0.0.1:${prom}`,
          timeoutMs: 2000,
        },
      );
      const by = Object.fromEntries(checks.map((c) => [c.check, c]));
      expect(checks.map((c) => [c.check, c.status])).toEqual([
        ['node', 'ok'],
        ['compile cache', expect.stringMatching(/^(ok|warn)$/)],
        ['data dir', 'off'],
        ['port', 'fail'],
        ['kafka', 'fail'],
        ['schema registry', 'fail'],
        ['kube context', 'ok'],
        ['kube api', 'fail'],
        ['prometheus', 'fail'],
        ['llm', 'off'],
      ]);
      expect(by['port']!.fix).toBe(
        `Stop what listens on port ${busyPort} (another hetu?) or pass --port <a free port>.`,
      );
      expect(by['kafka']!.fix).toContain('--kafka <host:port,...>');
      expect(by['schema registry']!.fix).toContain('/apis/ccompat/v7');
      expect(by['kube api']!.fix).toBe(
        'Check that the API server of context dead is reachable from here and its credentials are valid (kubectl --context dead version).',
      );
      for (const c of checks) if (c.status === 'fail') expect(c.fix).toMatch(/\.$/);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it('checks the LLM endpoint: the model listed, not listed, or nothing answering', async () => {
    const server = await startFakeLlmServer({ models: ['llama3.1:8b', 'qwen2.5:7b'] });
    try {
      const run = (model: string, baseUrl = server.baseUrl) =>
        runDoctor(parseGlobalConfig({ dataDir: join(dir, 'd2') }, {}), {
          host: '127.0.0.1',
          port: 0,
          kubeconfig: emptyKubeconfig,
          llm: { baseUrl, model } as never,
        }).then((cs) => cs.find((c) => c.check === 'llm')!);
      expect(await run('llama3.1:8b')).toEqual({
        check: 'llm',
        status: 'ok',
        detail: `${server.baseUrl}: model llama3.1:8b is served`,
      });
      expect(await run('gpt-9')).toEqual({
        check: 'llm',
        status: 'warn',
        detail: `${server.baseUrl} answers, but does not list model gpt-9 (2 models listed)`,
        fix: 'Set HETU_LLM_MODEL to one of: llama3.1:8b, qwen2.5:7b.',
      });
      const dead = `http://127.0.0.1:${await closedPort()}/v1`;
      expect((await run('x', dead)).status).toBe('fail');
    } finally {
      await server.close();
    }
  });
});
