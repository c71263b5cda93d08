/**
 * The real Kubernetes test stack (etcd + kube-apiserver + kwok from `npm run infra:fetch`) for a
 * cli int test file: started in `beforeAll`, stopped in `afterAll`, with a temp dir of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { killStaleProcesses, locateKube, startKube, type KubeHandle } from '../../infra/src/index.ts';
import { runStart } from './commands/start.ts';
import { parseGlobalConfig } from './config.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface KubeStack {
  /** The running stack (set in beforeAll). */
  readonly kube: KubeHandle;
  /** A temp dir removed in afterAll. */
  readonly dir: string;
}

export function useKubeStack(name: string): KubeStack {
  const stack = {} as { kube: KubeHandle; dir: string };
  beforeAll(async () => {
    const layout = locateKube(ROOT);
    killStaleProcesses(layout.pidDir);
    stack.kube = await startKube({
      binDir: layout.binDir,
      pidDir: layout.pidDir,
      stagesDir: layout.stagesDir,
    });
    stack.dir = mkdtempSync(join(tmpdir(), `hetu-${name}-`));
  }, 300_000);
  afterAll(async () => {
    await stack.kube?.stop();
    if (stack.dir) rmSync(stack.dir, { recursive: true, force: true });
  }, 60_000);
  return stack;
}

/** `hetu start` on the stack's cluster (as cluster `it`), listening on a free port. */
export interface StartedHetu {
  /** What hetu printed so far. */
  out(): string;
  /** A GraphQL query's `data` (undefined when the answer has none). */
  query<T = Record<string, unknown>>(q: string): Promise<T | undefined>;
  /** Stops it (and gives it half a second to close). */
  stop(): Promise<void>;
}

export async function startHetu(stack: KubeStack): Promise<StartedHetu> {
  let out = '';
  const stop = new AbortController();
  let api = '';
  await new Promise<void>((resolve) => {
    void runStart(parseGlobalConfig({ dataDir: join(stack.dir, 'data') }, {}), {
      out: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
      signal: stop.signal,
      kube: { kubeconfig: stack.kube.kubeconfig },
      cluster: 'it',
      port: 0,
      onListening: (url) => {
        api = url;
        resolve();
      },
    }).catch((err: unknown) => {
      out += `runStart failed: ${String(err)}\n`;
      resolve();
    });
  });
  return {
    out: () => out,
    query: async <T>(q: string) => {
      const res = await fetch(`${api}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: q }),
      });
      return ((await res.json()) as { data?: T }).data;
    },
    stop: async () => {
      stop.abort();
      await new Promise((r) => setTimeout(r, 500));
    },
  };
}
