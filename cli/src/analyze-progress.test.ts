import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { analyzeProgress } from './analyze-progress.ts';

describe("hetu analyze's progress on standard error", () => {
  it('prints a line when each stage starts and ends, with its records and time, off a terminal', () => {
    const lines: string[] = [];
    let t = 0;
    const p = analyzeProgress({ isTTY: false, write: (s: string) => lines.push(s) }, () => t);
    p.stage!('kube');
    p.stage!('errors');
    p.records!('kube', 500, 700);
    p.records!('kube', 695, 700);
    t = 1500;
    p.stageDone!('kube');
    p.stageDone!('errors');
    p.stage!('scoring-namespaces');
    p.split!('scoring-namespaces', [0, 2], [1]);
    p.stop();
    expect(lines.join('')).toBe(
      'stage: kube\nstage: errors\nstage done: kube (695 records, 1.5 s)\nstage done: errors (0 records, 1.5 s)\n' +
        'stage: scoring-namespaces\nstage split: scoring-namespaces on both threads (tasks 0, 2 | 1)\n',
    );
  });

  it('draws a bar per stage on a terminal, two at once, each full when its stage ends', async () => {
    const out = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString('utf8')));
    let t = 0;
    const p = analyzeProgress(out, () => t);
    p.ingest!(50, 100);
    p.ingest!(100, 100);
    p.stage!('incidents');
    p.stage!('recommendations');
    t = 2000;
    p.records!('incidents', 4000, 20_000);
    p.records!('recommendations', 2000, 20_000);
    p.stageDone!('incidents');
    p.stop();
    await new Promise((r) => setImmediate(r));
    const plain = stripVTControlCharacters(text);
    expect(plain).toContain('reading');
    expect(plain).toMatch(/incidents +\[█+\] 100% 4000\/4000 records, 2\.0 s/);
    expect(plain).toMatch(/recommendations +\[█*░+\] 10% 2000\/20000 records, 1,000\/s/);
  });
});
