import { describe, expect, it } from 'vitest';
import type { PodCategory } from '../health/index.ts';
import { ded, ev, hardContainer, hardSpec, merge, pod, wellRunNamespace, workload } from './fixtures.ts';
import { scoreScope } from './score.ts';
import type { ScoringIncident, ScoringInput, ScoringWorkload } from './types.ts';

const API = 'workload:shop/Deployment/api';
const WEB = 'workload:shop/Deployment/web';
const PAY = 'workload:pay/Deployment/pay';

function at(input: ScoringInput, scope: string, rule: string): { points: number; count: number } | undefined {
  return ded(scoreScope(input, scope), rule);
}

function scaffold(): ScoringInput {
  return merge(wellRunNamespace('shop'), wellRunNamespace('pay'), {
    workloads: [workload('shop', 'api'), workload('shop', 'web'), workload('pay', 'pay')],
  });
}

describe('reliability pod rules at workload, namespace and cluster scope', () => {
  // api: 2 pods, web: 1 pod (+1 healthy), pay: 3 pods → shop 3, cluster 6.
  const podsIn = (category: PodCategory): ScoringInput =>
    merge(scaffold(), {
      pods: [
        pod('shop', 'api-1', 'api', [category]),
        pod('shop', 'api-2', 'api', [category]),
        pod('shop', 'web-1', 'web', [category]),
        pod('shop', 'web-2', 'web'),
        pod('pay', 'pay-1', 'pay', [category]),
        pod('pay', 'pay-2', 'pay', [category]),
        pod('pay', 'pay-3', 'pay', [category]),
      ],
    });

  it.each([
    // category, rule, api, web, shop, pay, cluster (points)
    ['crashloop', 'crashloop-pods', -20, -10, -30, -30, -30],
    ['oomkilled', 'oomkilled-pods', -10, -5, -15, -15, -20],
    ['pending', 'pending-pods', -6, -3, -9, -9, -15],
    ['evicted', 'evicted-pods', -6, -3, -9, -9, -15],
    ['imagepull', 'imagepull-pods', -10, -5, -15, -15, -15],
    ['init-failure', 'init-failure-pods', -10, -5, -15, -15, -15],
  ] as const)('%s → %s', (category, rule, api, web, shop, pay, cluster) => {
    const input = podsIn(category);
    expect(at(input, API, rule)).toEqual({ points: api, count: 2 });
    expect(at(input, WEB, rule)).toEqual({ points: web, count: 1 });
    expect(at(input, 'namespace:shop', rule)).toEqual({ points: shop, count: 3 });
    expect(at(input, 'namespace:pay', rule)).toEqual({ points: pay, count: 3 });
    expect(at(input, PAY, rule)).toEqual({ points: pay, count: 3 });
    expect(at(input, 'cluster', rule)).toEqual({ points: cluster, count: 6 });
    const s = scoreScope(input, 'cluster');
    expect(s.reliability).toBe(100 + cluster);
    expect(s.deductions.map((d) => d.rule)).toEqual([rule]);
  });

  it('a pod in several categories counts under each rule; other categories count under none', () => {
    const input = merge(scaffold(), {
      pods: [
        pod('shop', 'api-1', 'api', ['crashloop', 'oomkilled']),
        pod('shop', 'api-2', 'api', ['high-restarts']),
        pod('shop', 'api-3', 'api', ['completed']),
        pod('shop', 'api-4', 'api', ['failed']),
        pod('shop', 'api-5', 'api', ['terminating']),
      ],
    });
    const s = scoreScope(input, API);
    expect(s.deductions.map((d) => [d.rule, d.points, d.count])).toEqual([
      ['crashloop-pods', -10, 1],
      ['oomkilled-pods', -5, 1],
    ]);
    expect(s.reliability).toBe(85);
  });

  it('not-ready-nodes counts NotReady nodes at cluster scope only', () => {
    const node = (name: string, states: ('NotReady' | 'MemoryPressure')[]) => ({
      name,
      states,
      evidence: [ev(1)],
    });
    const one = merge(scaffold(), {
      nodes: [node('n1', ['NotReady']), node('n2', ['MemoryPressure']), node('n3', [])],
    });
    expect(at(one, 'cluster', 'not-ready-nodes')).toEqual({ points: -15, count: 1 });
    expect(at(one, 'namespace:shop', 'not-ready-nodes')).toBeUndefined();
    expect(at(one, API, 'not-ready-nodes')).toBeUndefined();
    const three = merge(scaffold(), {
      nodes: [node('n1', ['NotReady']), node('n2', ['NotReady']), node('n3', ['NotReady'])],
    });
    expect(at(three, 'cluster', 'not-ready-nodes')).toEqual({ points: -30, count: 3 });
    expect(scoreScope(three, 'cluster').reliability).toBe(70);
  });

  it('open-error-groups counts open groups at error level or above', () => {
    const group = (id: string, w: string, ns: string, level: string, status = 'open') => ({
      id,
      workload: { kind: 'Deployment', namespace: ns, name: w },
      title: `${id} title`,
      level,
      status,
      evidence: [ev(2)],
    });
    const input = merge(scaffold(), {
      errorGroups: [
        group('g1', 'api', 'shop', 'error'),
        group('g2', 'api', 'shop', 'fatal'),
        group('g3', 'api', 'shop', 'panic'),
        group('g4', 'api', 'shop', 'warn'),
        group('g5', 'api', 'shop', 'error', 'resolved'),
        group('g6', 'api', 'shop', 'error', 'ignored'),
        ...Array.from({ length: 9 }, (_, i) => group(`p${i}`, 'pay', 'pay', 'error')),
      ],
    });
    expect(at(input, API, 'open-error-groups')).toEqual({ points: -3, count: 3 });
    expect(at(input, WEB, 'open-error-groups')).toBeUndefined();
    expect(at(input, 'namespace:shop', 'open-error-groups')).toEqual({ points: -3, count: 3 });
    expect(at(input, 'namespace:pay', 'open-error-groups')).toEqual({ points: -9, count: 9 });
    expect(at(input, 'cluster', 'open-error-groups')).toEqual({ points: -10, count: 12 });
  });
});

