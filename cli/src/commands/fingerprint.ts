/**
 * `hetu fingerprint [FILE] --input content|raw`: one JSON object per input line, in order:
 * `{"fingerprint": "...", "template": "...", "level": "...", "reason": "..."}`.
 *
 * Every line gets a fingerprint (also lines that are not errors), so that grouping can be
 * measured on whole files. `content`: the line is the message already; `raw`: the line still
 * has its header (timestamp, level, pid…), which is stripped generically. `level` is the level
 * after detection (info/debug lines with a reason are raised to error); `reason` is the SPEC
 * detection reason or `none`. No stitching: each input line is one record.
 *
 * Streaming: lines are read with readline and written in batches; when the output asks to
 * wait (`write` returns false) reading pauses until `drain`.
 */
import { createInterface } from 'node:readline';
import { detect, Fingerprinter, parseLine } from '@hetu/processors/errors/parse';

export interface FingerprintOptions {
  input: 'content' | 'raw';
  in: NodeJS.ReadableStream;
  out: NodeJS.WritableStream;
}

/** Output is written in chunks of about this many characters. */
const BATCH_CHARS = 64 * 1024;

export async function runFingerprint(opts: FingerprintOptions): Promise<{ lines: number }> {
  const fp = new Fingerprinter();
  const header = opts.input === 'raw';
  const rl = createInterface({ input: opts.in, crlfDelay: Infinity, terminal: false });
  let lines = 0;
  let buf = '';
  const flush = async (): Promise<void> => {
    if (buf.length === 0) return;
    const chunk = buf;
    buf = '';
    if (!opts.out.write(chunk)) await drained(opts.out);
  };
  try {
    for await (const line of rl) {
      const parsed = parseLine(line, { header });
      const d = detect(parsed);
      const r = fp.fingerprint(parsed, d);
      // fingerprint (hex), level and reason (fixed words) need no escaping; the template does.
      buf +=
        '{"fingerprint":"' +
        r.fingerprint +
        '","template":' +
        JSON.stringify(r.template) +
        ',"level":"' +
        d.level +
        '","reason":"' +
        (d.reason ?? 'none') +
        '"}\n';
      lines++;
      if (buf.length >= BATCH_CHARS) await flush();
    }
    await flush();
  } finally {
    rl.close();
  }
  return { lines };
}

function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      out.off('error', onError);
      resolve();
    };
    const onError = (err: unknown): void => {
      out.off('drain', onDrain);
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}
