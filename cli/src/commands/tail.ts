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
    const from = p.high - BigInt(opts.lines) > p.low ? p.high - BigInt(opts.lines) : p.low;
    recent.push(...(await backend.log.read(topic, p.partition, { fromOffset: from, toOffset: p.high })));
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
