import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hetu-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hetu(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [MAIN, ...args],
      { timeout: 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

const watch = (name: string, rv: number) => ({
  key: `shop/Pod/${name}`,
  timestamp: '2026-11-26T08:00:00.000Z',
  value: {
    ts: 1_795_680_000_000 + rv,
    cluster: 'demo',
    type: 'MODIFIED',
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: 'shop',
    name,
    uid: `uid-${name}`,
    resourceVersion: String(rv),
    detail: null,
    object: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop' } }),
  },
});

for (const mode of ['embedded', 'kafka'] as const) {
  describe(`hetu CLI on the ${mode} log`, () => {
    const global = () =>
      mode === 'embedded'
        ? ['--data-dir', join(dir, 'data')]
        : ['--kafka', inject('kafkaBrokers').join(','), '--registry', inject('schemaRegistryUrl')];

    it('creates the catalogue topics and lists them', async () => {
      const r = await hetu([...global(), '-o', 'json', 'topics', '--create']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const rows = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { topic: string; exists: boolean; cleanup: string; partitions: number });
      const kube = rows.find((x) => x.topic === 'hetu.raw.kube')!;
      expect(kube).toMatchObject({ exists: true, cleanup: 'delete', partitions: 3 });
      expect(rows.find((x) => x.topic === 'hetu.facts.error-groups')).toMatchObject({
        exists: true,
        cleanup: 'compact',
      });
    });

    it('loads records through the schema registry, tails them decoded, and dumps them back', async () => {
      const lines = [
        watch(`api-${randomUUID().slice(0, 6)}`, 1),
        watch(`web-${randomUUID().slice(0, 6)}`, 2),
      ];
      const load = await hetu(
        [...global(), 'load', 'hetu.raw.kube'],
        lines.map((l) => JSON.stringify(l)).join('\n'),
      );
      expect(load.code).toBe(0);
      expect(load.stderr).toContain('loaded 2 records into hetu.raw.kube');

      const tail = await hetu([...global(), '-o', 'json', 'tail', 'hetu.raw.kube', '-n', '100']);
      expect(tail.code).toBe(0);
      const got = tail.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { key: string; value: unknown; schema: { id: number; record: string } });
      for (const l of lines) {
        const rec = got.find((g) => g.key === l.key)!;
        expect(rec.value).toEqual(l.value);
        expect(rec.schema.record).toBe('dev.hetu.WatchObserved');
        expect(rec.schema.id).toBeGreaterThan(0);
      }

      const file = join(dir, `dump-${mode}.jsonl`);
      const dump = await hetu([...global(), 'dump', 'hetu.raw.kube', '--out', file]);
      expect(dump.code).toBe(0);
      const dumped = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { key: string; value: unknown; timestamp: string });
      expect(
        dumped.filter((d) => lines.some((l) => l.key === d.key)).map((d) => [d.key, d.value, d.timestamp]),
      ).toEqual(expect.arrayContaining(lines.map((l) => [l.key, l.value, l.timestamp])));
    });

    it('refuses a line that does not fit the topic schema with its line number, keeping earlier lines', async () => {
      const good = JSON.stringify(watch(`ok-${randomUUID().slice(0, 6)}`, 3));
      const bad = JSON.stringify({ key: 'x', value: { cluster: 'demo' } });
      const r = await hetu([...global(), 'load', 'hetu.raw.kube'], `${good}\n${bad}\n`);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^hetu: Line 2 does not fit topic hetu\.raw\.kube's schema/);
      const tail = await hetu([...global(), '-o', 'json', 'tail', 'hetu.raw.kube', '-n', '200']);
      expect(tail.stdout).toContain(JSON.parse(good).key);
    });

    it('names an unknown topic in one sentence with exit code 2', async () => {
      const r = await hetu([...global(), 'tail', 'hetu.no-such-topic']);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(
        "hetu: Topic hetu.no-such-topic does not exist: list the topics with 'hetu topics' (or create the catalogue's with 'hetu topics --create').",
      );
    });
  });
}

describe('hetu CLI with unreachable services', () => {
  it('says which broker it cannot reach and how to fix it, with exit code 2', async () => {
    const r = await hetu([
      '--kafka',
      '127.0.0.1:1',
      '--registry',
      'http://127.0.0.1:2/apis/ccompat/v7',
      'topics',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^hetu: Cannot reach the Kafka broker at 127\.0\.0\.1:1 .*check that it runs and that --kafka names its address\.\n$/,
    );
  });

  it('says which registry it cannot reach, with exit code 2', async () => {
    const r = await hetu([
      '--kafka',
      inject('kafkaBrokers').join(','),
      '--registry',
      'http://127.0.0.1:2/apis/ccompat/v7',
      'topics',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^hetu: Cannot reach the schema registry at http:\/\/127\.0\.0\.1:2\/apis\/ccompat\/v7 .*--registry names/,
    );
  });

  it('refuses --kafka without --registry', async () => {
    const r = await hetu(['--kafka', '127.0.0.1:9092', 'topics']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--kafka needs --registry <url> too');
  });
});

describe('hetu replay from the command line, embedded', () => {
  it('replays every stage on two threads by default (a line per set of stages running), on one with --threads 1', async () => {
    const data = join(dir, 'replay-data');
    const analyzed = await hetu(['analyze', 'demo/demo.jsonl.gz', '--keep', data, '--json']);
    expect(analyzed.code).toBe(0);
    const two = await hetu(['--data-dir', data, '-o', 'json', 'replay', '--from', 'earliest']);
    expect(two.code).toBe(0);
    const report = JSON.parse(two.stdout) as { generation: number; verified: boolean; observations: number };
    expect(report).toMatchObject({ generation: 2, verified: true, observations: 21_779 });
    // Not a terminal: a line per change of the stages running; errors and anomalies run together.
    expect(two.stderr).toMatch(/^replay anomalies \+ errors: \d+ records\/s$/m);
    expect(two.stderr).toContain('verifying…');
    const one = await hetu([
      '--data-dir',
      data,
      '-o',
      'json',
      'replay',
      '--from',
      'earliest',
      '--threads',
      '1',
    ]);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ generation: 3, verified: true, observations: 21_779 });
    expect(one.stderr).not.toContain(' + ');
    const bad = await hetu(['--data-dir', data, 'replay', '--from', 'earliest', '--threads', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('hetu: --threads must be 1 or 2, not 3.\n');
  }, 300_000);
});
