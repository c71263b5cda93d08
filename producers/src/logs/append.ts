/**
 * Appends in requests of bounded size. Kafka refuses a produce request whose record batch is over
 * its `message.max.bytes` (1 MiB by default) with "message larger than the max message size", and
 * refuses it again on every retry: the collector's writer appends 500 records at a time, so 500
 * lines at the 16 KiB cap (8 MiB) wedged it for good — every later line of every container waited
 * behind that batch (found by the fault suite's hostile-log test, a burst of long lines).
 *
 * `boundedAppendLog(log, opts)` is `log` with `append` split into requests of at most
 * `maxRequestBytes` (a single larger record still goes alone). The first request failing fails
 * the call with nothing written, as before, and the caller retries the whole batch. Once one
 * request is written, the rest is retried here (back-off 1 s doubling to 30 s) until it is
 * written or `signal` aborts (the caller gave up), so a retry by the caller never writes a record
 * twice.
 */
import {
  MAX_REQUEST_BYTES,
  sizedSlices,
  type AppendRecord,
  type Log,
  type RecordPosition,
} from '@hetu/streams';
import { delay } from '../kube/rate.ts';

/** The largest request: the log's (streams/src/sized-slices.ts), so each run here is one Kafka request. */
export const DEFAULT_MAX_REQUEST_BYTES = MAX_REQUEST_BYTES;

export interface BoundedAppendOptions {
  readonly maxRequestBytes?: number;
  /** Aborted once the caller gives up writing (closing): a failed remainder is then not retried. */
  readonly signal: AbortSignal;
  /** Told the error of a failed remainder while it is retried, and null once it is written. */
  readonly onRetry?: (error: string | null) => void;
}

export function boundedAppendLog(log: Log, opts: BoundedAppendOptions): Log {
  const max = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const msg = (err: unknown): string => (err instanceof Error ? err.message : String(err));
  return {
    kind: log.kind,
    ensureTopics: (specs) => log.ensureTopics(specs),
    describeTopics: (names) => log.describeTopics(names),
    read: (topic, partition, options) => log.read(topic, partition, options),
    committed: (group, topic) => log.committed(group, topic),
    subscribe: (options) => log.subscribe(options),
    deleteTopics: (names) => log.deleteTopics(names),
    deleteGroups: (groups) => log.deleteGroups(groups),
    close: () => log.close(),
    async append(topic: string, records: readonly AppendRecord[]): Promise<RecordPosition[]> {
      const runs = sizedSlices(records, max).map(({ from, to }) => records.slice(from, to));
      if (runs.length <= 1) return log.append(topic, records);
      const positions = await log.append(topic, runs[0]!);
      for (const run of runs.slice(1)) {
        let backoff = 1000;
        let failed = false;
        for (;;) {
          try {
            positions.push(...(await log.append(topic, run)));
            if (failed) opts.onRetry?.(null);
            break;
          } catch (err) {
            if (opts.signal.aborted) throw err;
            failed = true;
            opts.onRetry?.(msg(err));
            await delay(backoff, opts.signal).catch(() => undefined);
            backoff = Math.min(backoff * 2, 30_000);
          }
        }
      }
      return positions;
    },
  };
}
