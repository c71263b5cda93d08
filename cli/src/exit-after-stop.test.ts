import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { boundedClose } from './exit-after-stop.ts';

const MODULE = fileURLToPath(new URL('./exit-after-stop.ts', import.meta.url));

/** A child process that arms exitAfterStop (300 ms) after `body` ran, and what it did. */
function child(body: string) {
  const script = `
    import { exitAfterStop } from ${JSON.stringify(MODULE)};
    import { createServer } from 'node:net';
    ${body}
    exitAfterStop('run', process.stderr, 300);
  `;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr, ms: performance.now() - t0 };
}

describe('exitAfterStop', () => {
  it('ends a cleanly stopped process that a leaked handle keeps alive, and names the handle', () => {
    const r = child(`createServer().listen(0, '127.0.0.1');`);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      /^hetu run: stopped cleanly, but the process had not ended 0\.3 s later; ending it\./,
    );
    expect(r.stderr).toContain('Still open (please report): Server');
    expect(r.stderr).toMatch(/resources: .*TCPServerWrap/);
  });

  it('keeps the exit code the command set', () => {
    const r = child(`createServer().listen(0, '127.0.0.1'); process.exitCode = 3;`);
    expect(r.status).toBe(3);
  });

  it('says nothing when the process ends by itself', () => {
    const r = child(`const s = createServer().listen(0, '127.0.0.1', () => s.close());`);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('boundedClose', () => {
  const said = () => {
    const err = new PassThrough();
    let text = '';
    err.on('data', (c: Buffer) => (text += c.toString()));
    return { err, text: () => text };
  };

  it('names a closing step that hangs and goes on after its time', async () => {
    const out = said();
    const t0 = performance.now();
    await boundedClose('run', 'the frontier publisher', new Promise(() => undefined), out.err, 200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    expect(out.text()).toBe(
      'hetu run: closing the frontier publisher did not finish within 0.2 s after the stop; going on without it (please report).\n',
    );
  });

  it('waits for a step that finishes, says nothing, and passes its failure on', async () => {
    const out = said();
    let done = false;
    await boundedClose(
      'run',
      'x',
      new Promise<void>((r) => setTimeout(() => r(void (done = true)), 50)),
      out.err,
      5_000,
    );
    expect(done).toBe(true);
    await boundedClose('run', 'nothing', undefined, out.err, 5_000);
    await expect(boundedClose('run', 'y', Promise.reject(new Error('boom')), out.err, 5_000)).rejects.toThrow(
      'boom',
    );
    expect(out.text()).toBe('');
  });
});
