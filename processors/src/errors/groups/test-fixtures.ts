/** Builders for the error-group tests (not exported from the package). */
import type { ErrorCommand, ErrorOccurrence, SourcePosition } from './types.ts';

export const SEC = 1_000;
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** 2026-11-26T08:00:00.000Z, on a whole minute. */
export const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

export const OCC_TOPIC = 'hetu.errors.occurrences';
export const CMD_TOPIC = 'hetu.commands';

type Overrides = Partial<Omit<ErrorOccurrence, 'source'>> & { source?: Partial<SourcePosition> };

/** Makes occurrences with consecutive offsets per topic-partition (partition 0 unless given). */
export class OccurrenceFactory {
  private readonly next = new Map<string, number>();

  make(o: Overrides = {}): ErrorOccurrence {
    const topic = o.source?.topic ?? OCC_TOPIC;
    const partition = o.source?.partition ?? 0;
    const k = `${topic}/${partition}`;
    let offset = o.source?.offset;
    if (offset === undefined) {
      const n = this.next.get(k) ?? 0;
      offset = String(n);
      this.next.set(k, n + 1);
    }
    const fingerprint = o.fingerprint ?? 'fp-timeout';
    const message = o.message ?? 'upstream timed out after 250ms';
    const base: ErrorOccurrence = {
      ts: o.ts ?? T0,
      cluster: o.cluster ?? 'demo',
      namespace: o.namespace ?? 'shop',
      workload: o.workload ?? 'api',
      pod: o.pod ?? 'api-7d9f-x2',
      container: o.container ?? 'api',
      fingerprint,
      template: o.template ?? 'upstream timed out after <DUR>',
      title: o.title ?? message,
      level: o.level ?? 'error',
      reason: o.reason ?? 'timeout',
      message,
      source: { topic, partition, offset },
    };
    const extra: { -readonly [K in 'exceptionType' | 'stack' | 'url' | 'requestId' | 'traceId']?: string } =
      {};
    for (const f of ['exceptionType', 'stack', 'url', 'requestId', 'traceId'] as const) {
      const v = o[f];
      if (v !== undefined) extra[f] = v;
    }
    return { ...base, ...extra };
  }
}

let commandSeq = 0;

type WithoutId<C> = C extends ErrorCommand ? Omit<C, 'commandId'> & { commandId?: string } : never;

/** A command with a fresh command id. */
export function command<C extends ErrorCommand = ErrorCommand>(c: WithoutId<C>): C {
  commandSeq += 1;
  return { commandId: `cmd-${commandSeq}`, ...c } as unknown as C;
}
