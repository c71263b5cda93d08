/**
 * The second thread of `hetu analyze` (docs/analyze-output.md, "Two threads"): it opens its own
 * connection to the analysis's embedded log and runs the stages the main thread hands it, one at a
 * time, each to the end of its input. Messages in: `open` (the data directory, once the raw topics
 * are written, and the write lock it shares with the main thread's connection), `run` (a stage
 * name), `close`. Messages out: `ready`, `records` (progress of the
 * running stage, after each batch), `done`, `failed`, `closed`.
 */
import { parentPort } from 'node:worker_threads';
import type { AnyProcessor } from '@hetu/streams';
import type { Backend } from '../backend.ts';

export type ToWorker =
  | {
      type: 'open';
      dataDir: string;
      writeLock: SharedArrayBuffer;
      durability: 'normal' | 'off';
      /** false: the stages write no changelog (`runStage`). */
      changelogs: boolean;
    }
  | { type: 'run'; stage: string; tasks?: number[] }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; stage: string }
  | { type: 'records'; stage: string; done: number; total: number }
  | { type: 'failed'; stage: string | null; code: string | null; message: string; stack: string | null }
  | { type: 'closed' };

if (parentPort) {
  const port = parentPort;
  const post = (m: FromWorker) => port.postMessage(m);
  // The modules load while the main thread reads the recording.
  const [{ parseGlobalConfig }, { openBackend }, { analysisStages, runWithProgress }] = await Promise.all([
    import('../config.ts'),
    import('../backend.ts'),
    import('./analyze.ts'),
  ]);
  let backend: Backend | undefined;
  let changelogs = true;
  let stages = new Map<string, AnyProcessor<unknown, unknown>>();
  const fail = (stage: string | null, err: unknown) => {
    const e = err as { code?: unknown; message?: unknown; stack?: unknown };
    post({
      type: 'failed',
      stage,
      code: typeof e?.code === 'string' ? e.code : null,
      message: typeof e?.message === 'string' ? e.message : String(err),
      stack: typeof e?.stack === 'string' ? e.stack : null,
    });
  };
  port.on('message', (m: ToWorker) => {
    void (async () => {
      if (m.type === 'open') {
        try {
          backend = await openBackend(parseGlobalConfig({ dataDir: m.dataDir, output: 'json' }, {}), {
            writeLock: m.writeLock,
            durability: m.durability,
            timeRetention: false,
          });
          stages = new Map(analysisStages(backend, true));
          changelogs = m.changelogs;
          post({ type: 'ready' });
        } catch (err) {
          fail(null, err);
        }
      } else if (m.type === 'run') {
        const p = stages.get(m.stage);
        try {
          if (!backend || !p)
            throw new Error(`The stage worker cannot run ${m.stage}: not open, or no such stage.`);
          await runWithProgress(
            backend,
            m.stage,
            p,
            { records: (stage, done, total) => post({ type: 'records', stage, done, total }) },
            m.tasks,
            changelogs,
          );
          post({ type: 'done', stage: m.stage });
        } catch (err) {
          fail(m.stage, err);
        }
      } else {
        await backend?.close();
        post({ type: 'closed' });
        port.close();
      }
    })();
  });
}
