import type { PodCategory } from '../health/index.ts';
import type { CostSums } from './cost.ts';
import { emptyCostSums, microCores, wholeBytes } from './cost.ts';
import { SYSTEM_NAMESPACES } from './rules.ts';
import { workloadKey } from './scope.ts';
import {
  hostNamespacesDetail,
  missingSecurityContextDetail,
  privilegedDetail,
  rootDetail,
  secretsInEnvDetail,
  writableRootDetail,
} from './security.ts';
import type { EvidenceRef, ScoringInput, ScoringWorkload, WorkloadRef } from './types.ts';

/**
 * Where a fact sits: in a workload (then also its namespace), in a namespace only, or in the
 * cluster only (both absent). A fact counts at every scope that contains its anchor.
 */
export interface Anchor {
  namespace?: string;
  /** `workloadKey` of the workload. */
  workload?: string;
}

/** A resource under a rule, before its share is known. `key` identifies it within the rule. */
export interface ItemResource {
  key: string;
  kind: string;
  namespace: string | null;
  name: string;
  status: string;
  detail: string;
  evidence: readonly EvidenceRef[];
}

/** One resource counted by one rule at one anchor. */
export interface Item {
  rule: string;
  anchor: Anchor;
  resource: ItemResource;
}

export interface CostItem {
  anchor: Anchor;
  sums: CostSums;
}

export interface Collected {
  items: Item[];
  /** One anchor per observed object (a scope with none has no data). */
  observed: Anchor[];
  cost: CostItem[];
}

const POD_RULES: readonly [PodCategory, string, string][] = [
  ['crashloop', 'crashloop-pods', 'a container is waiting in CrashLoopBackOff'],
  ['oomkilled', 'oomkilled-pods', 'a container was OOMKilled within the last hour'],
  ['pending', 'pending-pods', 'Pending for at least 5 minutes'],
  ['evicted', 'evicted-pods', 'evicted by the kubelet'],
  ['imagepull', 'imagepull-pods', 'a container is waiting in ImagePullBackOff or ErrImagePull'],
  ['init-failure', 'init-failure-pods', 'an init container is failing'],
];

const ERROR_LEVELS = new Set(['error', 'fatal', 'panic', 'critical']);
const OPEN_INCIDENT = new Set(['open', 'investigating']);

function workloadAnchor(w: WorkloadRef): Anchor {
  return { namespace: w.namespace, workload: workloadKey(w) };
}

function optionalAnchor(namespace: string | undefined, workload: WorkloadRef | undefined): Anchor {
  if (workload !== undefined) return workloadAnchor(workload);
  if (namespace !== undefined) return { namespace };
  return {};
}

function workloadItems(w: ScoringWorkload, out: Item[]): void {
  const anchor = workloadAnchor(w);
  const push = (rule: string, status: string, detail: string | undefined): void => {
    if (detail === undefined) return;
    out.push({
      rule,
      anchor,
      resource: {
        key: workloadKey(w),
        kind: w.kind,
        namespace: w.namespace,
        name: w.name,
        status,
        detail,
        evidence: w.evidence,
      },
    });
  };
  push('privileged-containers', 'privileged', privilegedDetail(w));
  push('root-containers', 'may run as root', rootDetail(w));
  push('host-namespaces', 'host namespaces', hostNamespacesDetail(w));
  push('secrets-in-env', 'secrets in env', secretsInEnvDetail(w));
  push('writable-root-filesystem', 'writable root filesystem', writableRootDetail(w));
  push('missing-security-context', 'no securityContext', missingSecurityContextDetail(w));
  const replicas = w.replicas ?? 1;
  if (
    (w.kind === 'Deployment' || w.kind === 'StatefulSet') &&
    replicas === 1 &&
    !SYSTEM_NAMESPACES.has(w.namespace)
  ) {
    push('single-replica-workloads', '1 replica', `${w.kind} with 1 desired replica`);
  }
}

