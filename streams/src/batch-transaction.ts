import type { AppendRecord, BatchTransaction } from './port.ts';

/** A batch transaction that collects outputs and commit callbacks for an adapter to commit. */
export function collectingTransaction(): {
  tx: BatchTransaction;
  outputs: { topic: string; records: AppendRecord[] }[];
  /** Runs the callbacks registered with `onCommitted`; call after a successful commit. */
  committed(): void;
} {
  const outputs: { topic: string; records: AppendRecord[] }[] = [];
  const callbacks: (() => void)[] = [];
  return {
    tx: {
      append: (topic, records) => {
        outputs.push({ topic, records: [...records] });
      },
      onCommitted: (cb) => {
        callbacks.push(cb);
      },
    },
    outputs,
    committed: () => {
      for (const cb of callbacks) cb();
    },
  };
}
