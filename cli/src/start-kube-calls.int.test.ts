/**
 * Which workloads fail together, as the real API server shows them (docs/incidents.md "Calls named
 * in the pod template" and "Which workload a Service stands for"): `hetu start` watching etcd +
 * kube-apiserver + kwok, Deployments and their pods created through the API.
 */
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { startHetu, useKubeStack } from './testing-kube.ts';
import { SIM_MODE_LABEL } from '../../infra/src/index.ts';

interface IncidentView {
  title: string;
  workloads: { kind: string; namespace: string; name: string }[];
}

describe('hetu start on a cluster: calls from the pod template, through a Service', () => {
  const stack = useKubeStack('start-kube-calls');

  it("a caller's crash joins its dependency's incident through the Service its env names, also when both failed before hetu started; an unrelated one stands apart", async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(stack.kube.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const node = stack.kube.nodes[0]!;

    /** A Deployment and its ReplicaSet (no controller-manager here); `crash()` adds a crash-looping pod of it. */
    const deployment = async (ns: string, name: string, env: k8s.V1EnvVar[] = []) => {
      const container = { name: 'app', image: `registry.example/${name}:1.0`, env };
      const dep = await apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name, tier: 'backend' } },
              spec: { containers: [container] },
            },
          },
        },
      });
      const hash = '5d8f7c9b4';
      const rs = await apps.createNamespacedReplicaSet({
        namespace: ns,
        body: {
          metadata: {
            name: `${name}-${hash}`,
            labels: { app: name, 'pod-template-hash': hash },
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: dep.metadata!.uid!, controller: true },
            ],
          },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: name, 'pod-template-hash': hash } },
            template: {
              metadata: { labels: { app: name, 'pod-template-hash': hash } },
              spec: { containers: [container] },
            },
          },
        },
      });
      return () =>
        core.createNamespacedPod({
          namespace: ns,
          body: {
            metadata: {
              name: `${name}-${hash}-x2k9q`,
              labels: {
                app: name,
                tier: 'backend',
                'pod-template-hash': hash,
                [SIM_MODE_LABEL]: 'crashloop',
              },
              ownerReferences: [
                {
                  apiVersion: 'apps/v1',
                  kind: 'ReplicaSet',
                  name: `${name}-${hash}`,
                  uid: rs.metadata!.uid!,
                  controller: true,
                },
              ],
            },
            spec: { nodeName: node, containers: [container] },
          },
        });
    };

    for (const ns of ['payments', 'shop', 'batch', 'billing', 'web'])
      await core.createNamespace({ body: { metadata: { name: ns } } });
    const service = (ns: string, name: string, app: string) =>
      core.createNamespacedService({
        namespace: ns,
        body: { metadata: { name }, spec: { selector: { app }, ports: [{ port: 8080 }] } },
      });
    // Already failing when hetu starts: invoices behind Service invoices-api, frontend's env names it.
    await service('billing', 'invoices-api', 'invoices');
    for (const crash of [
      await deployment('billing', 'invoices'),
      await deployment('web', 'frontend', [
        { name: 'BILLING_URL', value: 'http://invoices-api.billing.svc:8080' },
      ]),
    ])
      await crash();
    // Failing once hetu watches: ledger behind Service ledger-api (another name); api's env names
    // that Service; worker names nothing.
    await service('payments', 'ledger-api', 'ledger');
    const crashes = [
      await deployment('payments', 'ledger'),
      await deployment('shop', 'api', [
        { name: 'LEDGER_URL', value: 'http://ledger-api.payments.svc.cluster.local:8080' },
      ]),
      await deployment('batch', 'worker', [{ name: 'MODE', value: 'ledger' }]),
    ];

    const hetu = await startHetu(stack);
    const incidents = async (): Promise<IncidentView[]> =>
      (
        await hetu.query<{ incidents: { nodes: IncidentView[] } }>(
          '{ incidents(cluster: "it") { nodes { title workloads { kind namespace name } } } }',
        )
      )?.incidents.nodes ?? [];
    const names = (i: IncidentView) => i.workloads.map((w) => `${w.kind}/${w.namespace}/${w.name}`).sort();
    try {
      // hetu has seen the templates and the Service (the workloads are in the API); then the pods
      // start, and crash-loop (kwok).
      for (let deadline = Date.now() + 120_000; ; ) {
        const w = await hetu.query<{ workloads: { nodes: { name: string }[] } }>(
          '{ workloads(cluster: "it", first: 100) { nodes { name } } }',
        );
        const have = new Set(w?.workloads.nodes.map((n) => n.name));
        if (['ledger', 'api', 'worker'].every((n) => have.has(n))) break;
        if (Date.now() > deadline)
          throw new Error(`the workloads are not in the API within 120 s; hetu said:\n${hetu.out()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      for (const crash of crashes) await crash();
      const deadline = Date.now() + 180_000;
      let seen: IncidentView[] = [];
      for (;;) {
        seen = await incidents();
        const all = new Set(seen.flatMap(names));
        if (
          [
            'Deployment/payments/ledger',
            'Deployment/shop/api',
            'Deployment/batch/worker',
            'Deployment/billing/invoices',
            'Deployment/web/frontend',
          ].every((w) => all.has(w))
        )
          break;
        if (Date.now() > deadline)
          throw new Error(
            `not every workload in an incident within 180 s: ${JSON.stringify(seen)}; hetu said:\n${hetu.out()}`,
          );
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(seen.map(names).sort()).toEqual([
        ['Deployment/batch/worker'],
        ['Deployment/billing/invoices', 'Deployment/web/frontend'],
        ['Deployment/payments/ledger', 'Deployment/shop/api'],
      ]);
    } finally {
      await hetu.stop();
    }
  }, 420_000);
});