describe('security pod-spec rules count workloads', () => {
  function spec(overrides: Partial<ScoringWorkload['podSpec']>): ScoringWorkload['podSpec'] {
    return { ...hardSpec(), ...overrides };
  }

  it('privileged-containers: a three-container privileged pod counts once; init containers count', () => {
    const priv = { name: 'x', securityContext: { privileged: true, readOnlyRootFilesystem: true } };
    const input = merge(wellRunNamespace('shop'), wellRunNamespace('pay'), {
      workloads: [
        workload('shop', 'api', {
          podSpec: spec({ containers: [priv, { ...priv, name: 'y' }, { ...priv, name: 'z' }] }),
        }),
        workload('shop', 'web', { podSpec: spec({ initContainers: [priv] }) }),
        workload('shop', 'ok', {
          podSpec: spec({
            containers: [{ name: 'a', securityContext: { privileged: false, readOnlyRootFilesystem: true } }],
          }),
        }),
        workload('pay', 'pay', { podSpec: spec({ containers: [priv] }) }),
      ],
    });
    expect(at(input, API, 'privileged-containers')).toEqual({ points: -15, count: 1 });
    expect(at(input, WEB, 'privileged-containers')).toEqual({ points: -15, count: 1 });
    expect(at(input, 'workload:shop/Deployment/ok', 'privileged-containers')).toBeUndefined();
    expect(at(input, 'namespace:shop', 'privileged-containers')).toEqual({ points: -30, count: 2 });
    expect(at(input, 'cluster', 'privileged-containers')).toEqual({ points: -30, count: 3 });
    const apiScore = scoreScope(input, API);
    expect(apiScore.security).toBe(85);
    expect(apiScore.deductions[0]?.resources[0]?.detail).toBe('privileged: true on x, y, z');
  });

  it('root-containers: pod-level runAsNonRoot or runAsUser > 0 satisfies it; the container overrides the pod', () => {
    const c = hardContainer();
    const input = merge(wellRunNamespace('shop'), wellRunNamespace('pay'), {
      workloads: [
        // no runAs* anywhere → root
        workload('shop', 'api', { podSpec: { securityContext: {}, containers: [c] } }),
        // pod-level runAsNonRoot → fine
        workload('shop', 'nonroot', {
          podSpec: { securityContext: { runAsNonRoot: true }, containers: [c] },
        }),
        // pod-level runAsUser 1000 → fine
        workload('shop', 'uid', { podSpec: { securityContext: { runAsUser: 1000 }, containers: [c] } }),
        // container-level runAsUser 1000 → fine
        workload('shop', 'cuid', {
          podSpec: {
            containers: [{ name: 'a', securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true } }],
          },
        }),
        // pod runAsUser 0 → root
        workload('shop', 'uid0', { podSpec: { securityContext: { runAsUser: 0 }, containers: [c] } }),
        // pod says non-root, container overrides runAsNonRoot false → root
        workload('shop', 'override', {
          podSpec: {
            securityContext: { runAsNonRoot: true },
            containers: [
              c,
              { name: 'b', securityContext: { runAsNonRoot: false, readOnlyRootFilesystem: true } },
            ],
          },
        }),
        // pod runAsUser 1000 but container runAsUser 0 → root
        workload('pay', 'pay', {
          podSpec: {
            securityContext: { runAsUser: 1000 },
            containers: [{ name: 'a', securityContext: { runAsUser: 0, readOnlyRootFilesystem: true } }],
          },
        }),
        // root init container only → root
        workload('pay', 'init', {
          podSpec: {
            securityContext: { runAsUser: 1000 },
            containers: [c],
            initContainers: [{ name: 'i', securityContext: { runAsUser: 0 } }],
          },
        }),
      ],
    });
    expect(at(input, API, 'root-containers')).toEqual({ points: -10, count: 1 });
    for (const name of ['nonroot', 'uid', 'cuid']) {
      expect(at(input, `workload:shop/Deployment/${name}`, 'root-containers')).toBeUndefined();
    }
    expect(at(input, 'namespace:shop', 'root-containers')).toEqual({ points: -30, count: 3 });
    expect(at(input, 'namespace:pay', 'root-containers')).toEqual({ points: -20, count: 2 });
    expect(at(input, 'cluster', 'root-containers')).toEqual({ points: -30, count: 5 });
  });

  it('host-namespaces: hostNetwork, hostPID or hostIPC', () => {
    const input = merge(wellRunNamespace('shop'), {
      workloads: [
        workload('shop', 'api', { podSpec: spec({ hostNetwork: true, hostPID: true }) }),
        workload('shop', 'pid', { podSpec: spec({ hostPID: true }) }),
        workload('shop', 'ipc', { podSpec: spec({ hostIPC: true }) }),
        workload('shop', 'no', { podSpec: spec({ hostNetwork: false }) }),
      ],
    });
    expect(at(input, API, 'host-namespaces')).toEqual({ points: -10, count: 1 });
    expect(at(input, 'workload:shop/Deployment/no', 'host-namespaces')).toBeUndefined();
    expect(at(input, 'namespace:shop', 'host-namespaces')).toEqual({ points: -20, count: 3 });
    expect(at(input, 'cluster', 'host-namespaces')).toEqual({ points: -20, count: 3 });
    expect(scoreScope(input, API).deductions[0]?.resources[0]?.detail).toBe('hostNetwork, hostPID: true');
  });

  it('secrets-in-env: secretKeyRef, or a literal value under a secret-like name; never the value', () => {
    const env = (e: NonNullable<ScoringWorkload['podSpec']['containers'][number]['env']>) =>
      spec({ containers: [{ ...hardContainer(), env: e }] });
    const input = merge(wellRunNamespace('shop'), {
      workloads: [
        workload('shop', 'api', {
          podSpec: env([{ name: 'DB', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } }]),
        }),
        workload('shop', 'pw', { podSpec: env([{ name: 'DB_PASSWORD', value: 'hunter2' }]) }),
        workload('shop', 'key', { podSpec: env([{ name: 'stripe_api_key', value: 'sk_live' }]) }),
        workload('shop', 'tok', {
          podSpec: env([
            { name: 'GithubToken', value: 'ghp' },
            { name: 'API_TOKEN', value: 'x' },
          ]),
        }),
        workload('shop', 'plain', {
          podSpec: env([
            { name: 'USERNAME', value: 'bob' },
            { name: 'SECRET_FILE', value: '' },
          ]),
        }),
        workload('shop', 'cm', {
          podSpec: env([{ name: 'DB_PASSWORD', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }]),
        }),
      ],
    });
    expect(at(input, API, 'secrets-in-env')).toEqual({ points: -5, count: 1 });
    expect(at(input, 'workload:shop/Deployment/plain', 'secrets-in-env')).toBeUndefined();
    expect(at(input, 'workload:shop/Deployment/cm', 'secrets-in-env')).toBeUndefined();
    expect(at(input, 'namespace:shop', 'secrets-in-env')).toEqual({ points: -15, count: 4 });
    expect(at(input, 'cluster', 'secrets-in-env')).toEqual({ points: -15, count: 4 });
    const pw = scoreScope(input, 'workload:shop/Deployment/pw').deductions[0]?.resources[0]?.detail;
    expect(pw).toBe('app: DB_PASSWORD literal value');
    expect(JSON.stringify(scoreScope(input, 'cluster'))).not.toContain('hunter2');
  });

  it('writable-root-filesystem: any container (init included) without readOnlyRootFilesystem true', () => {
    const rw = { name: 'rw', securityContext: { readOnlyRootFilesystem: false } };
    const input = merge(wellRunNamespace('shop'), {
      workloads: [
        workload('shop', 'api', { podSpec: spec({ containers: [hardContainer(), rw] }) }),
        workload('shop', 'init', {
          podSpec: spec({ initContainers: [{ name: 'i', securityContext: { runAsUser: 1 } }] }),
        }),
        ...['a', 'b', 'c', 'd'].map((n) => workload('shop', n, { podSpec: spec({ containers: [rw] }) })),
        workload('shop', 'ok', { podSpec: hardSpec() }),
      ],
    });
    expect(at(input, API, 'writable-root-filesystem')).toEqual({ points: -2, count: 1 });
    expect(at(input, 'workload:shop/Deployment/ok', 'writable-root-filesystem')).toBeUndefined();
    expect(at(input, 'namespace:shop', 'writable-root-filesystem')).toEqual({ points: -10, count: 6 });
    expect(at(input, 'cluster', 'writable-root-filesystem')).toEqual({ points: -10, count: 6 });
  });

  it('missing-security-context: a container without one while the pod has none ({} is none)', () => {
    const bare = { name: 'bare' };
    const input = merge(wellRunNamespace('shop'), {
      workloads: [
        workload('shop', 'api', { podSpec: { securityContext: {}, containers: [bare] } }),
        workload('shop', 'empty', {
          podSpec: { containers: [{ name: 'e', securityContext: {} }, hardContainer()] },
        }),
        // the pod has one → not counted, even though the container has none
        workload('shop', 'podlevel', {
          podSpec: { securityContext: { runAsNonRoot: true }, containers: [bare] },
        }),
        // every container has one → not counted
        workload('shop', 'ok', { podSpec: { containers: [hardContainer()] } }),
      ],
    });
    expect(at(input, API, 'missing-security-context')).toEqual({ points: -2, count: 1 });
    expect(at(input, 'workload:shop/Deployment/podlevel', 'missing-security-context')).toBeUndefined();
    expect(at(input, 'workload:shop/Deployment/ok', 'missing-security-context')).toBeUndefined();
    expect(at(input, 'namespace:shop', 'missing-security-context')).toEqual({ points: -4, count: 2 });
    const many = merge(wellRunNamespace('shop'), {
      workloads: Array.from({ length: 6 }, (_, i) =>
        workload('shop', `w${i}`, { podSpec: { containers: [bare] } }),
      ),
    });
    expect(at(many, 'cluster', 'missing-security-context')).toEqual({ points: -10, count: 6 });
  });

  it('cluster-admin-bindings: ClusterRoleBindings of cluster-admin to a ServiceAccount, cluster scope only', () => {
    const crb = (name: string, role: string, kind: string) => ({
      name,
      roleRef: { kind: 'ClusterRole', name: role, apiGroup: 'rbac.authorization.k8s.io' },
      subjects: [{ kind, name: 'x', namespace: 'shop' }],
      evidence: [ev(3)],
    });
    const input = merge(scaffold(), {
      clusterRoleBindings: [
        crb('a', 'cluster-admin', 'ServiceAccount'),
        crb('b', 'cluster-admin', 'ServiceAccount'),
        crb('c', 'cluster-admin', 'ServiceAccount'),
        crb('masters', 'cluster-admin', 'Group'),
        crb('view', 'view', 'ServiceAccount'),
      ],
    });
    expect(at(input, 'cluster', 'cluster-admin-bindings')).toEqual({ points: -20, count: 3 });
    expect(at(input, 'namespace:shop', 'cluster-admin-bindings')).toBeUndefined();
    expect(at(input, API, 'cluster-admin-bindings')).toBeUndefined();
    const one = merge(scaffold(), { clusterRoleBindings: [crb('a', 'cluster-admin', 'ServiceAccount')] });
    expect(at(one, 'cluster', 'cluster-admin-bindings')).toEqual({ points: -10, count: 1 });
    expect(scoreScope(one, 'cluster').deductions[0]?.resources[0]?.detail).toBe(
      'grants cluster-admin to ServiceAccount shop/x',
    );
  });

  it('wildcard-rbac: ClusterRoles with * in verbs or resources, not the bootstrapping defaults', () => {
    const role = (
      name: string,
      rules: { verbs?: string[]; resources?: string[]; apiGroups?: string[]; nonResourceURLs?: string[] }[],
      labels?: Record<string, string>,
    ) => ({
      name,
      rules,
      ...(labels === undefined ? {} : { labels }),
      evidence: [ev(4)],
    });
    const input = merge(scaffold(), {
      clusterRoles: [
        role('verbs', [{ verbs: ['*'], resources: ['pods'] }]),
        role('res', [{ verbs: ['get'], resources: ['*'] }]),
        role('both', [
          { verbs: ['get'], resources: ['pods'] },
          { verbs: ['*'], resources: ['*'] },
        ]),
        role('groups-only', [{ verbs: ['get'], resources: ['pods'], apiGroups: ['*'] }]),
        role('urls', [{ verbs: ['get'], nonResourceURLs: ['*'] }]),
        role('cluster-admin', [{ verbs: ['*'], resources: ['*'] }], {
          'kubernetes.io/bootstrapping': 'rbac-defaults',
        }),
      ],
    });
    expect(at(input, 'cluster', 'wildcard-rbac')).toEqual({ points: -9, count: 3 });
    expect(at(input, 'namespace:shop', 'wildcard-rbac')).toBeUndefined();
    const detail = scoreScope(input, 'cluster').deductions[0]?.resources.map((r) => [r.name, r.detail]);
    expect(detail).toEqual([
      ['both', 'rule 2: verbs *, resources *'],
      ['res', 'rule 1: resources *'],
      ['verbs', 'rule 1: verbs *'],
    ]);
    const four = merge(input, { clusterRoles: [role('four', [{ verbs: ['*'] }])] });
    expect(at(four, 'cluster', 'wildcard-rbac')).toEqual({ points: -10, count: 4 });
  });
});

