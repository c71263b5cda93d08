import type { RecordingDeadLetter } from '@hetu/producers/recording';
import type { AppendRecord } from '@hetu/streams';
import type { Backend } from './backend.ts';

/**
 * The `hetu.dlq` record of a recording line the reader refused (`hetu analyze`, `hetu start`
 * playing a recording): keyed `<file>:<line>`, with the line's bytes and the reader's reason.
 */
export async function recordingDeadLetter(
  backend: Backend,
  path: string,
  item: RecordingDeadLetter,
): Promise<AppendRecord> {
  return {
    key: Buffer.from(`${path}:${item.line}`),
    value: await backend.serde.encode('hetu.dlq', 'DeadLetter', {
      ts: item.ts ?? 0,
      processor: 'recording',
      reasonCode: item.reasonCode,
      message: item.message,
      sourceTopic: null,
      sourcePartition: null,
      sourceOffset: null,
      sourceTimestamp: item.ts ?? null,
      sourceFile: path,
      sourceLine: BigInt(item.line),
      key: null,
      value: item.raw,
      headers: {},
    }),
    timestamp: item.ts ?? 0,
  };
}
