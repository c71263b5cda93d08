// A collector's process loads only what it needs: the chart gives the collector pod 256 Mi, and the
// client library's generated API, the processors, the projections with the GraphQL server and the
// LLM client cost 20-85 MiB of RSS apiece (docs/benchmarks.md, collectors at 10 000 pods).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = process.execPath;

/** The modules a child loads for `script` (an ES module body run from cli/src). */
function loaded(script: string): { urls: string[]; stderr: string } {
  const hooks = `
    import { registerHooks } from 'node:module';
    globalThis.__loaded = [];
    registerHooks({ load(url, context, next) { globalThis.__loaded.push(url); return next(url, context); } });
  `;
  const body = `import { writeSync } from 'node:fs';
    process.on('exit', () => writeSync(1, JSON.stringify(globalThis.__loaded)));
    ${script}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HETU_')));
  const r = spawnSync(
    NODE,
    ['--import', `data:text/javascript,${encodeURIComponent(hooks)}`, '--input-type=module', '-e', body],
    { cwd: ROOT, encoding: 'utf8', env },
  );
  if (!r.stdout.startsWith('[')) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return { urls: JSON.parse(r.stdout) as string[], stderr: r.stderr };
}

const HEAVY = [
  /node_modules\/@kubernetes\/client-node\//,
  /node_modules\/openai\//,
  /node_modules\/mercurius\//,
  /node_modules\/fastify\//,
  /node_modules\/graphql\//,
  // (the log collector names a pod's workload as the health processor does: a small pure module)
  /\/processors\/src\/(?!health\/)/,
  /\/projections\/src\/(?!api\/defaults\.ts)/,
];

describe('hetu run: a collector loads only its modules', () => {
  it('the CLI, the role list and the three collectors load no client library, processor, projection or LLM client', () => {
    // the command line as the chart's collector pod runs it, but without Kafka: it stops with
    // its one sentence after resolving the roles; then the collectors' own modules
    const cli = loaded(`
      process.argv = [process.argv[0], 'hetu', 'run', 'collect-kube', 'collect-logs', 'collect-metrics'];
      await import('./cli/src/main.ts');
    `);
    expect(cli.stderr).toContain('hetu run collect-kube collect-logs collect-metrics needs Kafka');
    expect(cli.urls.some((u) => u.endsWith('/cli/src/commands/run.ts'))).toBe(true);
    expect(cli.urls.filter((u) => HEAVY.some((h) => h.test(u)))).toEqual([]);
    const collectors = loaded(`
      await import('@hetu/producers/kube');
      await import('@hetu/producers/logs');
      await import('@hetu/producers/metrics');
    `);
    expect(collectors.urls.some((u) => u.endsWith('/producers/src/logs/collector.ts'))).toBe(true);
    expect(collectors.urls.filter((u) => HEAVY.some((h) => h.test(u)))).toEqual([]);
  });

  it('loads the processors once a stage is asked for (the check above can see them)', () => {
    const { urls } = loaded(`
      const run = await import('./cli/src/commands/run.ts');
      await run.resolveRoles(['errors']);
    `);
    expect(urls.some((u) => /\/processors\/src\/errors\//.test(u))).toBe(true);
  });
});

describe('cli/bin/hetu.js: the compile cache', () => {
  /** Runs the entry as the image does (`hetu run` of the three collectors, no Kafka) and says whether Node loaded its TypeScript stripper. */
  function start(cache: string): { stderr: string; stripper: boolean } {
    const probe = `process.on('exit', () => process.stderr.write('\\nSTRIPPER ' + process.moduleLoadList.some((m) => m.includes('amaro')) + '\\n'));`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HETU_')));
    const r = spawnSync(
      NODE,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(probe)}`,
        'cli/bin/hetu.js',
        'run',
        'collect-kube',
        'collect-logs',
        'collect-metrics',
      ],
      { cwd: ROOT, encoding: 'utf8', env: { ...env, HETU_COMPILE_CACHE: cache } },
    );
    const m = /STRIPPER (true|false)/.exec(r.stderr);
    if (m === null) throw new Error(`no probe line (${r.status}): ${r.stderr}`);
    return { stderr: r.stderr, stripper: m[1] === 'true' };
  }

  it('warmed by cli/bin/warm-cache.js, a collector process starts without the TypeScript stripper; without it, with', () => {
    const cache = mkdtempSync(join(tmpdir(), 'hetu-cc-'));
    try {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HETU_')));
      const warm = spawnSync(NODE, ['cli/bin/warm-cache.js'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...env, HETU_COMPILE_CACHE: cache },
      });
      expect(warm.status, warm.stderr).toBe(0);
      expect(warm.stdout).toMatch(/\(enabled\): \d+ modules compiled, 0 skipped\./);
      const warmStart = start(cache);
      expect(warmStart.stderr).toContain('needs Kafka');
      expect(warmStart.stripper).toBe(false);
      // The same start with the cache off strips every module itself.
      const cold = start('off');
      expect(cold.stderr).toContain('needs Kafka');
      expect(cold.stripper).toBe(true);
      // `hetu doctor` says which it was.
      const doctor = (c: string) => {
        const r = spawnSync(
          NODE,
          ['cli/bin/hetu.js', 'doctor', '-o', 'json', '--data-dir', join(cache, 'data')],
          {
            cwd: ROOT,
            encoding: 'utf8',
            env: { ...env, HETU_COMPILE_CACHE: c, KUBECONFIG: join(cache, 'no-kubeconfig') },
          },
        );
        const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
        return lines
          .map((l) => JSON.parse(l) as { check: string; status: string })
          .find((x) => x.check === 'compile cache');
      };
      expect(doctor(cache)?.status).toBe('ok');
      expect(doctor('off')?.status).toBe('off');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('an empty HETU_COMPILE_CACHE is the default directory; one that cannot be made fails the warm-up in one sentence', () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HETU_')));
    const probe = spawnSync(
      NODE,
      [
        '--input-type=module',
        '-e',
        `import { useCompileCache, DEFAULT_COMPILE_CACHE } from './cli/bin/compile-cache.js';
         const r = useCompileCache({ HETU_COMPILE_CACHE: '' });
         console.log(JSON.stringify({ status: r.status, inDefault: r.directory.startsWith(DEFAULT_COMPILE_CACHE) }));`,
      ],
      { cwd: ROOT, encoding: 'utf8', env },
    );
    expect(JSON.parse(probe.stdout)).toEqual({ status: 'enabled', inDefault: true });
    const dir = mkdtempSync(join(tmpdir(), 'hetu-cc-bad-'));
    try {
      // A directory under a regular file cannot be made, whoever runs the test.
      writeFileSync(join(dir, 'file'), 'x');
      const bad = join(dir, 'file', 'cache');
      const r = spawnSync(NODE, ['cli/bin/warm-cache.js'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...env, HETU_COMPILE_CACHE: bad },
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^The compile cache ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be turned on \\(.+\\): make it writable by this user, or set HETU_COMPILE_CACHE to a directory that is\\.\n$`,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