describe('namespace rules: namespace and cluster scope, system namespaces excluded', () => {
  const ns = (name: string) => ({ name, evidence: [ev(5)] });
  const obj = (namespace: string) => [{ namespace, name: 'x', evidence: [ev(6)] }];
  const input: ScoringInput = {
    namespaces: ['a', 'b', 'c', 'd', 'e', 'covered', 'kube-system', 'kube-public', 'kube-node-lease'].map(ns),
    networkPolicies: obj('covered'),
    resourceQuotas: obj('covered'),
    limitRanges: obj('covered'),
    workloads: [workload('a', 'api')],
  };

  it.each([
    ['namespaces-without-network-policy', -5, -20],
    ['namespaces-without-resourcequota', -5, -15],
    ['namespaces-without-limitrange', -3, -10],
  ])('%s', (rule, namespacePoints, clusterPoints) => {
    expect(at(input, 'namespace:a', rule)).toEqual({ points: namespacePoints, count: 1 });
    expect(at(input, 'namespace:covered', rule)).toBeUndefined();
    expect(at(input, 'namespace:kube-system', rule)).toBeUndefined();
    expect(at(input, 'workload:a/Deployment/api', rule)).toBeUndefined();
    expect(at(input, 'cluster', rule)).toEqual({ points: clusterPoints, count: 5 });
  });

  it('a NetworkPolicy anywhere in the namespace covers it; two namespaces → 10 (below the cap)', () => {
    const two: ScoringInput = { namespaces: [ns('a'), ns('b')], networkPolicies: obj('b') };
    expect(at(two, 'cluster', 'namespaces-without-network-policy')).toEqual({ points: -5, count: 1 });
    const noPolicies: ScoringInput = { namespaces: [ns('a'), ns('b')] };
    expect(at(noPolicies, 'cluster', 'namespaces-without-network-policy')).toEqual({ points: -10, count: 2 });
    expect(at(noPolicies, 'cluster', 'namespaces-without-resourcequota')).toEqual({ points: -10, count: 2 });
    expect(at(noPolicies, 'cluster', 'namespaces-without-limitrange')).toEqual({ points: -6, count: 2 });
    const s = scoreScope(noPolicies, 'cluster');
    expect([s.security, s.architecture]).toEqual([90, 84]);
  });
});

