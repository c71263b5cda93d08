import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'gen-types.ts');
const avroDir = path.resolve(here, '../avro');
const generatedDir = path.resolve(here, '../src/generated');

function run(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('gen-types', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  /** A copy of schemas/avro and schemas/src/generated in a temporary folder. */
  const copy = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hetu-gen-'));
    dirs.push(dir);
    fs.cpSync(avroDir, path.join(dir, 'avro'), { recursive: true });
    fs.cpSync(generatedDir, path.join(dir, 'generated'), { recursive: true });
    return dir;
  };
  const check = (dir: string) => run(['--check', '--avro-dir', 'avro', '--out-dir', 'generated'], dir);

  it('finds the committed generated files up to date', () => {
    expect(run(['--check'], path.resolve(here, '../..'))).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('fails naming the drifted file when an .avsc changed, and passes after regenerating', () => {
    const dir = copy();
    const file = path.join(dir, 'avro', 'MetricSampled.avsc');
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('"doc": "Metric name', '"doc": "The metric name'),
    );
    expect(check(dir)).toEqual({
      status: 1,
      stdout: '',
      stderr:
        'generated/MetricSampled.ts differs from what schemas/avro/*.avsc generate: run `npm run gen` and commit the result.\n',
    });
    expect(run(['--avro-dir', 'avro', '--out-dir', 'generated'], dir)).toEqual({
      status: 0,
      stdout: 'Wrote generated/MetricSampled.ts.\n',
      stderr: '',
    });
    expect(check(dir).status).toBe(0);
  });

  it('fails on a hand-edited or stale generated file', () => {
    const dir = copy();
    fs.appendFileSync(path.join(dir, 'generated', 'Command.ts'), '// edited\n');
    fs.writeFileSync(path.join(dir, 'generated', 'Retired.ts'), 'export {};\n');
    expect(check(dir)).toMatchObject({
      status: 1,
      stderr:
        'generated/Command.ts (and 1 more: Retired.ts) differs from what schemas/avro/*.avsc generate: run `npm run gen` and commit the result.\n',
    });
  });

  it('refuses a field without a doc', () => {
    const dir = copy();
    const file = path.join(dir, 'avro', 'Command.avsc');
    const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as { fields: { doc?: string }[] };
    delete schema.fields[2]?.doc;
    fs.writeFileSync(file, JSON.stringify(schema));
    expect(check(dir)).toEqual({
      status: 1,
      stdout: '',
      stderr:
        'Command.avsc: field dev.hetu.Command.issuer has no doc; every record, enum and field must say what it is.\n',
    });
  });
});
