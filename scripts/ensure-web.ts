/**
 * Builds the dashboard (web/dist) when it is missing or older than its sources, so `npm start`
 * serves a current dashboard on a fresh clone. `npm start` runs it before `hetu start`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('../web', import.meta.url));

/** Newest modification time (ms) of a file or of the files under a directory; 0 when absent. */
export function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

/** Why web/dist needs a build, or null when it is current. */
export function staleReason(web = WEB): string | null {
  const built = join(web, 'dist', 'index.html');
  if (!existsSync(built)) return 'web/dist is missing';
  const builtAt = statSync(built).mtimeMs;
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(web, p));
  return sources.some((p) => newest(p) > builtAt) ? 'web/src changed since web/dist was built' : null;
}

/** Builds web/dist when stale; returns whether it built. Throws when the build fails. */
export function ensureWeb(web = WEB, out: NodeJS.WritableStream = process.stderr): boolean {
  const reason = staleReason(web);
  if (reason === null) return false;
  out.write(`${reason}: building the dashboard (npm run build:web)…\n`);
  const res = spawnSync('npm', ['run', 'build:web', '--silent'], {
    cwd: join(web, '..'),
    // A production build whatever the caller's NODE_ENV (vitest sets "test", which would make
    // Vite bundle React's development build).
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (res.status !== 0)
    throw new Error(
      `Building the dashboard failed (npm run build:web exited ${res.status ?? res.signal}): run it yourself to see why.`,
    );
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    ensureWeb();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
