/**
 * In-cluster configuration against the real API server + kwok (issue G, item 1): the collectors run
 * as a pod runs them — KUBERNETES_SERVICE_HOST/PORT and a service account's token and CA as files
 * (here in a temp dir instead of /var/run/secrets/kubernetes.io/serviceaccount) — with the
 * rights of the chart's read-only role only. Pods arrive; a kind the role does not grant is a
 * status; a rotated token file is read again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createKubeCollector, kubeAccess } from '@hetu/producers/kube';
import { kubeRequest, waitUntil } from '../../infra/src/index.ts';
import { useKubeStack } from './testing-kube.ts';
import { createCatalogueTopics, openBackend } from './backend.ts';
import { parseGlobalConfig } from './config.ts';

describe('the collectors with in-cluster configuration', () => {
  const stack = useKubeStack('in-cluster');

  it('list and watch with the service account token and CA files, and read a rotated token again', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(stack.kube.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: 'hetu' } } });
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    await core.createNamespacedServiceAccount({
      namespace: 'hetu',
      body: { metadata: { name: 'collector' } },
    });
    // pods and namespaces only: every other kind is forbidden for this account
    await rbac.createClusterRole({
      body: {
        metadata: { name: 'in-cluster-pods' },
        rules: [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'in-cluster-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'in-cluster-pods' },
        subjects: [{ kind: 'ServiceAccount', name: 'collector', namespace: 'hetu' }],
      },
    });
    const token = async (): Promise<string> => {
      const tr = await kubeRequest(
        stack.kube,
        'POST',
        '/api/v1/namespaces/hetu/serviceaccounts/collector/token',
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3600 },
        },
      );
      return (JSON.parse(tr.text) as { status: { token: string } }).status.token;
    };
    const sa = join(stack.dir, 'serviceaccount');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), await token());
    writeFileSync(join(sa, 'ca.crt'), stack.kube.ca);
    const server = new URL(stack.kube.server);
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = server.hostname;
    process.env.KUBERNETES_SERVICE_PORT = server.port;
    const backend = await openBackend(parseGlobalConfig({ dataDir: join(stack.dir, 'data') }, {}));
    try {
      await createCatalogueTopics(backend.log);
      await core.createNamespacedPod({
        namespace: 'shop',
        body: {
          metadata: { name: 'cart' },
          spec: { containers: [{ name: 'app', image: 'registry.example/cart:1' }] },
        },
      });
      const collector = createKubeCollector({
        inCluster: true,
        serviceAccountDir: sa,
        cluster: 'it',
        log: backend.log,
        serde: backend.serde,
      });
      await collector.start();
      try {
        await waitUntil(
          'the Pod watch with the service account',
          () => {
            const pods = collector.status().kinds.find((k) => k.kind === 'Pod');
            return pods?.state === 'watching' && pods.objects >= 1;
          },
          { timeoutMs: 60_000 },
        );
        const kinds = collector.status().kinds;
        expect(kinds.find((k) => k.kind === 'Namespace')!.state).toBe('watching');
        const nodes = kinds.find((k) => k.kind === 'Node')!;
        expect(nodes.state).toBe('forbidden');
        expect(nodes.message).toContain('system:serviceaccount:hetu:collector');
        // the pod is in the log (keyed by its workload), observed with the account's rights
        const [info] = await backend.log.describeTopics(['hetu.raw.kube']);
        const keys: string[] = [];
        for (const p of info!.partitions)
          for (const r of await backend.log.read('hetu.raw.kube', p.partition)) keys.push(r.key!.toString());
        expect(keys).toContain('it/shop/cart');
        expect(keys).toContain('it/Namespace/shop');
      } finally {
        await collector.close();
      }

      // the token file is read again once it changes (kubelet rotates projected tokens)
      const access = kubeAccess({ inCluster: true, serviceAccountDir: sa });
      expect(access.context).toBe('inClusterContext');
      expect(access.server.origin).toBe(server.origin);
      const header = async (): Promise<unknown> => {
        const o: { headers?: Record<string, unknown> } = {};
        await access.applyTo(o as never);
        return o.headers?.['authorization'];
      };
      const first = await header();
      const rotated = await token();
      writeFileSync(join(sa, 'token'), `${rotated}\n`);
      expect(first).not.toBe(`Bearer ${rotated}`);
      expect(await header()).toBe(`Bearer ${rotated}`);
    } finally {
      process.env.KUBERNETES_SERVICE_HOST = saved.host;
      process.env.KUBERNETES_SERVICE_PORT = saved.port;
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      await backend.close();
    }
  }, 300_000);
});