/** Every fact the rules count, with its anchor; pure and in input order. */
export function collect(input: ScoringInput): Collected {
  const items: Item[] = [];
  const observed: Anchor[] = [];
  const cost: CostItem[] = [];

  for (const pod of input.pods ?? []) {
    const anchor = workloadAnchor(pod.workload);
    observed.push(anchor);
    const key = `${pod.namespace}/${pod.name}`;
    for (const [category, rule, fallback] of POD_RULES) {
      if (!pod.categories.includes(category)) continue;
      items.push({
        rule,
        anchor,
        resource: {
          key,
          kind: 'Pod',
          namespace: pod.namespace,
          name: pod.name,
          status: category,
          detail: pod.details?.[category] ?? fallback,
          evidence: pod.evidence,
        },
      });
    }
    if (pod.running && pod.usage !== undefined) {
      const sums = emptyCostSums();
      let cpuRequest = 0;
      let memoryRequest = 0;
      for (const c of pod.containers) {
        cpuRequest += microCores(c.cpuCores);
        memoryRequest += wholeBytes(c.memoryBytes);
      }
      if (cpuRequest > 0) {
        sums.cpuRequestMicro = cpuRequest;
        sums.cpuUsageMicro = microCores(pod.usage.cpuCores);
      }
      if (memoryRequest > 0) {
        sums.memoryRequestBytes = memoryRequest;
        sums.memoryUsageBytes = wholeBytes(pod.usage.memoryBytes);
      }
      cost.push({ anchor, sums });
    }
  }

  for (const node of input.nodes ?? []) {
    observed.push({});
    if (!node.states.includes('NotReady')) continue;
    items.push({
      rule: 'not-ready-nodes',
      anchor: {},
      resource: {
        key: node.name,
        kind: 'Node',
        namespace: null,
        name: node.name,
        status: 'NotReady',
        detail: node.detail ?? 'Ready condition not True for at least 1 minute',
        evidence: node.evidence,
      },
    });
  }

  for (const w of input.workloads ?? []) {
    observed.push(workloadAnchor(w));
    workloadItems(w, items);
  }

  const hasIn = (list: readonly { namespace: string }[] | undefined): Set<string> =>
    new Set((list ?? []).map((o) => o.namespace));
  const withPolicy = hasIn(input.networkPolicies);
  const withQuota = hasIn(input.resourceQuotas);
  const withLimits = hasIn(input.limitRanges);
  for (const list of [input.networkPolicies, input.resourceQuotas, input.limitRanges]) {
    for (const o of list ?? []) observed.push({ namespace: o.namespace });
  }
  for (const ns of input.namespaces ?? []) {
    const anchor = { namespace: ns.name };
    observed.push(anchor);
    if (SYSTEM_NAMESPACES.has(ns.name)) continue;
    const push = (rule: string, status: string, detail: string): void => {
      items.push({
        rule,
        anchor,
        resource: {
          key: ns.name,
          kind: 'Namespace',
          namespace: null,
          name: ns.name,
          status,
          detail,
          evidence: ns.evidence,
        },
      });
    };
    if (!withPolicy.has(ns.name))
      push('namespaces-without-network-policy', 'no NetworkPolicy', 'no NetworkPolicy in the namespace');
    if (!withQuota.has(ns.name))
      push('namespaces-without-resourcequota', 'no ResourceQuota', 'no ResourceQuota in the namespace');
    if (!withLimits.has(ns.name))
      push('namespaces-without-limitrange', 'no LimitRange', 'no LimitRange in the namespace');
  }

  for (const crb of input.clusterRoleBindings ?? []) {
    observed.push({});
    if (crb.roleRef.kind !== 'ClusterRole' || crb.roleRef.name !== 'cluster-admin') continue;
    const accounts = crb.subjects.filter((s) => s.kind === 'ServiceAccount');
    if (accounts.length === 0) continue;
    items.push({
      rule: 'cluster-admin-bindings',
      anchor: {},
      resource: {
        key: crb.name,
        kind: 'ClusterRoleBinding',
        namespace: null,
        name: crb.name,
        status: 'cluster-admin to ServiceAccount',
        detail: `grants cluster-admin to ServiceAccount ${accounts.map((s) => `${s.namespace ?? ''}/${s.name}`).join(', ')}`,
        evidence: crb.evidence,
      },
    });
  }

  for (const role of input.clusterRoles ?? []) {
    observed.push({});
    if (role.labels?.['kubernetes.io/bootstrapping'] === 'rbac-defaults') continue;
    const wild: string[] = [];
    role.rules.forEach((r, i) => {
      const verbs = (r.verbs ?? []).includes('*');
      const resources = (r.resources ?? []).includes('*');
      if (verbs || resources) {
        wild.push(
          `rule ${i + 1}: ${[verbs ? 'verbs *' : '', resources ? 'resources *' : ''].filter((s) => s !== '').join(', ')}`,
        );
      }
    });
    if (wild.length === 0) continue;
    items.push({
      rule: 'wildcard-rbac',
      anchor: {},
      resource: {
        key: role.name,
        kind: 'ClusterRole',
        namespace: null,
        name: role.name,
        status: 'wildcard rules',
        detail: wild.join('; '),
        evidence: role.evidence,
      },
    });
  }

  for (const g of input.errorGroups ?? []) {
    const anchor = workloadAnchor(g.workload);
    observed.push(anchor);
    if (g.status !== 'open' || !ERROR_LEVELS.has(g.level.toLowerCase())) continue;
    items.push({
      rule: 'open-error-groups',
      anchor,
      resource: {
        key: g.id,
        kind: 'ErrorGroup',
        namespace: g.workload.namespace,
        name: g.id,
        status: g.level.toLowerCase(),
        detail: g.title,
        evidence: g.evidence,
      },
    });
  }

  for (const a of input.anomalies ?? []) {
    const anchor = optionalAnchor(a.namespace ?? a.workload?.namespace, a.workload);
    observed.push(anchor);
    if (a.status !== 'open') continue;
    items.push({
      rule: 'active-anomalies',
      anchor,
      resource: {
        key: a.id,
        kind: 'AnomalyEpisode',
        namespace: anchor.namespace ?? null,
        name: a.id,
        status: 'open',
        detail: a.title,
        evidence: a.evidence,
      },
    });
  }

  for (const inc of input.incidents ?? []) {
    const anchors =
      inc.scopes.length === 0 ? [{}] : inc.scopes.map((s) => optionalAnchor(s.namespace, s.workload));
    const open = OPEN_INCIDENT.has(inc.status);
    for (const anchor of anchors) {
      observed.push(anchor);
      if (!open) continue;
      items.push({
        rule: 'open-incidents',
        anchor,
        resource: {
          key: inc.id,
          kind: 'Incident',
          namespace: null,
          name: inc.id,
          status: inc.status,
          detail: inc.severity === undefined ? inc.title : `${inc.severity}: ${inc.title}`,
          evidence: inc.evidence,
        },
      });
    }
  }

  for (const rec of input.recommendations ?? []) {
    const anchor = workloadAnchor(rec.workload);
    observed.push(anchor);
    if (rec.type !== 'rightsizing' || rec.status !== 'open') continue;
    items.push({
      rule: 'rightsizing-opportunities',
      anchor,
      resource: {
        key: rec.id,
        kind: 'Recommendation',
        namespace: rec.workload.namespace,
        name: rec.id,
        status: 'open',
        detail:
          rec.detail ?? `rightsizing of ${rec.workload.kind} ${rec.workload.namespace}/${rec.workload.name}`,
        evidence: rec.evidence,
      },
    });
  }

  for (const pvc of input.pvcs ?? []) {
    const anchor = optionalAnchor(pvc.namespace, pvc.workload);
    observed.push(anchor);
    const capacity = wholeBytes(pvc.capacityBytes);
    if (capacity === 0) continue;
    cost.push({
      anchor,
      sums: { ...emptyCostSums(), pvcUsedBytes: wholeBytes(pvc.usedBytes), pvcCapacityBytes: capacity },
    });
  }

  return { items, observed, cost };
}
