// `hetu run collect-kube collect-logs` as a real child process against the real test Kubernetes
// API server (etcd + kube-apiserver + kwok) and the test Kafka: two roles in one process, what
// they observe lands in the raw topics, and SIGTERM stops both cleanly (docs/roles.md).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { prefixedLog } from '@hetu/streams';
import { parseGlobalConfig } from './config.ts';
import { openBackend, type Backend } from './backend.ts';
import { useKubeStack } from './testing-kube.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Decoded watch observations of hetu.raw.kube in the namespace. */
async function watched(
  backend: Backend,
): Promise<{ kind: string; namespace: string | null; name: string | null; cluster: string }[]> {
  const out: { kind: string; namespace: string | null; name: string | null; cluster: string }[] = [];
  const [info] = await backend.log.describeTopics(['hetu.raw.kube']);
  for (const p of info?.partitions ?? []) {
    if (p.high <= p.low) continue;
    for (const r of await backend.log.read('hetu.raw.kube', p.partition)) {
      const v = await backend.serde.decode(r.value!, 'WatchObserved');
      out.push({ kind: v.kind, namespace: v.namespace, name: v.name, cluster: v.cluster });
    }
  }
  return out;
}

describe('hetu run with collector roles', () => {
  const stack = useKubeStack('run-collectors');

  it('collect-kube and collect-logs in one process write what they see, and stop on SIGTERM with exit 0', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(stack.kube.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    await core.createNamespacedPod({
      namespace: 'shop',
      body: {
        metadata: { name: 'api', labels: { app: 'api' } },
        spec: {
          nodeName: stack.kube.nodes[0]!,
          containers: [{ name: 'app', image: 'registry.example/api:1.0' }],
        },
      },
    });

    const prefix = `run-collect-${randomUUID().slice(0, 8)}.`;
    const child = spawn(
      process.execPath,
      [
        MAIN,
        '--kafka',
        inject('kafkaBrokers').join(','),
        '--registry',
        inject('schemaRegistryUrl'),
        'run',
        'collect-kube',
        'collect-logs',
        '--kubeconfig',
        stack.kube.kubeconfig,
        '--cluster',
        'it',
        '--topic-prefix',
        prefix,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const kafka = await openBackend(
      parseGlobalConfig(
        { kafka: inject('kafkaBrokers').join(','), registry: inject('schemaRegistryUrl') },
        {},
      ),
    );
    const ns: Backend = { ...kafka, log: prefixedLog(kafka.log, prefix) };
    try {
      const deadline = Date.now() + 120_000;
      // Both roles started (the process says so once each is up) ...
      while (!out.includes('hetu run: collect-kube, collect-logs running.')) {
        if (child.exitCode !== null) throw new Error(`hetu run exited early: ${out}\n${err}`);
        if (Date.now() > deadline) throw new Error(`hetu run did not start within 120 s: ${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      // ... and the pod reaches hetu.raw.kube.
      for (;;) {
        if (child.exitCode !== null) throw new Error(`hetu run exited early: ${out}\n${err}`);
        const seen = await watched(ns).catch(() => []);
        if (seen.some((w) => w.kind === 'Pod' && w.namespace === 'shop' && w.name === 'api')) {
          expect(new Set(seen.map((w) => w.cluster))).toEqual(new Set(['it']));
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`the pod shop/api was not observed within 120 s: ${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(out).toContain('hetu run collect-kube: cluster it on Kafka at');
      expect(out).toContain('hetu run collect-logs: cluster it on Kafka at');
      child.kill('SIGTERM');
      expect(await exit, err).toBe(0);
      expect(out).toContain('collect-kube stopped: buffered observations written');
      expect(out).toContain('collect-logs stopped: buffered observations written');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await kafka.close();
    }
  }, 300_000);
});
