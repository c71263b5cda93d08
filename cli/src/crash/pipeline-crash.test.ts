import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGlobalConfig } from '../config.ts';
import { openBackend } from '../backend.ts';
import { analyzeOn, createAnalysisTopics, ingest } from '../commands/analyze.ts';
import { factDigest } from '../digest.ts';
import { prng } from '@hetu/streams';

const dir = mkdtempSync(join(tmpdir(), 'hetu-pipeline-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DEMO = 'demo/demo.jsonl.gz';
const CHILD = fileURLToPath(new URL('./stages-child.ts', import.meta.url));
const KILLS = 12;
const SEED = 20261126;

/**
 * Runs the stages child once; kills it with SIGKILL `killAfterMs` after it is ready (if given).
 * Resolves with the stage it was in when it ended and whether it finished.
 */
function runChild(dataDir: string, killAfterMs?: number): Promise<{ finished: boolean; stage: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stage = 'starting';
    let finished = false;
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line === 'ready') {
          stage = 'restoring';
          if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        } else if (line.startsWith('stage ')) stage = line.slice(6);
        else if (line === 'done') finished = true;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' || (code === 0 && finished)) resolve({ finished, stage });
      else reject(new Error(`stages child exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
    });
  });
}

describe('the analysis pipeline under crashes', () => {
  it(`ends with the facts of a clean run after ${KILLS} SIGKILLs at random moments`, async () => {
    const cleanDir = join(dir, 'clean');
    const clean = await openBackend(parseGlobalConfig({ dataDir: cleanDir }, {}));
    await analyzeOn(clean, DEMO);
    const want = await factDigest(clean);
    await clean.close();

    // Rounds: a fresh log with the recording, the stages killed at random moments and restarted
    // until they finish, the facts compared; again until the kills add up.
    const random = prng(SEED);
    const killedIn: string[] = [];
    for (let round = 0; killedIn.length < KILLS; round++) {
      const crashDir = join(dir, `crashed-${round}`);
      const prepared = await openBackend(parseGlobalConfig({ dataDir: crashDir }, {}));
      await createAnalysisTopics(prepared);
      await ingest(prepared, DEMO);
      await prepared.close();
      for (;;) {
        const kill = killedIn.length < KILLS ? 50 + Math.floor(random() * 700) : undefined;
        const { finished, stage } = await runChild(crashDir, kill);
        if (finished) break;
        killedIn.push(stage);
      }
      const crashed = await openBackend(parseGlobalConfig({ dataDir: crashDir }, {}));
      const got = await factDigest(crashed);
      await crashed.close();
      expect(got).toEqual(want);
    }
    expect(killedIn.length).toBe(KILLS);
    // The kills landed in more than one stage (where exactly depends on the machine's speed).
    expect(new Set(killedIn).size).toBeGreaterThan(1);
    console.log(`pipeline crash test: killed in ${killedIn.join(', ')}`);
  }, 600_000);
});
