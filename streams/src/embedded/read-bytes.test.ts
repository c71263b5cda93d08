import { describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppendRecord } from '../port.ts';
import { EmbeddedLog } from './embedded-log.ts';
import { prng } from '../prng.ts';

/**
 * A read returns key, value and headers of a row from one blob (their concatenation in SQL): every
 * byte, and the difference between NULL and empty, must come back as written.
 */
describe('embedded read', () => {
  it('gives back keys, values and headers byte for byte, NULL and empty apart', async () => {
    const log = new EmbeddedLog({ dataDir: ':memory:' });
    await log.ensureTopics([{ name: 't', partitions: 1, cleanupPolicy: 'delete' }]);
    const random = prng(20261127);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const records: AppendRecord[] = [
      {
        key: all,
        value: Buffer.from(all).reverse(),
        headers: { a: all, 'ü\u0000': Buffer.alloc(0) },
        partition: 0,
      },
      { key: null, value: null, partition: 0 },
      { key: Buffer.alloc(0), value: Buffer.alloc(0), headers: {}, partition: 0 },
      { key: null, value: bytes(3), headers: { h: Buffer.from([0, 0xff, 0xc3]) }, partition: 0 },
      { key: Buffer.from([0xc3, 0x28, 0, 0xed, 0xa0, 0x80]), value: null, partition: 0 },
    ];
    for (let i = 0; i < 200; i++)
      records.push({
        key: random() < 0.2 ? null : bytes(Math.floor(random() * 40)),
        value: random() < 0.2 ? null : bytes(Math.floor(random() * 2000)),
        ...(random() < 0.5
          ? { headers: { x: bytes(Math.floor(random() * 30)), [`n${i % 3}`]: bytes(5) } }
          : {}),
        partition: 0,
        timestamp: i,
      });
    await log.append('t', records);
    const back = await log.read('t', 0);
    expect(back.length).toBe(records.length);
    back.forEach((r, i) => {
      const w = records[i]!;
      expect(r.offset).toBe(BigInt(i));
      expect(r.key === null ? null : Buffer.from(r.key)).toEqual(w.key);
      expect(r.value === null ? null : Buffer.from(r.value)).toEqual(w.value);
      expect(Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v)]))).toEqual(
        w.headers ?? {},
      );
      if (w.timestamp !== undefined) expect(r.timestamp).toBe(w.timestamp);
    });
    await log.close();
  });

  it('reads headers of the older JSON format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hetu-read-bytes-'));
    try {
      const log = new EmbeddedLog({ dataDir: dir });
      await log.ensureTopics([{ name: 't', partitions: 1, cleanupPolicy: 'delete' }]);
      await log.append('t', [{ key: Buffer.from('k'), value: Buffer.from('v'), partition: 0, timestamp: 5 }]);
      await log.close();
      // A row as versions before the binary headers wrote it: JSON with base64 values.
      const db = new DatabaseSync(join(dir, 'log.sqlite'));
      db.prepare('UPDATE records SET headers = ? WHERE topic = ?').run(
        Buffer.from(
          JSON.stringify({ 'hetu-source-topic': Buffer.from('hetu.raw.metrics').toString('base64') }),
        ),
        't',
      );
      db.close();
      const again = new EmbeddedLog({ dataDir: dir });
      const [r] = await again.read('t', 0);
      expect(r!.key?.toString()).toBe('k');
      expect(r!.value?.toString()).toBe('v');
      expect(r!.headers['hetu-source-topic']?.toString()).toBe('hetu.raw.metrics');
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