describe('cost: rightsizing-opportunities', () => {
  it('counts open rightsizing recommendations, 2 each, cap 20', () => {
    const rec = (id: string, ns: string, w: string, status = 'open', type = 'rightsizing') => ({
      id,
      type,
      status,
      workload: { kind: 'Deployment', namespace: ns, name: w },
      evidence: [ev(7)],
    });
    const input = merge(scaffold(), {
      recommendations: [
        rec('r1', 'shop', 'api'),
        rec('r2', 'shop', 'api'),
        rec('r3', 'shop', 'web', 'dismissed'),
        rec('r4', 'shop', 'web', 'open', 'hpa-at-max'),
        ...Array.from({ length: 9 }, (_, i) => rec(`p${i}`, 'pay', 'pay')),
      ],
    });
    expect(at(input, API, 'rightsizing-opportunities')).toEqual({ points: -4, count: 2 });
    expect(at(input, WEB, 'rightsizing-opportunities')).toBeUndefined();
    expect(at(input, 'namespace:shop', 'rightsizing-opportunities')).toEqual({ points: -4, count: 2 });
    expect(at(input, 'namespace:pay', 'rightsizing-opportunities')).toEqual({ points: -18, count: 9 });
    expect(at(input, 'cluster', 'rightsizing-opportunities')).toEqual({ points: -20, count: 11 });
    expect(scoreScope(input, 'cluster').cost).toBe(80);
  });
});

