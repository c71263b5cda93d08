/**
 * `hetu doctor` against the real API server + kwok (issue H, item 4): the admin's credentials pass
 * every RBAC check; a ServiceAccount allowed only pods and namespaces fails with the denied
 * resources named and the exact fix.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { useKubeStack } from './testing-kube.ts';
import { kubeRequest } from '../../infra/src/index.ts';
import { parseGlobalConfig } from './config.ts';
import { runDoctor } from './commands/doctor.ts';

describe('hetu doctor on a real API server', () => {
  const stack = useKubeStack('doctor-int');

  const kubeChecks = async (kubeconfig: string) =>
    (
      await runDoctor(parseGlobalConfig({ dataDir: join(stack.dir, 'data') }, {}), {
        host: '127.0.0.1',
        port: 0,
        kubeconfig,
      })
    ).filter((c) => c.check.startsWith('kube'));

  it('passes every RBAC check with the admin, and names what a limited ServiceAccount may not do', async () => {
    const admin = await kubeChecks(stack.kube.kubeconfig);
    expect(admin.map((c) => [c.check, c.status])).toEqual([
      ['kube context', 'ok'],
      ['kube api', 'ok'],
      ['kube rbac', 'ok'],
    ]);
    expect(admin[1]!.detail).toContain('Kubernetes v1.37.2');
    expect(admin[2]!.detail).toBe('allowed: get/list/watch on 21 kinds and get pods/log (64 reviews)');

    const kc = new k8s.KubeConfig();
    kc.loadFromFile(stack.kube.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: 'ops' } } });
    await core.createNamespacedServiceAccount({ namespace: 'ops', body: { metadata: { name: 'limited' } } });
    await rbac.createClusterRole({
      body: {
        metadata: { name: 'doctor-limited' },
        rules: [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'doctor-limited' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'doctor-limited' },
        subjects: [{ kind: 'ServiceAccount', name: 'limited', namespace: 'ops' }],
      },
    });
    const tr = await kubeRequest(stack.kube, 'POST', '/api/v1/namespaces/ops/serviceaccounts/limited/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    const token = (JSON.parse(tr.text) as { status: { token: string } }).status.token;
    const limited = join(stack.dir, 'limited.kubeconfig');
    writeFileSync(
      limited,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: it, cluster: {server: "${stack.kube.server}", certificate-authority-data: "${Buffer.from(stack.kube.ca).toString('base64')}"}}]`,
        `users: [{name: limited, user: {token: "${token}"}}]`,
        'contexts: [{name: limited, context: {cluster: it, user: limited}}]',
        'current-context: limited',
      ].join('\n'),
    );
    const checks = await kubeChecks(limited);
    expect(checks.map((c) => [c.check, c.status])).toEqual([
      ['kube context', 'ok'],
      ['kube api', 'ok'],
      ['kube rbac', 'fail'],
    ]);
    const rbacCheck = checks[2]!;
    // 19 kinds × 3 verbs + pods/log denied; pods and namespaces allowed.
    expect(rbacCheck.detail).toMatch(/^denied 58 of 64: /);
    expect(rbacCheck.detail).toContain('get nodes');
    expect(rbacCheck.detail).not.toContain('pods,');
    expect(rbacCheck.fix).toBe(
      'Bind the read-only ClusterRole of the Helm chart (infra/helm/hetu, templates/rbac.yaml) to these credentials, or grant get/list/watch on those resources and get on pods/log.',
    );
  }, 300_000);
});
