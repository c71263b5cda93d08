/**
 * Grouping accuracy on the shared loghub-2k data (../shared/datasets/loghub-2k), through the
 * same pipeline as `hetu fingerprint`: one fresh Fingerprinter per file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { digitMask, groupingAccuracy } from './accuracy.ts';
import { detect } from './detect.ts';
import { Fingerprinter } from './fingerprint.ts';
import { parseLine } from './parse.ts';

const DIR = fileURLToPath(new URL('../../../../../shared/datasets/loghub-2k/', import.meta.url));
const SYSTEMS = [
  'HDFS',
  'Hadoop',
  'Spark',
  'Zookeeper',
  'BGL',
  'HPC',
  'Thunderbird',
  'Windows',
  'Linux',
  'Android',
];

function lines(file: string): string[] {
  const l = readFileSync(DIR + file, 'utf8').split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

function fingerprints(input: string[], header: boolean): string[] {
  const f = new Fingerprinter();
  return input.map((line) => {
    const p = parseLine(line, { header });
    return f.fingerprint(p, detect(p)).fingerprint;
  });
}

function meanGa(kind: 'content' | 'raw'): { mean: number; per: Record<string, number> } {
  const per: Record<string, number> = {};
  for (const s of SYSTEMS) {
    const input = lines(`${s}.${kind === 'content' ? 'content.txt' : 'raw.log'}`);
    per[s] = groupingAccuracy(fingerprints(input, kind === 'raw'), lines(`${s}.truth.txt`));
  }
  return { mean: Object.values(per).reduce((a, b) => a + b, 0) / SYSTEMS.length, per };
}

describe('grouping accuracy on loghub-2k', () => {
  it('content input: mean GA ≥ 0.92, no system below 0.85', () => {
    const { mean, per } = meanGa('content');
    expect(mean).toBeGreaterThanOrEqual(0.92);
    expect(Object.entries(per).filter(([, ga]) => ga < 0.85)).toEqual([]);
  });

  it('raw input: mean GA ≥ 0.85', () => {
    expect(meanGa('raw').mean).toBeGreaterThanOrEqual(0.85);
  });

  it('beats the naive digit-masking baseline', () => {
    const naive = SYSTEMS.map((s) =>
      groupingAccuracy(lines(`${s}.content.txt`).map(digitMask), lines(`${s}.truth.txt`)),
    );
    const naiveMean = naive.reduce((a, b) => a + b, 0) / SYSTEMS.length;
    expect(naiveMean).toBeCloseTo(0.619, 3);
    expect(meanGa('content').mean - naiveMean).toBeGreaterThan(0.3);
  });

  it('is deterministic: the same file twice gives identical fingerprints', () => {
    const input = lines('Android.raw.log');
    expect(fingerprints(input, true)).toEqual(fingerprints(input, true));
  });
});

describe('groupingAccuracy', () => {
  it('counts a line correct only when its predicted group equals its true group', () => {
    expect(groupingAccuracy(['a', 'a', 'b', 'c'], ['x', 'x', 'y', 'y'])).toBe(0.5);
    expect(groupingAccuracy(['a', 'a', 'a'], ['x', 'x', 'y'])).toBe(0);
    expect(groupingAccuracy(['a', 'b'], ['x', 'y'])).toBe(1);
    expect(groupingAccuracy([], [])).toBe(1);
  });

  it('digitMask masks every digit run', () => {
    expect(digitMask('blk_123 took 45ms on 10.0.0.1')).toBe(
      'blk_<num> took <num>ms on <num>.<num>.<num>.<num>',
    );
  });
});