describe('architecture rules', () => {
  it('active-anomalies: open episodes, at the scope they name', () => {
    const anomaly = (id: string, scope: { namespace?: string; workload?: string }, status = 'open') => ({
      id,
      title: `${id} z=5`,
      status,
      ...(scope.namespace === undefined ? {} : { namespace: scope.namespace }),
      ...(scope.workload === undefined
        ? {}
        : { workload: { kind: 'Deployment', namespace: scope.namespace ?? '', name: scope.workload } }),
      evidence: [ev(8)],
    });
    const input = merge(scaffold(), {
      anomalies: [
        anomaly('a1', { namespace: 'shop', workload: 'api' }),
        anomaly('a2', { namespace: 'shop', workload: 'api' }),
        anomaly('a3', { namespace: 'shop' }),
        anomaly('a4', {}),
        anomaly('a5', {}),
        anomaly('a6', { namespace: 'shop', workload: 'api' }, 'closed'),
      ],
    });
    expect(at(input, API, 'active-anomalies')).toEqual({ points: -10, count: 2 });
    expect(at(input, WEB, 'active-anomalies')).toBeUndefined();
    expect(at(input, 'namespace:shop', 'active-anomalies')).toEqual({ points: -15, count: 3 });
    expect(at(input, 'namespace:pay', 'active-anomalies')).toBeUndefined();
    expect(at(input, 'cluster', 'active-anomalies')).toEqual({ points: -20, count: 5 });
  });

  it('open-incidents: each incident once per scope it touches', () => {
    const wl = (ns: string, name: string) => ({
      namespace: ns,
      workload: { kind: 'Deployment', namespace: ns, name },
    });
    const incident = (id: string, scopes: ScoringIncident['scopes'], status = 'open'): ScoringIncident => ({
      id,
      title: id,
      status,
      scopes,
      evidence: [ev(9)],
    });
    const input = merge(scaffold(), {
      incidents: [
        incident('A', [wl('shop', 'api'), wl('shop', 'web'), wl('pay', 'pay')]),
        incident('B', []),
        incident('C', [wl('shop', 'api')], 'resolved'),
        incident('D', [{ namespace: 'shop' }], 'investigating'),
        incident('E', [wl('pay', 'pay')], 'dismissed'),
      ],
    });
    expect(at(input, API, 'open-incidents')).toEqual({ points: -2, count: 1 });
    expect(at(input, WEB, 'open-incidents')).toEqual({ points: -2, count: 1 });
    expect(at(input, PAY, 'open-incidents')).toEqual({ points: -2, count: 1 });
    expect(at(input, 'namespace:shop', 'open-incidents')).toEqual({ points: -4, count: 2 });
    expect(at(input, 'namespace:pay', 'open-incidents')).toEqual({ points: -2, count: 1 });
    expect(at(input, 'cluster', 'open-incidents')).toEqual({ points: -6, count: 3 });
    const many = merge(scaffold(), {
      incidents: Array.from({ length: 11 }, (_, i) => incident(`I${i}`, [wl('shop', 'api')])),
    });
    expect(at(many, 'cluster', 'open-incidents')).toEqual({ points: -20, count: 11 });
    expect(at(many, API, 'open-incidents')).toEqual({ points: -20, count: 11 });
  });

  it('single-replica-workloads: Deployments and StatefulSets with 1 desired replica outside system namespaces', () => {
    const input = merge(wellRunNamespace('shop'), wellRunNamespace('pay'), {
      workloads: [
        workload('shop', 'api', { replicas: 1 }),
        workload('shop', 'db', { kind: 'StatefulSet', replicas: null }), // absent → API default 1
        workload('shop', 'web', { replicas: 3 }),
        workload('shop', 'zero', { replicas: 0 }),
        workload('shop', 'agent', { kind: 'DaemonSet', replicas: null }),
        workload('shop', 'job', { kind: 'CronJob', replicas: null }),
        workload('kube-system', 'coredns', { replicas: 1 }),
        ...['a', 'b', 'c', 'd'].map((n) => workload('pay', n, { replicas: 1 })),
      ],
    });
    expect(at(input, API, 'single-replica-workloads')).toEqual({ points: -2, count: 1 });
    expect(at(input, 'workload:shop/StatefulSet/db', 'single-replica-workloads')).toEqual({
      points: -2,
      count: 1,
    });
    expect(at(input, WEB, 'single-replica-workloads')).toBeUndefined();
    expect(at(input, 'workload:kube-system/Deployment/coredns', 'single-replica-workloads')).toBeUndefined();
    expect(at(input, 'namespace:shop', 'single-replica-workloads')).toEqual({ points: -4, count: 2 });
    expect(at(input, 'namespace:pay', 'single-replica-workloads')).toEqual({ points: -8, count: 4 });
    expect(at(input, 'cluster', 'single-replica-workloads')).toEqual({ points: -10, count: 6 });
  });
});

describe('system namespaces and pod-spec rules', () => {
  it('pod-spec security rules still count in kube-system (SPEC excludes system namespaces only for namespace rules and single-replica)', () => {
    const input: ScoringInput = {
      workloads: [
        workload('kube-system', 'kube-proxy', {
          kind: 'DaemonSet',
          podSpec: { ...hardSpec(), hostNetwork: true },
        }),
      ],
    };
    expect(at(input, 'cluster', 'host-namespaces')).toEqual({ points: -10, count: 1 });
  });
});
