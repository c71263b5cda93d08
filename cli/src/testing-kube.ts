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
