import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDetect } from './detect.ts';

/** Tests of `hetu detect` (cli/src/commands/detect.ts), kept beside the detector it drives. */
async function detect(input: string, threshold?: number): Promise<{ rows: number; out: string }> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const r = await runDetect({
    in: Readable.from([input]),
    out: sink,
    ...(threshold === undefined ? {} : { threshold }),
  });
  return { rows: r.rows, out };
}

function csv(values: number[]): string {
  const rows = values.map((v, i) => `2014-04-01 00:${String(i).padStart(2, '0')}:00,${v}`);
  return ['timestamp,value', ...rows].join('\n') + '\n';
}

describe('hetu detect', () => {
  it('writes every row in order with a score in [0, 1] and a 0/1 flag', async () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 5];
    const { rows, out } = await detect(csv(values));
    expect(rows).toBe(12);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('timestamp,value,anomaly_score,is_anomaly');
    expect(lines.slice(1, 3)).toEqual([
      '2014-04-01 00:00:00,1,0.000000,0',
      '2014-04-01 00:01:00,2,0.000000,0',
    ]);
    // the 11th row: z = 14.5 ÷ (1.2·sqrt(82.5/9)) = 3.991, score z²/(z²+9) = 0.638961
    expect(lines[11]).toBe('2014-04-01 00:10:00,20,0.638961,1');
    expect(lines).toHaveLength(13);
  });

  it('flags at the configured threshold (score > threshold)', async () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20];
    expect((await detect(csv(values), 0.7)).out.trimEnd().split('\n')[11]).toBe(
      '2014-04-01 00:10:00,20,0.638961,0',
    );
    expect((await detect(csv(values), 0.6)).out.trimEnd().split('\n')[11]).toBe(
      '2014-04-01 00:10:00,20,0.638961,1',
    );
    await expect(detect(csv(values), 1.5)).rejects.toThrow('The threshold must be a number between 0 and 1');
  });

  it('accepts CRLF, a BOM and blank lines, and copies timestamp and value as written', async () => {
    const { rows, out } = await detect(
      '\ufefftimestamp,value\r\n2014-04-01 00:00:00,1.50\r\n\r\n2014-04-01 00:05:00, 2e1 \r\n',
    );
    expect(rows).toBe(2);
    expect(out).toBe(
      'timestamp,value,anomaly_score,is_anomaly\n2014-04-01 00:00:00,1.50,0.000000,0\n2014-04-01 00:05:00,2e1,0.000000,0\n',
    );
  });

  it('names the line and the reason of a bad row', async () => {
    const head = 'timestamp,value\n2014-04-01 00:00:00,1\n';
    await expect(detect('time,v\n')).rejects.toThrow(
      'Line 1: expected the header "timestamp,value", found "time,v".',
    );
    await expect(detect('')).rejects.toThrow(
      'Line 1: expected the header "timestamp,value", found an empty input.',
    );
    await expect(detect(head + '2014-04-01 00:01:00,abc\n')).rejects.toThrow(
      'Line 3: value "abc" is not a finite decimal number.',
    );
    await expect(detect(head + '2014-04-01 00:01:00,NaN\n')).rejects.toThrow(
      'Line 3: value "NaN" is not a finite decimal number.',
    );
    await expect(detect(head + '2014-04-01 00:01:00,Infinity\n')).rejects.toThrow('Line 3: value "Infinity"');
    await expect(detect(head + '2014-04-01 00:01:00,\n')).rejects.toThrow(
      'Line 3: value "" is not a finite decimal number.',
    );
    await expect(detect(head + 'yesterday,1\n')).rejects.toThrow(
      'Line 3: timestamp "yesterday" is not a date and time',
    );
    await expect(detect(head + '\n2014-04-01 00:01:00,1,2\n')).rejects.toThrow(
      'Line 4: expected 2 columns (timestamp,value), found 3.',
    );
  });
});
