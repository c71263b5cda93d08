import http from 'node:http';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EmbeddedLog, errorCode } from '@hetu/streams';
import { parseGlobalConfig } from './config.ts';
import { listRoles, printRoles, resolveRoles, runRoles, serveStageMetrics } from './commands/run.ts';
import { pipelineStages } from './stages.ts';
import type { Backend } from './backend.ts';

function sink(): { out: Writable; text: () => string } {
  let text = '';
  return {
    out: new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

describe('hetu run: the roles', () => {
  it('are every stage of the pipeline (in its order), then the collectors, the API and the LLM worker', async () => {
    const stages = pipelineStages({} as Backend).map(([name]) => name);
    expect((await listRoles()).map((r) => r.name)).toEqual([
      ...stages,
      'llm-requests',
      'collect-kube',
      'collect-logs',
      'collect-metrics',
      'api',
      'llm-worker',
    ]);
    const feed = (await listRoles()).find((r) => r.name === 'feed')!;
    expect(feed.scaling).toBe('one active instance (a single task); more stand by and take over');
    expect((await listRoles()).find((r) => r.name === 'errors')!.scaling).toBe(
      'up to 3 instances share its 3 partitions',
    );
  });

  it('expands `stages` to every stage and keeps the order given, without repeats', async () => {
    const stages = (await listRoles()).filter((r) => r.kind === 'stage');
    expect((await resolveRoles(['api', 'stages', 'errors'])).map((r) => r.name)).toEqual([
      'api',
      ...stages.map((r) => r.name),
    ]);
  });

  it('lists the roles and the stages group as JSON Lines', async () => {
    const s = sink();
    await printRoles(s.out, 'json');
    const rows = s
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; kind: string });
    expect(rows.map((r) => r.name)).toEqual([...(await listRoles()).map((r) => r.name), 'stages']);
    expect(rows.at(-1)!.kind).toBe('group');
  });

  it('names an unknown role with the way to list them', async () => {
    await expect(resolveRoles(['errros'])).rejects.toThrow(
      /^There is no role errros: run 'hetu run --list' to see the roles \(kube, errors, /,
    );
  });

  it('refuses the embedded log with one sentence pointing at hetu start', async () => {
    const cfg = parseGlobalConfig({ dataDir: '/nonexistent' }, {});
    const err = await runRoles(cfg, ['errors'], { out: sink().out }).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('HETU_CLI_BAD_OPTION');
    expect((err as Error).message).toBe(
      "hetu run errors needs Kafka (--kafka <brokers> --registry <url>, or HETU_KAFKA_BROKERS and HETU_SCHEMA_REGISTRY_URL): the embedded log belongs to one process, so to run every role on one machine use 'hetu start'.",
    );
  });

  it('refuses llm-worker without an LLM and collect-metrics without Prometheus, before connecting', async () => {
    const cfg = parseGlobalConfig({ kafka: '127.0.0.1:1', registry: 'http://127.0.0.1:1' }, {});
    await expect(runRoles(cfg, ['llm-worker'], { out: sink().out })).rejects.toThrow(
      'hetu run llm-worker needs an LLM: set --llm-base-url and --llm-model (or HETU_LLM_BASE_URL and HETU_LLM_MODEL).',
    );
    await expect(runRoles(cfg, ['collect-metrics'], { out: sink().out })).rejects.toThrow(
      'hetu run collect-metrics needs Prometheus: pass --prometheus <url> (or set HETU_PROMETHEUS_URL).',
    );
    await expect(runRoles(cfg, ['errors'], { out: sink().out, batchRecords: 0 })).rejects.toThrow(
      '--batch-records must be a whole number of at least 1, not 0.',
    );
    await expect(runRoles(cfg, ['errors'], { out: sink().out, metricsPort: 70_000 })).rejects.toThrow(
      '--metrics-port must be a port number (0 to 65535), not 70000.',
    );
    await expect(runRoles(cfg, ['api'], { out: sink().out, metricsPort: 9464 })).rejects.toThrow(
      '--metrics-port serves the metrics of stages, and api has none: leave it out (the api role serves /metrics on its own port).',
    );
    await expect(runRoles(cfg, ['collect-kube'], { out: sink().out, logShard: '0/2' })).rejects.toThrow(
      '--shard (HETU_LOG_SHARD) splits the pods between collect-logs processes, and collect-kube does not run collect-logs: leave it out.',
    );
    await expect(runRoles(cfg, ['collect-logs'], { out: sink().out, logShard: '2/2' })).rejects.toThrow(
      "--shard (HETU_LOG_SHARD) is '2/2': give <index>/<count> with 0 ≤ index < count ≤ 1024, e.g. 0/2 and 1/2 for two collectors sharing the pods.",
    );
  });

  it("serves a process's stage metrics, and says so when the port is taken", async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    const server = await serveStageMetrics(
      log,
      [],
      () => new Map([['kube', 1_764_144_000_000]]),
      '127.0.0.1',
      0,
    );
    const agent = new http.Agent({ keepAlive: true });
    const get = (url: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get(url, { agent }, (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    const metrics = await get(server.url);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('hetu_stage_frontier_seconds{stage="kube"} 1764144000');
    expect(metrics.body).toContain('hetu_run_process_resident_memory_bytes');
    expect((await get(server.url.replace('/metrics', '/healthz'))).body).toBe('ok\n');
    expect((await get(server.url.replace('/metrics', '/nope'))).status).toBe(404);

    const port = Number(new URL(server.url).port);
    const err = await serveStageMetrics(log, [], () => new Map(), '127.0.0.1', port).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('HETU_CLI_BAD_OPTION');
    expect((err as Error).message).toBe(
      `--metrics-port ${port} on 127.0.0.1 is in use: choose another port (0: any free one).`,
    );
    // With the scraper's kept-alive connection still open.
    await server.close();
    agent.destroy();
    await log.close();
  });
});
