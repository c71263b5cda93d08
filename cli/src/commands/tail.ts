import type { LogRecord } from '@hetu/streams';
import type { Backend } from '../backend.ts';
import { printRows } from '../output.ts';
import { describeTopic, printable } from './records.ts';
import { activeLog } from '../generations.ts';

/** `hetu tail <topic>`: the last records of a topic, decoded; `--follow` keeps printing new ones. */
export async function runTail(
  opened: Backend,
  topic: string,
  opts: {
    lines: number;
    follow: boolean;
    output: 'json' | 'table';
    out: NodeJS.WritableStream;
    signal?: AbortSignal;
  },
): Promise<number> {
  // A topic name resolves through the active generation (docs/replay.md); `<topic>.g<N>` names one.
  const backend: Backend = { ...opened, log: (await activeLog(opened.log)).log };
  const info = await describeTopic(backend.log, topic);
  const next = new Map<number, bigint>();
  let recent: LogRecord[] = [];
  for (const p of info.partitions) {
    // The last `lines` records, not offsets: a committed batch's marker takes an offset too (as
    // on Kafka), so a derived topic's last offsets may hold no record. Read further back until
    // there are enough or the partition's start.
    let window = BigInt(Math.max(1, opts.lines));
    for (;;) {
      const from = p.high - window > p.low ? p.high - window : p.low;
      const got = await backend.log.read(topic, p.partition, { fromOffset: from, toOffset: p.high });
      if (got.length >= opts.lines || from === p.low) {
        recent.push(...got);
        break;
      }
      window *= 4n;
    }
    next.set(p.partition, p.high);
  }
  recent.sort(
    (a, b) => a.timestamp - b.timestamp || a.partition - b.partition || Number(a.offset - b.offset),
  );
  recent = recent.slice(-opts.lines);
  let printed = 0;
  const print = async (records: LogRecord[]) => {
    if (records.length === 0) return;
    const rows = await Promise.all(records.map((r) => printable(backend.serde, r)));
    printRows(
      opts.out,
      opts.output,
      ['timestamp', 'partition', 'offset', 'key', 'value'],
      rows as unknown as Record<string, unknown>[],
    );
    printed += rows.length;
  };
  await print(recent);
  while (opts.follow && !opts.signal?.aborted) {
    await new Promise((r) => setTimeout(r, 1000));
    const fresh: LogRecord[] = [];
    for (const p of (await describeTopic(backend.log, topic)).partitions) {
      const from = next.get(p.partition) ?? p.low;
      if (p.high > from) {
        fresh.push(...(await backend.log.read(topic, p.partition, { fromOffset: from, toOffset: p.high })));
        next.set(p.partition, p.high);
      }
    }
    fresh.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition);
    await print(fresh);
  }
  return printed;
}
