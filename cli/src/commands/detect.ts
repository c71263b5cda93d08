/**
 * `hetu detect [FILE.csv]`: runs hetu's anomaly detector over one NAB-style series.
 *
 * Input: a header line (`timestamp,value`), then one `timestamp,value` row per sample.
 * Output: `timestamp,value,anomaly_score,is_anomaly`, one row per input row, in order;
 * timestamp and value are copied as written, anomaly_score is in [0, 1] (6 decimals) and
 * is_anomaly is 1 when the score is above the threshold (default 0.5, which is |z| > 3).
 * Blank lines are ignored. Any other bad row stops the run with an Error naming its line (rows
 * before it have been written): wrong number of columns, a timestamp that does not parse,
 * a value that is not a finite decimal number. Rows are scored in file order even where a
 * timestamp goes back (NAB's own files do that, e.g. around a clock change).
 */
import { createInterface } from 'node:readline';
import { createDetector, parseTimestamp, update } from '@hetu/processors/anomalies';

export interface DetectOptions {
  readonly in: NodeJS.ReadableStream;
  readonly out: NodeJS.WritableStream;
  /** Score threshold in [0, 1] for is_anomaly (score > threshold). Default 0.5. */
  readonly threshold?: number;
}

export const DEFAULT_DETECT_THRESHOLD = 0.5;

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const FLUSH_AT = 64 * 1024;

export async function runDetect(opts: DetectOptions): Promise<{ rows: number }> {
  const threshold = opts.threshold ?? DEFAULT_DETECT_THRESHOLD;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`The threshold must be a number between 0 and 1, not ${String(opts.threshold)}.`);
  }
  const state = createDetector();
  const lines = createInterface({ input: opts.in, crlfDelay: Infinity });
  let lineNo = 0;
  let rows = 0;
  let header = false;
  let buf = 'timestamp,value,anomaly_score,is_anomaly\n';
  for await (const raw of lines) {
    lineNo++;
    const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (line.trim() === '') continue;
    const cols = line.split(',');
    if (!header) {
      const names = cols.map((c) => c.trim().toLowerCase());
      if (names.length !== 2 || names[0] !== 'timestamp' || names[1] !== 'value') {
        throw new Error(`Line ${lineNo}: expected the header "timestamp,value", found "${clip(line)}".`);
      }
      header = true;
      continue;
    }
    if (cols.length !== 2) {
      throw new Error(`Line ${lineNo}: expected 2 columns (timestamp,value), found ${cols.length}.`);
    }
    const tsText = (cols[0] as string).trim();
    const valueText = (cols[1] as string).trim();
    const ts = parseTimestamp(tsText);
    if (Number.isNaN(ts)) {
      throw new Error(
        `Line ${lineNo}: timestamp "${clip(tsText)}" is not a date and time like 2014-04-01 00:00:00.`,
      );
    }
    const value = DECIMAL.test(valueText) ? Number(valueText) : NaN;
    if (!Number.isFinite(value)) {
      throw new Error(`Line ${lineNo}: value "${clip(valueText)}" is not a finite decimal number.`);
    }
    const d = update(state, ts, value);
    buf += `${tsText},${valueText},${d.score.toFixed(6)},${d.score > threshold ? 1 : 0}\n`;
    rows++;
    if (buf.length >= FLUSH_AT) {
      await write(opts.out, buf);
      buf = '';
    }
  }
  if (!header) throw new Error('Line 1: expected the header "timestamp,value", found an empty input.');
  await write(opts.out, buf);
  return { rows };
}

function clip(text: string): string {
  return text.length > 40 ? text.slice(0, 40) + '…' : text;
}

function write(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (chunk === '') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ok = out.write(chunk, (err) => {
      if (err) reject(err);
    });
    if (ok) resolve();
    else out.once('drain', () => resolve());
  });
}
