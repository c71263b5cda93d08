/**
 * The Helm chart (issue G, item 6): rendered by a real helm and applied to the test API server;
 * the ServiceAccount's RBAC is read-only (checked with SubjectAccessReviews, as the authorizer
 * answers them), mode roles makes one Deployment per `hetu run` role (issue H, item 2), and a
 * chart without API tokens refuses to render.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killStaleProcesses, locateKube, startKube, type KubeHandle } from './index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HELM = join(ROOT, '.cache/infra/helm-v3.19.2/bin/helm');
const CHART = join(ROOT, 'infra/helm/hetu');
const NS = 'hetu';

function helm(args: string[]): string {
  if (!existsSync(HELM)) throw new Error(`helm is not in ${HELM}: run npm run infra:fetch.`);
  return execFileSync(HELM, args, { encoding: 'utf8' });
}

describe('the Helm chart on the test API server', () => {
  let kube: KubeHandle;
  let kc: k8s.KubeConfig;

  beforeAll(async () => {
    const layout = locateKube(ROOT);
    killStaleProcesses(layout.pidDir);
    kube = await startKube({ binDir: layout.binDir, pidDir: layout.pidDir, stagesDir: layout.stagesDir });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
  }, 300_000);

  afterAll(async () => {
    await kube?.stop();
  }, 60_000);

  it('renders, applies, and grants the collector read-only access (no Secrets, no ConfigMaps, no writes)', async () => {
    expect(
      spawnSync(HELM, ['lint', CHART, '--set', 'api.tokens.read=r', '--set', 'api.tokens.admin=a']).status,
    ).toBe(0);
    const text = helm([
      'template',
      'hetu',
      CHART,
      '--namespace',
      NS,
      '--set',
      'api.tokens.read=read-1',
      '--set',
      'api.tokens.admin=admin-1',
      '--set',
      'prometheus.url=http://prometheus.monitoring:9090',
    ]);
    const docs = k8s.loadAllYaml(text) as k8s.KubernetesObject[];
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'NetworkPolicy',
      'PersistentVolumeClaim',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    for (const d of docs) {
      if (d.metadata && !['ClusterRole', 'ClusterRoleBinding'].includes(d.kind!)) d.metadata.namespace = NS;
      await objects.create(d);
    }
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const dep = await apps.readNamespacedDeployment({ name: 'hetu', namespace: NS });
    const c = dep.spec!.template.spec!.containers[0]!;
    expect(c.args).toEqual(['start', '--host=0.0.0.0', '--port=4380', '--data-dir=/data', '--no-demo']);
    expect(c.resources).toEqual({
      requests: { cpu: '500m', memory: '512Mi' },
      limits: { cpu: '2', memory: '1536Mi' },
    });
    expect([c.readinessProbe?.httpGet?.path, c.livenessProbe?.httpGet?.path]).toEqual([
      '/readyz',
      '/healthz',
    ]);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.env?.find((e) => e.name === 'HETU_PROMETHEUS_URL')?.value).toBe(
      'http://prometheus.monitoring:9090',
    );
    expect(c.env?.find((e) => e.name === 'HETU_API_ADMIN_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: 'hetu-api-tokens',
      key: 'admin-token',
    });

    // What the API server's authorizer allows the chart's ServiceAccount.
    const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    const can = async (verb: string, resource: string, group = '', subresource?: string) =>
      (
        await authz.createSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: `system:serviceaccount:${NS}:hetu`,
              groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'],
              resourceAttributes: {
                verb,
                group,
                resource,
                ...(subresource ? { subresource } : {}),
                namespace: 'shop',
              },
            },
          },
        })
      ).status?.allowed === true;
    expect({
      'list pods': await can('list', 'pods'),
      'watch deployments': await can('watch', 'deployments', 'apps'),
      'get pods/log': await can('get', 'pods', '', 'log'),
      'list clusterrolebindings': await can('list', 'clusterrolebindings', 'rbac.authorization.k8s.io'),
      'watch endpointslices': await can('watch', 'endpointslices', 'discovery.k8s.io'),
      'get secrets': await can('get', 'secrets'),
      'list configmaps': await can('list', 'configmaps'),
      'create pods': await can('create', 'pods'),
      'delete deployments': await can('delete', 'deployments', 'apps'),
      'exec into pods': await can('create', 'pods', '', 'exec'),
    }).toEqual({
      'list pods': true,
      'watch deployments': true,
      'get pods/log': true,
      'list clusterrolebindings': true,
      'watch endpointslices': true,
      'get secrets': false,
      'list configmaps': false,
      'create pods': false,
      'delete deployments': false,
      'exec into pods': false,
    });
  }, 300_000);

  it('mode roles: one Deployment per role running `hetu run`, sized per role, the Service on the api', async () => {
    const ns = 'hetu-roles';
    const text = helm([
      'template',
      'hr',
      CHART,
      '--namespace',
      ns,
      '--set',
      'mode=roles',
      '--set',
      'api.tokens.read=read-1',
      '--set',
      'api.tokens.admin=admin-1',
      '--set',
      'kafka.brokers=kafka.data:9092',
      '--set',
      'registry.url=http://registry.data:8080/apis/ccompat/v7',
      '--set',
      'prometheus.url=http://prometheus.monitoring:9090',
      '--set',
      'llm.baseUrl=http://llm.ai:11434/v1',
      '--set',
      'llm.model=qwen3',
    ]);
    const docs = k8s.loadAllYaml(text) as k8s.KubernetesObject[];
    // Kafka holds the data: no volume claim.
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Deployment',
      'Deployment',
      'Deployment',
      'NetworkPolicy',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    for (const d of docs) {
      if (d.metadata && !['ClusterRole', 'ClusterRoleBinding'].includes(d.kind!)) d.metadata.namespace = ns;
      await objects.create(d);
    }
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const deployments = (await apps.listNamespacedDeployment({ namespace: ns })).items;
    const byRole = Object.fromEntries(
      deployments.map((d) => {
        const c = d.spec!.template.spec!.containers[0]!;
        return [
          d.metadata!.labels!['app.kubernetes.io/component'],
          {
            name: d.metadata!.name,
            replicas: d.spec!.replicas,
            args: c.args,
            requests: c.resources?.requests,
            limits: c.resources?.limits,
            probes: [c.readinessProbe?.httpGet?.path ?? null, c.livenessProbe?.httpGet?.path ?? null],
            kafka: c.env?.find((e) => e.name === 'HETU_KAFKA_BROKERS')?.value,
          },
        ];
      }),
    );
    const kafka = 'kafka.data:9092';
    expect(byRole).toEqual({
      collector: {
        name: 'hr-hetu-collector',
        replicas: 1,
        args: ['run', 'collect-kube', 'collect-logs', 'collect-metrics'],
        requests: { cpu: '500m', memory: '256Mi' },
        limits: { cpu: '500m', memory: '256Mi' },
        probes: [null, null],
        kafka,
      },
      analyzer: {
        name: 'hr-hetu-analyzer',
        replicas: 2,
        args: ['run', 'stages', '--host=0.0.0.0', '--metrics-port=9464'],
        requests: { cpu: '1', memory: '1Gi' },
        limits: { cpu: '1', memory: '1Gi' },
        probes: [null, null],
        kafka,
      },
      api: {
        name: 'hr-hetu-api',
        replicas: 1,
        args: ['run', 'api', '--host=0.0.0.0', '--port=4380', '--data-dir=/data'],
        requests: { cpu: '500m', memory: '256Mi' },
        limits: { cpu: '500m', memory: '256Mi' },
        probes: ['/readyz', '/healthz'],
        kafka,
      },
      'llm-worker': {
        name: 'hr-hetu-llm-worker',
        replicas: 1,
        args: ['run', 'llm-worker'],
        requests: { cpu: '250m', memory: '256Mi' },
        limits: { cpu: '250m', memory: '256Mi' },
        probes: [null, null],
        kafka,
      },
    });
    // The analyzers serve their stages' metrics on a named port Prometheus' pod discovery finds.
    const analyzer = deployments.find(
      (d) => d.metadata!.labels!['app.kubernetes.io/component'] === 'analyzer',
    )!;
    expect(analyzer.spec!.template.metadata!.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9464',
      'prometheus.io/path': '/metrics',
    });
    expect(analyzer.spec!.template.spec!.containers[0]!.ports).toEqual([
      { name: 'metrics', containerPort: 9464, protocol: 'TCP' },
    ]);
    // The collector never runs twice at once (two would record every observation twice).
    expect(deployments.find((d) => d.metadata!.name === 'hr-hetu-collector')!.spec!.strategy!.type).toBe(
      'Recreate',
    );
    const service = await core.readNamespacedService({ name: 'hr-hetu', namespace: ns });
    expect(service.spec!.selector).toEqual({
      'app.kubernetes.io/name': 'hetu',
      'app.kubernetes.io/instance': 'hr',
      'app.kubernetes.io/component': 'api',
    });

    const noKafka = spawnSync(
      HELM,
      [
        'template',
        'hr',
        CHART,
        '--set',
        'mode=roles',
        '--set',
        'api.tokens.read=r',
        '--set',
        'api.tokens.admin=a',
      ],
      { encoding: 'utf8' },
    );
    expect(noKafka.status).not.toBe(0);
    expect(noKafka.stderr).toContain(
      'mode roles runs every role as its own process, which needs Kafka: set kafka.brokers and registry.url, or use mode allInOne (the embedded log).',
    );
  }, 300_000);

  /** `helm template` of mode roles with Kafka, the registry and Prometheus set, and `extra`. */
  const rolesTemplate = (extra: string[]) =>
    helm([
      'template',
      'hr',
      CHART,
      '--set',
      'mode=roles',
      '--set',
      'api.tokens.read=r',
      '--set',
      'api.tokens.admin=a',
      '--set',
      'kafka.brokers=kafka.data:9092',
      '--set',
      'registry.url=http://registry.data:8080/apis/ccompat/v7',
      '--set',
      'prometheus.url=http://prometheus.monitoring:9090',
      ...extra,
    ]);
  const deploymentsOf = (text: string) =>
    (k8s.loadAllYaml(text) as k8s.KubernetesObject[]).filter(
      (d) => d.kind === 'Deployment',
    ) as k8s.V1Deployment[];
  /** The collector Deployments of a rendering: name, args, strategy, replicas, limits. */
  const collectorsOf = (text: string) =>
    deploymentsOf(text)
      .filter((d) => d.metadata!.labels!['app.kubernetes.io/component']!.startsWith('collect'))
      .map((d) => {
        const c = d.spec!.template.spec!.containers[0]!;
        return {
          name: d.metadata!.name,
          args: c.args,
          strategy: d.spec!.strategy!.type,
          replicas: d.spec!.replicas,
          limits: c.resources?.limits,
        };
      });
  const sized = { strategy: 'Recreate', replicas: 1, limits: { cpu: '500m', memory: '256Mi' } };

  it('mode roles with roles.collector.split: a Deployment per collector, each sized as the collector', () => {
    const text = rolesTemplate(['--set', 'roles.collector.split=true']);
    const each = (role: string) => ({ name: `hr-hetu-${role}`, args: ['run', role], ...sized });
    expect(collectorsOf(text)).toEqual([each('collect-kube'), each('collect-logs'), each('collect-metrics')]);
    const names = deploymentsOf(text).map((d) => d.metadata!.name);
    expect(names).not.toContain('hr-hetu-collector');
    expect(names).toContain('hr-hetu-analyzer');
  });

  it('mode roles with roles.collector.logShards: collect-logs in that many Deployments, each with its --shard', () => {
    const shards = [0, 1, 2].map((i) => ({
      name: `hr-hetu-collect-logs-${i}`,
      args: ['run', 'collect-logs', `--shard=${i}/3`],
      ...sized,
    }));
    // the collector keeps collect-kube and collect-metrics; collect-logs is the shards'
    expect(collectorsOf(rolesTemplate(['--set', 'roles.collector.logShards=3']))).toEqual([
      { name: 'hr-hetu-collector', args: ['run', 'collect-kube', 'collect-metrics'], ...sized },
      ...shards,
    ]);
    // split too: every collector on its own
    expect(
      collectorsOf(
        rolesTemplate(['--set', 'roles.collector.logShards=3', '--set', 'roles.collector.split=true']),
      ),
    ).toEqual([
      { name: 'hr-hetu-collect-kube', args: ['run', 'collect-kube'], ...sized },
      { name: 'hr-hetu-collect-metrics', args: ['run', 'collect-metrics'], ...sized },
      ...shards,
    ]);
    expect(() => rolesTemplate(['--set', 'roles.collector.logShards=0'])).toThrow(
      'roles.collector.logShards is the number of collect-logs processes sharing the pods: 1 or more.',
    );
  });

  it('refuses to render without API tokens, with one sentence saying what to set', () => {
    const r = spawnSync(HELM, ['template', 'hetu', CHART], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      "hetu's API listens beyond loopback inside the cluster, so it needs tokens: set api.tokens.read and api.tokens.admin, or api.tokens.existingSecret (keys read-token, admin-token).",
    );
  });
});
