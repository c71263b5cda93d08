// `hetu replay`'s flags and terminal output (the work is in commands/replay.ts).
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { HetuError } from '@hetu/streams';
import type { GlobalConfig } from './config.ts';
import { openBackend } from './backend.ts';
import { printRows } from './output.ts';
import type { ReplayProgress } from './commands/replay.ts';
import { switchGeneration } from './generations.ts';

interface ReplayFlags {
  from?: string;
  to?: string;
  processor?: string;
  yes?: boolean;
  list?: boolean;
  switch?: string;
  resume?: string;
  prune?: string;
  threads: string;
}

function generationNumber(flag: string, text: string): number {
  const n = Number(text.replace(/^g/i, ''));
  if (!Number.isInteger(n) || n < 1)
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `${flag} ${text} is not a generation number: give one that 'hetu replay --list' shows (1 is the original topics).`,
    );
  return n;
}

/** A progress bar with the rate on stderr (a line per stage when stderr is not a terminal). */
function progress(): { progress: ReplayProgress; stop(): void } {
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: 'replay {stage} [{bar}] {percentage}% {value}/{total} records, {rate} records/s',
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let running = false;
  let rate = 0;
  let stage = '';
  const stop = () => {
    if (running) bar?.stop();
    running = false;
  };
  return {
    stop,
    progress: {
      // On two threads `name` is every stage running (`a + b`): a line per change of that set.
      stage: (name, total) => {
        if (!tty && stage) process.stderr.write(`replay ${stage}: ${Math.round(rate)} records/s\n`);
        stop();
        stage = name;
        rate = 0;
        bar?.start(Math.max(total, 1), 0, { stage: name, rate: 0 });
        running = tty;
      },
      records: (done, _total, perSecond) => {
        rate = perSecond;
        bar?.update(done, { stage, rate: Math.round(perSecond) });
      },
      verifying: () => {
        if (!tty && stage) process.stderr.write(`replay ${stage}: ${Math.round(rate)} records/s\n`);
        stop();
        process.stderr.write('verifying…\n');
      },
    },
  };
}

/** Registers `hetu replay` (docs/replay.md). */
export function registerReplay(program: Command, config: () => GlobalConfig): void {
  program
    .command('replay')
    .description(
      're-run stages over retained input into a fresh generation of their topics, verify it, then switch readers (docs/replay.md)',
    )
    .option(
      '--from <when>',
      "start of the window: RFC3339 time, topic:partition:offset, an offset, or 'earliest'",
    )
    .option(
      '--to <when>',
      'end of the window, inclusive (default: the end of the log); such a generation is for inspection',
    )
    .option('--processor <stages>', 'stages to re-run, comma-separated (default: every stage, in order)')
    .option('--yes', 'switch readers to the new generation once it is verified, without asking')
    .option('--list', 'list the generations and which one readers use')
    .option(
      '--switch <generation>',
      'switch readers to a verified generation (1: the original topics); rolling back is switching back',
    )
    .option('--resume <generation>', 'finish an interrupted replay')
    .option(
      '--prune <generation>',
      'delete the topics and consumer groups of a generation readers do not use (asks first unless --yes); generation 1 keeps its raw input',
    )
    .option(
      '--threads <n>',
      'on the embedded log, re-run independent stages at the same time on 2 threads (default), or on 1',
      '2',
    )
    .action(async (o: ReplayFlags) => {
      if (o.threads !== '1' && o.threads !== '2')
        throw new HetuError('HETU_CLI_BAD_OPTION', `--threads must be 1 or 2, not ${o.threads}.`);
      const cfg = config();
      // A replay of every stage on the embedded log runs them on two threads, as `hetu analyze`
      // does: the second thread's connection takes turns at writing with this one's (the lock).
      const running =
        o.list !== true && o.switch === undefined && o.prune === undefined && o.processor === undefined;
      const twoThreads = running && o.threads === '2' && cfg.kafka === undefined;
      const writeLock = twoThreads ? new SharedArrayBuffer(4) : undefined;
      const backend = await openBackend(cfg, writeLock ? { writeLock } : {});
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      const bar = progress();
      let worker: import('./commands/analyze.ts').StageWorker | undefined;
      try {
        const { listGenerations, printPrune, printReplay, pruneOn, replayOn } = await import(
          './commands/replay.ts'
        );
        if (o.list) {
          printRows(
            process.stdout,
            cfg.output,
            ['generation', 'status', 'active', 'window', 'stages', 'createdAt'],
            await listGenerations(backend.log),
          );
          return;
        }
        if (o.switch !== undefined) {
          const active = await switchGeneration(
            backend.log,
            generationNumber('--switch', o.switch),
            new Date().toISOString(),
          );
          if (cfg.output === 'json') process.stdout.write(`${JSON.stringify(active)}\n`);
          else
            process.stdout.write(
              `readers now use generation ${active.generation} (was ${active.previous}); a running 'hetu start' or 'hetu run' moves to it within HETU_GENERATION_POLL_MS (default 5 s), or at its next start.\n`,
            );
          return;
        }
        if (o.prune !== undefined) {
          const n = generationNumber('--prune', o.prune);
          const terminal = process.stdin.isTTY === true && process.stderr.isTTY === true;
          const report = await pruneOn(backend, n, {
            confirm: async (plan) => {
              if (o.yes === true) return true;
              if (!terminal)
                throw new HetuError(
                  'HETU_CLI_BAD_OPTION',
                  `--prune ${n} deletes ${plan.topics.length} topics and ${plan.groups.length} consumer groups for good: add --yes to confirm it when not on a terminal.`,
                );
              for (const t of plan.topics) process.stderr.write(`  topic ${t}\n`);
              for (const g of plan.groups) process.stderr.write(`  group ${g}\n`);
              const { confirm } = await import('@inquirer/prompts');
              return confirm(
                {
                  message: `Delete these ${plan.topics.length} topics and ${plan.groups.length} consumer groups of generation ${n} for good?`,
                  default: false,
                },
                { output: process.stderr },
              );
            },
          });
          printPrune(process.stdout, report, cfg.output);
          return;
        }
        const interactive = process.stdin.isTTY && process.stderr.isTTY && cfg.output !== 'json';
        if (writeLock) {
          const { StageWorker } = await import('./commands/analyze.ts');
          worker = new StageWorker();
          await worker.open(cfg.dataDir, writeLock, 'normal');
        }
        const report = await replayOn(backend, {
          ...(worker ? { worker } : {}),
          ...(o.from !== undefined ? { from: o.from } : {}),
          ...(o.to !== undefined ? { to: o.to } : {}),
          ...(o.processor !== undefined
            ? {
                processors: o.processor
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(o.resume !== undefined ? { resume: generationNumber('--resume', o.resume) } : {}),
          switchOnSuccess:
            o.yes === true
              ? true
              : interactive
                ? async (r) => {
                    bar.stop();
                    printReplay(process.stderr, r, 'table');
                    const { confirm } = await import('@inquirer/prompts');
                    return confirm({
                      message: `Generation ${r.generation} verified: switch readers to it?`,
                      default: false,
                    });
                  }
                : false,
          progress: bar.progress,
          signal: ac.signal,
        });
        bar.stop();
        printReplay(process.stdout, report, cfg.output);
        if (!report.verified) process.exitCode = 1;
      } finally {
        bar.stop();
        process.off('SIGINT', onSigint);
        await worker?.close();
        await backend.close();
      }
    });
}
