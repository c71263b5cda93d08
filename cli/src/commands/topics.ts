import { TOPICS } from '@hetu/schemas';
import type { Backend } from '../backend.ts';
import { createCatalogueTopics } from '../backend.ts';
import { printRows } from '../output.ts';

/** `hetu topics [--create]`: the catalogue's topics as they are on the log. */
export async function runTopics(
  backend: Backend,
  opts: { create: boolean; output: 'json' | 'table'; out: NodeJS.WritableStream },
): Promise<void> {
  if (opts.create) await createCatalogueTopics(backend.log);
  const infos = new Map((await backend.log.describeTopics()).map((t) => [t.name, t]));
  const names = [...new Set([...TOPICS.map((t) => t.name), ...infos.keys()])].sort();
  const rows = names.map((name) => {
    const entry = TOPICS.find((t) => t.name === name);
    const info = infos.get(name);
    const records = info?.partitions.reduce((a, p) => a + (p.high - p.low), 0n);
    return {
      topic: name,
      exists: info !== undefined,
      partitions: info?.partitions.length ?? entry?.partitions ?? null,
      cleanup: info?.cleanupPolicy ?? entry?.cleanupPolicy ?? null,
      retention: retention(info ? info.retentionMs : entry?.retentionMs),
      records: records ?? null,
      endOffsets: info ? info.partitions.map((p) => p.high.toString()).join(',') : null,
      schema: entry ? (entry.valueSchema ?? `(${entry.pendingSchema ?? 'none'}, pending)`) : null,
      description: entry?.description ?? '',
    };
  });
  printRows(
    opts.out,
    opts.output,
    ['topic', 'exists', 'partitions', 'cleanup', 'retention', 'records', 'schema', 'description'],
    rows,
  );
}

function retention(ms: number | undefined): string {
  if (ms === undefined || ms < 0) return 'forever';
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  return `${ms}ms`;
}
