import { createInterface } from 'node:readline';
import { HetuError, type AppendRecord } from '@hetu/streams';
import type { Backend } from '../backend.ts';
import { toJson } from '../output.ts';
import { describeTopic, encodeValue, printable, type PrintedRecord } from './records.ts';

/** `hetu dump <topic>`: every retained record as JSON Lines, partition by partition. */
export async function runDump(
  backend: Backend,
  topic: string,
  opts: { out: NodeJS.WritableStream; progress?: (done: bigint, total: bigint) => void },
): Promise<number> {
  const info = await describeTopic(backend.log, topic);
  const total = info.partitions.reduce((a, p) => a + (p.high - p.low), 0n);
  let done = 0n;
  let count = 0;
  for (const p of info.partitions) {
    let from = p.low;
    while (from < p.high) {
      const chunk = await backend.log.read(topic, p.partition, {
        fromOffset: from,
        toOffset: p.high,
        maxRecords: 5000,
      });
      if (chunk.length === 0) break;
      for (const r of chunk) {
        const line = `${toJson(await printable(backend.serde, r))}\n`;
        if (!opts.out.write(line)) await new Promise((res) => opts.out.once('drain', res));
        count++;
      }
      from = chunk[chunk.length - 1]!.offset + 1n;
      done += BigInt(chunk.length);
      opts.progress?.(done, total);
    }
  }
  return count;
}

/**
 * `hetu load <topic>`: appends JSON Lines as `dump` writes them (key, value, timestamp, headers;
 * partition and offset are taken as hints only: records go where their key leads). A line that
 * cannot be read stops the load with its line number; lines before it are already appended.
 */
export async function runLoad(
  backend: Backend,
  topic: string,
  opts: { in: NodeJS.ReadableStream; progress?: (lines: number) => void },
): Promise<number> {
  await describeTopic(backend.log, topic);
  const rl = createInterface({ input: opts.in, crlfDelay: Infinity });
  let lineNo = 0;
  let batch: AppendRecord[] = [];
  let loaded = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await backend.log.append(topic, batch);
    loaded += batch.length;
    batch = [];
    opts.progress?.(loaded);
  };
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    let rec: Partial<PrintedRecord>;
    try {
      rec = JSON.parse(line) as Partial<PrintedRecord>;
    } catch (err) {
      await flush();
      throw new HetuError(
        'HETU_CLI_BAD_INPUT',
        `Line ${lineNo} is not JSON (${(err as Error).message}): fix or remove it and load the rest from there.`,
      );
    }
    let value: Buffer | null;
    try {
      value = await encodeValue(backend.serde, topic, rec.value ?? null);
    } catch (err) {
      if ((err as { transient?: boolean }).transient) throw err;
      await flush();
      throw new HetuError(
        'HETU_CLI_BAD_INPUT',
        `Line ${lineNo} does not fit topic ${topic}'s schema: ${(err as Error).message}`,
      );
    }
    // The record's timestamp is its event time: the dumped timestamp, else the value's `ts`.
    const valueTs = (rec.value as { ts?: unknown } | null)?.ts;
    const ts = rec.timestamp ? Date.parse(rec.timestamp) : typeof valueTs === 'number' ? valueTs : undefined;
    batch.push({
      key: rec.key === null || rec.key === undefined ? null : Buffer.from(rec.key),
      value,
      ...(ts !== undefined && Number.isFinite(ts) ? { timestamp: ts } : {}),
      ...(rec.headers
        ? { headers: Object.fromEntries(Object.entries(rec.headers).map(([k, v]) => [k, Buffer.from(v)])) }
        : {}),
    });
    if (batch.length >= 1000) await flush();
  }
  await flush();
  return loaded;
}
