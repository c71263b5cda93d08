/**
 * The second thread of `hetu analyze` (docs/analyze-output.md, "Two threads"): it opens its own
 * connection to the analysis's embedded log, appends the batches of the recording the main thread
 * reads and encodes, then runs the stages the main thread hands it, one at a time, each to the end
 * of its input. Messages in: `open` (the data directory, once the topics exist, and the write lock
 * it shares with the main thread's connection), `append` (a packed batch of a topic:
 * `ingest-batch.ts`, appended in the order sent), `run` (a stage name), `replay` (a stage of
 * `hetu replay`, on the topics of a generation), `close`. Messages out:
 * `ready`, `appended` (one per batch, in order), `records` (progress of the running stage, after
 * each batch), `done`, `failed`, `closed`.
 */
import { parentPort } from 'node:worker_threads';
import type { AnyProcessor } from '@hetu/streams';
import type { Backend } from '../backend.ts';
import type { ReplayStageSpec } from './replay.ts';

export type ToWorker =
  | {
      type: 'open';
      dataDir: string;
      writeLock: SharedArrayBuffer;
      durability: 'normal' | 'off';
      /** `EmbeddedLogOptions.cleanEvery` (tests: a log that would clean often). */
      cleanEvery?: number;
      /** false: the stages write no changelog (`runStage`). */
      changelogs: boolean;
    }
  | { type: 'append'; topic: string; batch: ArrayBuffer }
  | { type: 'run'; stage: string; tasks?: number[] }
  | { type: 'replay'; stage: string; spec: ReplayStageSpec; tasks?: number[] }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'appended' }
  | { type: 'done'; stage: string; counts?: { seen: number; delivered: number } }
  | { type: 'records'; stage: string; done: number; total: number }
  | { type: 'failed'; stage: string | null; code: string | null; message: string; stack: string | null }
  | { type: 'closed' };

if (parentPort) {
  const port = parentPort;
  const post = (m: FromWorker) => port.postMessage(m);
  // The stages' modules load while the main thread reads the recording (and this one appends it).
  const stagesModule = import('./analyze.ts');
  stagesModule.catch(() => undefined); // a failure is reported by the first `run`
  const [{ parseGlobalConfig }, { openBackend, pauseCleaning }, { unpackBatch }] = await Promise.all([
    import('../config.ts'),
    import('../backend.ts'),
    import('./ingest-batch.ts'),
  ]);
  let backend: Backend | undefined;
  /** The messages, handled one after another in the order sent (appends follow the open). */
  let queue: Promise<void> = Promise.resolve();
  let changelogs = true;
  let stages = new Map<string, AnyProcessor<unknown, unknown>>();
  let replayStages = new Map<string, AnyProcessor<unknown, unknown>>();
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
    queue = queue.then(async () => {
      if (m.type === 'open') {
        try {
          backend = await openBackend(parseGlobalConfig({ dataDir: m.dataDir, output: 'json' }, {}), {
            writeLock: m.writeLock,
            durability: m.durability,
            timeRetention: false,
            ...(m.cleanEvery !== undefined ? { cleanEvery: m.cleanEvery } : {}),
          });
          // Its appends never clean: a later stage reads every fact an earlier one wrote
          // (`withCleaningPaused`); the next append to a partition after the run cleans it.
          pauseCleaning(backend);
          changelogs = m.changelogs;
          post({ type: 'ready' });
        } catch (err) {
          fail(null, err);
        }
      } else if (m.type === 'append') {
        try {
          if (!backend) throw new Error(`The stage worker cannot append to ${m.topic}: not open.`);
          await backend.log.append(m.topic, unpackBatch(m.batch));
          post({ type: 'appended' });
        } catch (err) {
          fail(null, err);
        }
      } else if (m.type === 'run') {
        try {
          const { analysisStages, runWithProgress } = await stagesModule;
          if (backend && stages.size === 0) stages = new Map(analysisStages(backend, true));
          const p = stages.get(m.stage);
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
      } else if (m.type === 'replay') {
        try {
          const [{ runReplayStage }, { pipelineStages }] = await Promise.all([
            import('./replay.ts'),
            import('../stages.ts'),
          ]);
          if (backend && replayStages.size === 0) replayStages = new Map(pipelineStages(backend));
          const p = replayStages.get(m.stage);
          if (!backend || !p)
            throw new Error(`The stage worker cannot replay ${m.stage}: not open, or no such stage.`);
          const counts = { seen: 0, delivered: 0 };
          await runReplayStage(backend, p, m.spec, counts, {
            onBatch: () => post({ type: 'records', stage: m.stage, done: counts.seen, total: 0 }),
            ...(m.tasks ? { tasks: m.tasks } : {}),
          });
          post({ type: 'done', stage: m.stage, counts });
        } catch (err) {
          fail(m.stage, err);
        }
      } else {
        await backend?.close();
        post({ type: 'closed' });
        port.close();
      }
    });
  });
}
