import { createHash } from 'node:crypto';
import { TOPICS } from '@hetu/schemas';
import type { Backend } from './backend.ts';
import { recordOf } from './stages.ts';

export interface TopicDigest {
  /** Keys with a value (compacted topics), or records (delete-policy fact topics). */
  readonly entries: number;
  /** SHA-256 over the sorted lines `key\tcanonical JSON of the decoded value`. */
  readonly sha256: string;
}

/** JSON with sorted object keys; bigints as strings, bytes as base64. */
export function canonicalJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('base64'));
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * What the pipeline derived, independent of where it ran: for every fact topic of the catalogue,
 * the newest decoded value per key (every record, for a delete-policy fact topic such as the score
 * history), hashed in key order. Log positions are part of the values (evidence points at the
 * observations), so two logs agree only if they also numbered the raw records alike.
 */
export async function factDigest(backend: Backend): Promise<Record<string, TopicDigest>> {
  const out: Record<string, TopicDigest> = {};
  for (const [topic, lines] of Object.entries(await factLines(backend)))
    out[topic] = {
      entries: lines.length,
      sha256: createHash('sha256').update(lines.join('\n')).digest('hex'),
    };
  return out;
}

/** The sorted `key\tcanonical JSON` lines `factDigest` hashes, per fact topic (to see what differs). */
export async function factLines(backend: Backend): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const entry of TOPICS) {
    if (entry.stage !== 'facts' || !entry.valueSchema) continue;
    const [info] = await backend.log.describeTopics([entry.name]);
    if (!info) continue;
    const latest = new Map<string, string>();
    const all: string[] = [];
    const name = recordOf(entry.name);
    for (const p of info.partitions) {
      let from = p.low;
      while (from < p.high) {
        const chunk = await backend.log.read(entry.name, p.partition, {
          fromOffset: from,
          maxRecords: 10_000,
        });
        if (chunk.length === 0) break;
        for (const r of chunk) {
          const key = r.key?.toString('utf8') ?? '';
          const value = r.value === null ? null : canonicalJson(await backend.serde.decode(r.value, name));
          if (value === null) latest.delete(key);
          else latest.set(key, value);
          all.push(`${key}\t${value}`);
        }
        from = chunk[chunk.length - 1]!.offset + 1n;
      }
    }
    const lines =
      entry.cleanupPolicy === 'delete' ? all.sort() : [...latest].map(([k, v]) => `${k}\t${v}`).sort();
    out[entry.name] = lines;
  }
  return out;
}
