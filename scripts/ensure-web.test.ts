import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleReason } from './ensure-web.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-ensure-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

describe('staleReason', () => {
  const web = join(dir, 'web');
  mkdirSync(join(web, 'src', 'pages'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html>');
  writeFileSync(join(web, 'src', 'pages', 'Overview.tsx'), 'export {}');
  at(join(web, 'index.html'), 1000);
  at(join(web, 'src', 'pages', 'Overview.tsx'), 1000);

  it('asks for a build when web/dist is missing', () => {
    expect(staleReason(web)).toBe('web/dist is missing');
  });

  it('is content when web/dist is newer than every source', () => {
    mkdirSync(join(web, 'dist'), { recursive: true });
    writeFileSync(join(web, 'dist', 'index.html'), '<!doctype html>');
    at(join(web, 'dist', 'index.html'), 2000);
    expect(staleReason(web)).toBeNull();
  });

  it('asks for a build when a source deep in web/src changed after the build', () => {
    at(join(web, 'src', 'pages', 'Overview.tsx'), 3000);
    expect(staleReason(web)).toBe('web/src changed since web/dist was built');
  });
});
