import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedLog } from './embedded-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-write-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MODULE = new URL('./embedded-log.ts', import.meta.url).href;

/** A worker thread with its own connection: appends `batches` × 10 records, then exits. */
function appender(dataDir: string, lock: SharedArrayBuffer, batches: number): Promise<void> {
  const code = `
    const { workerData } = await import('node:worker_threads');
    const { EmbeddedLog } = await import(${JSON.stringify(MODULE)});
    const log = new EmbeddedLog({ dataDir: workerData.dataDir, writeLock: workerData.lock });
    for (let b = 0; b < workerData.batches; b++)
      await log.append('t', Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from('w' + b + '-' + i), value: Buffer.from('x'), partition: 0 })));
    await log.close();
  `;
  const w = new Worker(code, { eval: true, workerData: { dataDir, lock, batches } });
  return new Promise((resolve, reject) => {
    w.on('error', reject);
    w.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`worker exited ${c}`))));
  });
}

describe('the embedded log: a write lock shared by the connections of one process', () => {
  it('waits for the lock, and goes on the moment its holder lets go', async () => {
    const lock = new SharedArrayBuffer(4);
    const log = new EmbeddedLog({ dataDir: join(dir, 'a'), writeLock: lock });
    await log.ensureTopics([{ name: 't', partitions: 1, cleanupPolicy: 'delete' }]);
    const flag = new Int32Array(lock);
    Atomics.store(flag, 0, 1); // another connection holds it
    const releaser = new Worker(
      `const { workerData } = require('node:worker_threads');
       const f = new Int32Array(workerData);
       setTimeout(() => { Atomics.store(f, 0, 0); Atomics.notify(f, 0, 1); }, 300);`,
      { eval: true, workerData: lock },
    );
    const t = performance.now();
    await log.append('t', [{ key: Buffer.from('k'), value: Buffer.from('v'), partition: 0 }]);
    const waited = performance.now() - t;
    await new Promise((r) => releaser.once('exit', r));
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(Atomics.load(flag, 0)).toBe(0); // released after the commit
    expect((await log.read('t', 0)).map((r) => r.key!.toString())).toEqual(['k']);
    await log.close();
  });

  it('keeps every record of two threads appending to one partition at once, each offset once', async () => {
    const lock = new SharedArrayBuffer(4);
    const dataDir = join(dir, 'b');
    const log = new EmbeddedLog({ dataDir, writeLock: lock });
    await log.ensureTopics([{ name: 't', partitions: 1, cleanupPolicy: 'delete' }]);
    const other = appender(dataDir, lock, 50);
    for (let b = 0; b < 50; b++) {
      await log.append(
        't',
        Array.from({ length: 10 }, (_, i) => ({
          key: Buffer.from(`m${b}-${i}`),
          value: Buffer.from('x'),
          partition: 0,
        })),
      );
      await new Promise((r) => setImmediate(r));
    }
    await other;
    const records = await log.read('t', 0);
    expect(records.length).toBe(1000);
    expect(new Set(records.map((r) => r.offset)).size).toBe(1000);
    expect(new Set(records.map((r) => r.key!.toString())).size).toBe(1000);
    await log.close();
  });
});
