import { HetuError } from '../errors.ts';
import type { ProcessorDefinition } from '../runtime/processor.ts';

export interface SumState {
  count: number;
  sum: number;
  /** Event time of the last record folded into this key. */
  lastTs: number;
}

/**
 * A small real processor for the contract suite and the crash test: per key, count and sum of
 * integer values (ASCII decimal); a value that is not an integer is bad input (dead-lettered).
 * Each folded record is echoed to `outputTopic` as `key:sum`.
 */
export function sumProcessor(opts: {
  name: string;
  input: string;
  changelog: string;
  outputTopic?: string;
  /** Throws a programmer error on this value, to test the crash policy. */
  poison?: string;
}): ProcessorDefinition<{ key: string; n: number }, SumState> {
  return {
    name: opts.name,
    inputs: [opts.input],
    changelogTopic: opts.changelog,
    encodeState: (v) => Buffer.from(JSON.stringify(v)),
    decodeState: (b) => JSON.parse(b.toString('utf8')) as SumState,
    decodeInput: (r) => {
      const text = r.value?.toString('utf8') ?? '';
      if (!/^-?\d{1,15}$/.test(text))
        throw new HetuError(
          'HETU_INPUT_INVALID',
          `Value ${JSON.stringify(text.slice(0, 40))} is not an integer.`,
        );
      return { key: r.key?.toString('utf8') ?? '', n: Number(text) };
    },
    process: (store, input, ctx) => {
      if (opts.poison !== undefined && String(input.n) === opts.poison) throw new Error('poison value');
      const cur = store.get(input.key) ?? { count: 0, sum: 0, lastTs: 0 };
      const next = { count: cur.count + 1, sum: cur.sum + input.n, lastTs: ctx.timestamp };
      store.put(input.key, next);
      if (opts.outputTopic)
        ctx.emit(opts.outputTopic, {
          key: Buffer.from(input.key),
          value: Buffer.from(`${input.key}:${next.sum}`),
          timestamp: ctx.timestamp,
        });
    },
  };
}
