/**
 * The `workloads` projection: workloads (top-level Deployments, StatefulSets, DaemonSets, CronJobs,
 * Jobs and ReplicaSets from hetu.raw.kube watch objects, and bare pods), their pods (health from
 * hetu.facts.pod-health, container states from the Pod objects), Kubernetes events (the latest
 * 100 per workload), nodes (hetu.facts.node-health) and Services (type, ports, selector).
 */
import type { NodeHealth, PodHealth, WatchObserved } from '@hetu/schemas';
import { keysetPage, Where, type Page } from './page.ts';
import {
  ProjectionStore,
  fromDoc,
  storeFile,
  toDoc,
  type DecodedRecord,
  type ProjectionChange,
} from './store.ts';

export const RAW_KUBE_TOPIC = 'hetu.raw.kube';
export const POD_HEALTH_TOPIC = 'hetu.facts.pod-health';
export const NODE_HEALTH_TOPIC = 'hetu.facts.node-health';
export const EVENTS_PER_WORKLOAD = 100;

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'ReplicaSet']);

/** What the API shows of a workload object. */
export interface WorkloadDoc {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | null;
  readonly desiredReplicas: number | null;
  readonly readyReplicas: number | null;
  readonly availableReplicas: number | null;
  readonly images: readonly string[];
  readonly createdAt: number | null;
  readonly generation: number | null;
  readonly observedGeneration: number | null;
  readonly schedule: string | null;
  readonly labels: Readonly<Record<string, string>>;
  /** False for a bare pod's workload (no object of its own). */
  readonly observed: boolean;
}

export interface ContainerState {
  readonly name: string;
  readonly init: boolean;
  readonly image: string | null;
  readonly ready: boolean;
  readonly restartCount: number;
  /** waiting, running, terminated or unknown. */
  readonly state: string;
  readonly reason: string | null;
  readonly message: string | null;
  readonly exitCode: number | null;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly lastTerminationReason: string | null;
  readonly lastExitCode: number | null;
  readonly lastFinishedAt: number | null;
}

export interface WorkloadRow {
  readonly cluster: string;
  readonly workload: WorkloadDoc;
  readonly updatedAt: number;
  readonly topic: string | null;
  readonly partition: number | null;
  readonly offset: string | null;
}

export interface PodRow {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly workloadKind: string | null;
  readonly workloadName: string | null;
  readonly node: string | null;
  readonly phase: string | null;
  readonly health: PodHealth | null;
  readonly containers: readonly ContainerState[];
  readonly updatedAt: number;
}

export interface EventRow {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly workload: string;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly involvedKind: string;
  readonly involvedNamespace: string | null;
  readonly involvedName: string;
  readonly firstTimestamp: number | null;
  readonly lastTimestamp: number;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface NodeRow {
  readonly node: NodeHealth;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface WorkloadFilter {
  readonly cluster?: string | null;
  readonly kind?: readonly string[] | null;
  readonly namespace?: string | null;
  readonly search?: string | null;
  /** Only workloads with (true) or without (false) an unhealthy pod. */
  readonly unhealthy?: boolean | null;
}

/** What the API shows of a Service. */
export interface ServiceDoc {
  readonly namespace: string;
  readonly name: string;
  /** ClusterIP, NodePort, LoadBalancer or ExternalName. */
  readonly type: string;
  readonly clusterIP: string | null;
  readonly externalName: string | null;
  readonly ports: readonly {
    name: string | null;
    port: number;
    targetPort: string | null;
    protocol: string;
    nodePort: number | null;
  }[];
  readonly selector: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: number | null;
}

export interface ServiceRow {
  readonly cluster: string;
  readonly service: ServiceDoc;
  readonly updatedAt: number;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface ServiceFilter {
  readonly cluster?: string | null;
  readonly namespace?: string | null;
  /** Case-insensitive substring of namespace/name. */
  readonly search?: string | null;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const time = (v: unknown): number | null => {
  const s = str(v);
  if (s === null) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
};

function podSpecOf(kind: string, o: Obj): Obj {
  const spec = obj(o['spec']);
  if (kind === 'CronJob') return obj(obj(obj(obj(obj(spec['jobTemplate'])['spec'])['template'])['spec']));
  return obj(obj(spec['template'])['spec']);
}

/** The API's view of a workload object. */
export function workloadDoc(kind: string, o: Obj): WorkloadDoc {
  const meta = obj(o['metadata']);
  const spec = obj(o['spec']);
  const status = obj(o['status']);
  let desired: number | null = null;
  let ready: number | null = null;
  let available: number | null = null;
  if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'ReplicaSet') {
    desired = int(spec['replicas']) ?? 1;
    ready = int(status['readyReplicas']) ?? 0;
    available = int(status['availableReplicas']) ?? (kind === 'StatefulSet' ? ready : 0);
  } else if (kind === 'DaemonSet') {
    desired = int(status['desiredNumberScheduled']) ?? 0;
    ready = int(status['numberReady']) ?? 0;
    available = int(status['numberAvailable']) ?? 0;
  } else if (kind === 'Job') {
    desired = int(spec['parallelism']) ?? 1;
    ready = int(status['ready']) ?? 0;
    available = int(status['active']) ?? 0;
  } else if (kind === 'CronJob') {
    available = arr(status['active']).length;
  }
  const podSpec = podSpecOf(kind, o);
  const images = [...arr(podSpec['initContainers']), ...arr(podSpec['containers'])]
    .map((c) => str(obj(c)['image']))
    .filter((x): x is string => x !== null);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(meta['labels']))) if (typeof v === 'string') labels[k] = v;
  return {
    kind,
    namespace: str(meta['namespace']) ?? '',
    name: str(meta['name']) ?? '',
    uid: str(meta['uid']),
    desiredReplicas: desired,
    readyReplicas: ready,
    availableReplicas: available,
    images,
    createdAt: time(meta['creationTimestamp']),
    generation: int(meta['generation']),
    observedGeneration: int(status['observedGeneration']),
    schedule: kind === 'CronJob' ? str(spec['schedule']) : null,
    labels,
    observed: true,
  };
}

/** Container states of a Pod object (init containers first). */
export function containerStates(o: Obj): ContainerState[] {
  const status = obj(o['status']);
  const spec = obj(o['spec']);
  const images = new Map<string, string>();
  for (const c of [...arr(spec['initContainers']), ...arr(spec['containers'])]) {
    const n = str(obj(c)['name']);
    const img = str(obj(c)['image']);
    if (n !== null && img !== null) images.set(n, img);
  }
  const one = (c: unknown, init: boolean): ContainerState => {
    const cs = obj(c);
    const state = obj(cs['state']);
    const last = obj(obj(cs['lastState'])['terminated']);
    const name = str(cs['name']) ?? '';
    let kind = 'unknown';
    let detail: Obj = {};
    for (const k of ['waiting', 'running', 'terminated']) {
      if (state[k] !== undefined && state[k] !== null) {
        kind = k;
        detail = obj(state[k]);
        break;
      }
    }
    return {
      name,
      init,
      image: str(cs['image']) ?? images.get(name) ?? null,
      ready: cs['ready'] === true,
      restartCount: int(cs['restartCount']) ?? 0,
      state: kind,
      reason: str(detail['reason']),
      message: str(detail['message']),
      exitCode: int(detail['exitCode']),
      startedAt: time(detail['startedAt']),
      finishedAt: time(detail['finishedAt']),
      lastTerminationReason: str(last['reason']),
      lastExitCode: int(last['exitCode']),
      lastFinishedAt: time(last['finishedAt']),
    };
  };
  return [
    ...arr(status['initContainerStatuses']).map((c) => one(c, true)),
    ...arr(status['containerStatuses']).map((c) => one(c, false)),
  ];
}

/** True for an object with a controlling owner: it is not a workload of its own. */
const stringMap = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));

export function serviceDoc(o: Obj): ServiceDoc {
  const meta = obj(o['metadata']);
  const spec = obj(o['spec']);
  return {
    namespace: str(meta['namespace']) ?? '',
    name: str(meta['name']) ?? '',
    type: str(spec['type']) ?? 'ClusterIP',
    clusterIP: str(spec['clusterIP']),
    externalName: str(spec['externalName']),
    ports: arr(spec['ports']).map((x) => {
      const port = obj(x);
      const target = port['targetPort'];
      return {
        name: str(port['name']),
        port: int(port['port']) ?? 0,
        targetPort: typeof target === 'number' ? String(target) : str(target),
        protocol: str(port['protocol']) ?? 'TCP',
        nodePort: int(port['nodePort']),
      };
    }),
    selector: stringMap(spec['selector']),
    labels: stringMap(meta['labels']),
    createdAt: time(meta['creationTimestamp']),
  };
}

function owned(o: Obj): boolean {
  return arr(obj(o['metadata'])['ownerReferences']).some((r) => obj(r)['controller'] === true);
}

export class WorkloadsStore extends ProjectionStore {
  readonly topics = [RAW_KUBE_TOPIC, POD_HEALTH_TOPIC, NODE_HEALTH_TOPIC];

  constructor(dataDir?: string) {
    super('workloads', storeFile(dataDir, 'workloads'));
    this.init(`
      CREATE TABLE IF NOT EXISTS workloads (
        cluster TEXT NOT NULL, namespace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
        search TEXT NOT NULL, updated_at INTEGER NOT NULL, doc TEXT NOT NULL,
        src_topic TEXT, src_partition INTEGER, src_offset INTEGER,
        PRIMARY KEY (cluster, namespace, kind, name)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS pods (
        cluster TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, workload_kind TEXT, workload_name TEXT,
        node TEXT, phase TEXT, unhealthy INTEGER NOT NULL DEFAULT 0, health TEXT, containers TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (cluster, namespace, name)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS pods_by_workload ON pods (cluster, namespace, workload_name);
      CREATE TABLE IF NOT EXISTS events (
        cluster TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, workload TEXT NOT NULL,
        last_ts INTEGER NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (cluster, namespace, name)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS events_by_workload ON events (cluster, namespace, workload, last_ts);
      CREATE TABLE IF NOT EXISTS syncs (
        cluster TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, partition INTEGER NOT NULL,
        begin_offset INTEGER NOT NULL,
        PRIMARY KEY (cluster, kind, namespace, partition)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS services (
        cluster TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, search TEXT NOT NULL,
        updated_at INTEGER NOT NULL, doc TEXT NOT NULL,
        src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL,
        PRIMARY KEY (cluster, namespace, name)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS nodes (
        cluster TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
        src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL,
        PRIMARY KEY (cluster, name)) WITHOUT ROWID;
    `);
  }

  protected applyRecord(r: DecodedRecord, changes: ProjectionChange[]): void {
    if (r.topic === POD_HEALTH_TOPIC) this.applyPodHealth(r, changes);
    else if (r.topic === NODE_HEALTH_TOPIC) this.applyNodeHealth(r, changes);
    else this.applyWatch(r, changes);
  }

  private applyPodHealth(r: DecodedRecord, changes: ProjectionChange[]): void {
    const parts = r.key.split('/');
    const [cluster, namespace, name] = [parts[0] ?? '', parts[1] ?? '', parts.slice(2).join('/')];
    const base = {
      kind: 'pod',
      cluster,
      id: `${namespace}/${name}`,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
    };
    if (r.value === null) {
      const old = this.sql(
        'SELECT workload_kind FROM pods WHERE cluster = ? AND namespace = ? AND name = ?',
      ).get(cluster, namespace, name) as { workload_kind: string | null } | undefined;
      this.sql('DELETE FROM pods WHERE cluster = ? AND namespace = ? AND name = ?').run(
        cluster,
        namespace,
        name,
      );
      if (old?.workload_kind === 'Pod')
        this.sql(
          "DELETE FROM workloads WHERE cluster = ? AND namespace = ? AND kind = 'Pod' AND name = ?",
        ).run(cluster, namespace, name);
      changes.push({ ...base, deleted: true, tags: { namespace } });
      return;
    }
    const h = r.value as PodHealth;
    this.sql(
      `INSERT INTO pods (cluster, namespace, name, workload_kind, workload_name, node, phase, unhealthy, health, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (cluster, namespace, name) DO UPDATE SET workload_kind = excluded.workload_kind,
         workload_name = excluded.workload_name, node = excluded.node, phase = excluded.phase,
         unhealthy = excluded.unhealthy, health = excluded.health, updated_at = MAX(pods.updated_at, excluded.updated_at)`,
    ).run(
      h.cluster,
      h.namespace,
      h.name,
      h.workload.kind,
      h.workload.name,
      h.node,
      h.phase,
      h.categories.length > 0 ? 1 : 0,
      toDoc(h),
      h.ts,
    );
    if (h.workload.kind === 'Pod') {
      const doc: WorkloadDoc = {
        kind: 'Pod',
        namespace: h.namespace,
        name: h.name,
        uid: h.uid,
        desiredReplicas: null,
        readyReplicas: null,
        availableReplicas: null,
        images: [],
        createdAt: h.ageMs === null ? null : h.ts - h.ageMs,
        generation: null,
        observedGeneration: null,
        schedule: null,
        labels: {},
        observed: false,
      };
      this.upsertWorkload(h.cluster, doc, h.ts, r);
    }
    changes.push({ ...base, deleted: false, tags: { namespace, workload: h.workload.name } });
  }

  private applyNodeHealth(r: DecodedRecord, changes: ProjectionChange[]): void {
    const i = r.key.indexOf('/');
    const cluster = i < 0 ? r.key : r.key.slice(0, i);
    const name = i < 0 ? '' : r.key.slice(i + 1);
    const base = {
      kind: 'node',
      cluster,
      id: name,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
    };
    if (r.value === null) {
      this.sql('DELETE FROM nodes WHERE cluster = ? AND name = ?').run(cluster, name);
      changes.push({ ...base, deleted: true });
      return;
    }
    const n = r.value as NodeHealth;
    this.sql(
      `INSERT OR REPLACE INTO nodes (cluster, name, doc, src_topic, src_partition, src_offset) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(n.cluster, n.name, toDoc(n), r.topic, r.partition, r.offset);
    changes.push({ ...base, deleted: false });
  }

  private upsertWorkload(cluster: string, doc: WorkloadDoc, ts: number, r: DecodedRecord | null): void {
    this.sql(
      `INSERT OR REPLACE INTO workloads (cluster, namespace, kind, name, search, updated_at, doc, src_topic, src_partition, src_offset)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      cluster,
      doc.namespace,
      doc.kind,
      doc.name,
      `${doc.namespace}/${doc.kind}/${doc.name}`.toLowerCase(),
      ts,
      JSON.stringify(doc),
      r?.topic ?? null,
      r?.partition ?? null,
      r?.offset ?? null,
    );
  }

  private applyWatch(r: DecodedRecord, changes: ProjectionChange[]): void {
    if (r.value === null) return;
    const w = r.value as WatchObserved;
    if (w.type === 'SYNC_BEGIN' || w.type === 'SYNC_END') {
      this.applySync(r, w, changes);
      return;
    }
    if (w.object === null || w.name === null) return; // GAP markers
    if (w.type !== 'ADDED' && w.type !== 'MODIFIED' && w.type !== 'DELETED' && w.type !== 'SYNCED') return;
    const deleted = w.type === 'DELETED';
    const ns = w.namespace ?? '';
    if (w.kind === 'Event') {
      const o = obj(JSON.parse(w.object));
      const workload = r.key.split('/').slice(2).join('/') || w.name;
      if (deleted) {
        this.sql('DELETE FROM events WHERE cluster = ? AND namespace = ? AND name = ?').run(
          w.cluster,
          ns,
          w.name,
        );
        return;
      }
      const io = obj(o['involvedObject']);
      const last =
        time(o['lastTimestamp']) ??
        time(o['eventTime']) ??
        time(obj(o['series'])['lastObservedTime']) ??
        w.ts;
      const ev: EventRow = {
        cluster: w.cluster,
        namespace: ns,
        name: w.name,
        workload,
        type: str(o['type']) ?? 'Normal',
        reason: str(o['reason']) ?? '',
        message: (str(o['message']) ?? '').slice(0, 2000),
        count: int(o['count']) ?? int(obj(o['series'])['count']) ?? 1,
        involvedKind: str(io['kind']) ?? '',
        involvedNamespace: str(io['namespace']),
        involvedName: str(io['name']) ?? '',
        firstTimestamp: time(o['firstTimestamp']) ?? time(o['eventTime']),
        lastTimestamp: last,
        topic: r.topic,
        partition: r.partition,
        offset: r.offset.toString(),
      };
      this.sql(
        'INSERT OR REPLACE INTO events (cluster, namespace, name, workload, last_ts, doc) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(w.cluster, ns, w.name, workload, last, JSON.stringify(ev));
      this.sql(
        `DELETE FROM events WHERE cluster = ? AND namespace = ? AND workload = ? AND name NOT IN (
           SELECT name FROM events WHERE cluster = ? AND namespace = ? AND workload = ? ORDER BY last_ts DESC, name LIMIT ?)`,
      ).run(w.cluster, ns, workload, w.cluster, ns, workload, EVENTS_PER_WORKLOAD);
      changes.push({
        kind: 'event',
        cluster: w.cluster,
        id: `${ns}/${w.name}`,
        deleted: false,
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        tags: { namespace: ns, workload },
      });
      return;
    }
    if (w.kind === 'Pod') {
      if (deleted) {
        this.sql('DELETE FROM pods WHERE cluster = ? AND namespace = ? AND name = ?').run(
          w.cluster,
          ns,
          w.name,
        );
        return;
      }
      const o = obj(JSON.parse(w.object));
      const keyWorkload = r.key.split('/').slice(2).join('/') || null;
      this.sql(
        `INSERT INTO pods (cluster, namespace, name, workload_name, node, phase, containers, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (cluster, namespace, name) DO UPDATE SET containers = excluded.containers,
           workload_name = COALESCE(pods.workload_name, excluded.workload_name),
           node = COALESCE(excluded.node, pods.node), phase = COALESCE(excluded.phase, pods.phase),
           updated_at = MAX(pods.updated_at, excluded.updated_at)`,
      ).run(
        w.cluster,
        ns,
        w.name,
        keyWorkload,
        str(obj(o['spec'])['nodeName']),
        str(obj(o['status'])['phase']),
        JSON.stringify(containerStates(o)),
        w.ts,
      );
      return;
    }
    if (w.kind === 'Service') {
      if (deleted)
        this.sql('DELETE FROM services WHERE cluster = ? AND namespace = ? AND name = ?').run(
          w.cluster,
          ns,
          w.name,
        );
      else {
        const doc = serviceDoc(obj(JSON.parse(w.object)));
        this.sql(
          `INSERT OR REPLACE INTO services (cluster, namespace, name, search, updated_at, doc, src_topic, src_partition, src_offset)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          w.cluster,
          ns,
          w.name,
          `${ns}/${w.name}`.toLowerCase(),
          w.ts,
          toDoc(doc),
          r.topic,
          r.partition,
          r.offset,
        );
      }
      return;
    }
    if (!WORKLOAD_KINDS.has(w.kind)) return;
    const base = {
      kind: 'workload',
      cluster: w.cluster,
      id: `${ns}/${w.kind}/${w.name}`,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      tags: { namespace: ns },
    };
    if (deleted) {
      this.sql('DELETE FROM workloads WHERE cluster = ? AND namespace = ? AND kind = ? AND name = ?').run(
        w.cluster,
        ns,
        w.kind,
        w.name,
      );
      changes.push({ ...base, deleted: true });
      return;
    }
    const o = obj(JSON.parse(w.object));
    if (owned(o)) return;
    this.upsertWorkload(w.cluster, workloadDoc(w.kind, o), w.ts, r);
    changes.push({ ...base, deleted: false });
  }

  /**
   * A complete list of a kind (the collector's SYNC_BEGIN … SYNCED … SYNC_END, in each partition):
   * a workload of that kind in this partition not listed again since SYNC_BEGIN was deleted
   * while nobody watched. (Pods and nodes go by their health facts' tombstones, which the kube
   * processor derives from the same markers.)
   */
  private applySync(r: DecodedRecord, w: WatchObserved, changes: ProjectionChange[]): void {
    if (!WORKLOAD_KINDS.has(w.kind)) return;
    const ns = w.namespace ?? '*';
    if (w.type === 'SYNC_BEGIN') {
      this.sql(
        `INSERT INTO syncs (cluster, kind, namespace, partition, begin_offset) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (cluster, kind, namespace, partition) DO UPDATE SET begin_offset = excluded.begin_offset`,
      ).run(w.cluster, w.kind, ns, r.partition, r.offset);
      return;
    }
    const open = this.sql(
      'SELECT begin_offset FROM syncs WHERE cluster = ? AND kind = ? AND namespace = ? AND partition = ?',
    ).get(w.cluster, w.kind, ns, r.partition) as { begin_offset: number } | undefined;
    if (open === undefined) return;
    const inNs = w.namespace === null ? '' : ' AND namespace = ?';
    const params = [
      w.cluster,
      w.kind,
      r.partition,
      open.begin_offset,
      ...(w.namespace === null ? [] : [w.namespace]),
    ];
    const gone = this.sql(
      `SELECT namespace, name FROM workloads
       WHERE cluster = ? AND kind = ? AND src_partition = ? AND src_offset < ?${inNs}`,
    ).all(...params) as { namespace: string; name: string }[];
    for (const g of gone) {
      this.sql('DELETE FROM workloads WHERE cluster = ? AND namespace = ? AND kind = ? AND name = ?').run(
        w.cluster,
        g.namespace,
        w.kind,
        g.name,
      );
      changes.push({
        kind: 'workload',
        cluster: w.cluster,
        id: `${g.namespace}/${w.kind}/${g.name}`,
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        tags: { namespace: g.namespace },
        deleted: true,
      });
    }
    this.sql('DELETE FROM syncs WHERE cluster = ? AND kind = ? AND namespace = ? AND partition = ?').run(
      w.cluster,
      w.kind,
      ns,
      r.partition,
    );
  }

  private workloadRow = (r: {
    cluster: string;
    doc: string;
    updated_at: number;
    src_topic: string | null;
    src_partition: number | null;
    src_offset: number | null;
  }): WorkloadRow => ({
    cluster: r.cluster,
    workload: fromDoc<WorkloadDoc>(r.doc),
    updatedAt: r.updated_at,
    topic: r.src_topic,
    partition: r.src_partition,
    offset: r.src_offset === null ? null : String(r.src_offset),
  });

  /** Workloads ordered by namespace, kind, name. */
  list(filter: WorkloadFilter, first: number, after?: string | null): Page<WorkloadRow> {
    this.count('list');
    const w = new Where()
      .eq('w.cluster', filter.cluster)
      .in('w.kind', filter.kind)
      .eq('w.namespace', filter.namespace)
      .like('w.search', filter.search);
    if (filter.unhealthy != null) {
      w.add(
        `${filter.unhealthy ? '' : 'NOT '}EXISTS (SELECT 1 FROM pods p WHERE p.cluster = w.cluster AND p.namespace = w.namespace
           AND p.workload_name = w.name AND (p.workload_kind = w.kind OR p.workload_kind IS NULL) AND p.unhealthy = 1)`,
      );
    }
    return keysetPage(
      (sql, p) => this.db.prepare(sql).all(...p) as never[],
      (sql, p) => (this.db.prepare(sql).get(...p) as { n: number }).n,
      {
        from: 'workloads w',
        select: 'w.cluster, w.doc, w.updated_at, w.src_topic, w.src_partition, w.src_offset',
        where: w,
        sort: { col: "w.cluster || '/' || w.namespace || '/' || w.kind", desc: false },
        tie: 'w.name',
        first,
        after,
        map: this.workloadRow,
      },
    );
  }

  /** Services ordered by namespace and name. */
  services(filter: ServiceFilter, first: number, after?: string | null): Page<ServiceRow> {
    this.count('services');
    const w = new Where()
      .eq('cluster', filter.cluster)
      .eq('namespace', filter.namespace)
      .like('search', filter.search);
    return keysetPage(
      (sql, p) => this.db.prepare(sql).all(...p) as never[],
      (sql, p) => (this.db.prepare(sql).get(...p) as { n: number }).n,
      {
        from: 'services',
        select: 'cluster, doc, updated_at, src_topic, src_partition, src_offset',
        where: w,
        sort: { col: "cluster || '/' || namespace", desc: false },
        tie: 'name',
        first,
        after,
        map: (r: {
          cluster: string;
          doc: string;
          updated_at: number;
          src_topic: string;
          src_partition: number;
          src_offset: number;
        }): ServiceRow => ({
          cluster: r.cluster,
          service: fromDoc<ServiceDoc>(r.doc),
          updatedAt: r.updated_at,
          topic: r.src_topic,
          partition: r.src_partition,
          offset: String(r.src_offset),
        }),
      },
    );
  }

  workloadsOf(
    keys: readonly { cluster: string | null; namespace: string; kind: string; name: string }[],
  ): (WorkloadRow | null)[] {
    this.count('workloadsOf');
    const q = this.sql(
      `SELECT cluster, doc, updated_at, src_topic, src_partition, src_offset FROM workloads
       WHERE namespace = ? AND kind = ? AND name = ? AND (? IS NULL OR cluster = ?) ORDER BY cluster LIMIT 1`,
    );
    return keys.map((k) => {
      const r = q.get(k.namespace, k.kind, k.name, k.cluster, k.cluster) as
        | Parameters<typeof this.workloadRow>[0]
        | undefined;
      return r ? this.workloadRow(r) : null;
    });
  }

  /** Kinds of workloads by `<cluster>/<namespace>/<name>` (from pods' health and workload objects). */
  kindsOf(keys: readonly string[]): (string | null)[] {
    this.count('kindsOf');
    if (keys.length === 0) return [];
    const uniq = [...new Set(keys)];
    const marks = uniq.map(() => '?').join(', ');
    const rows = this.db
      .prepare(
        `SELECT cluster || '/' || namespace || '/' || workload_name AS k, MIN(workload_kind) AS kind FROM pods
         WHERE workload_kind IS NOT NULL AND cluster || '/' || namespace || '/' || workload_name IN (${marks}) GROUP BY k
         UNION ALL
         SELECT cluster || '/' || namespace || '/' || name AS k, MIN(kind) AS kind FROM workloads
         WHERE cluster || '/' || namespace || '/' || name IN (${marks}) GROUP BY k`,
      )
      .all(...uniq, ...uniq) as { k: string; kind: string }[];
    const by = new Map<string, string>();
    for (const r of rows) if (!by.has(r.k)) by.set(r.k, r.kind);
    return keys.map((k) => by.get(k) ?? null);
  }

  private podRow = (r: {
    cluster: string;
    namespace: string;
    name: string;
    workload_kind: string | null;
    workload_name: string | null;
    node: string | null;
    phase: string | null;
    health: string | null;
    containers: string | null;
    updated_at: number;
  }): PodRow => ({
    cluster: r.cluster,
    namespace: r.namespace,
    name: r.name,
    workloadKind: r.workload_kind,
    workloadName: r.workload_name,
    node: r.node,
    phase: r.phase,
    health: r.health === null ? null : fromDoc<PodHealth>(r.health),
    containers: r.containers === null ? [] : (JSON.parse(r.containers) as ContainerState[]),
    updatedAt: r.updated_at,
  });

  /** Pods of several workloads at once (one query), by name. */
  podsOf(keys: readonly { cluster: string; namespace: string; kind: string; name: string }[]): PodRow[][] {
    this.count('podsOf');
    if (keys.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT * FROM pods WHERE (cluster, namespace, workload_name) IN (VALUES ${keys.map(() => '(?, ?, ?)').join(', ')})
         ORDER BY name`,
      )
      .all(...keys.flatMap((k) => [k.cluster, k.namespace, k.name])) as Parameters<typeof this.podRow>[0][];
    const pods = rows.map(this.podRow);
    return keys.map((k) =>
      pods.filter(
        (p) =>
          p.cluster === k.cluster &&
          p.namespace === k.namespace &&
          p.workloadName === k.name &&
          (p.workloadKind === null || p.workloadKind === k.kind),
      ),
    );
  }

  pod(cluster: string | null, namespace: string, name: string): PodRow | null {
    this.count('pod');
    const r = this.sql(
      'SELECT * FROM pods WHERE namespace = ? AND name = ? AND (? IS NULL OR cluster = ?) ORDER BY cluster LIMIT 1',
    ).get(namespace, name, cluster, cluster) as Parameters<typeof this.podRow>[0] | undefined;
    return r ? this.podRow(r) : null;
  }

  /** The latest events of several workloads at once (one query), newest first. */
  eventsOf(
    keys: readonly { cluster: string; namespace: string; name: string }[],
    first: number,
  ): EventRow[][] {
    this.count('eventsOf');
    if (keys.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT cluster, namespace, workload, doc FROM events WHERE (cluster, namespace, workload) IN (VALUES ${keys
          .map(() => '(?, ?, ?)')
          .join(', ')}) ORDER BY last_ts DESC, name`,
      )
      .all(...keys.flatMap((k) => [k.cluster, k.namespace, k.name])) as {
      cluster: string;
      namespace: string;
      workload: string;
      doc: string;
    }[];
    return keys.map((k) =>
      rows
        .filter((r) => r.cluster === k.cluster && r.namespace === k.namespace && r.workload === k.name)
        .slice(0, first)
        .map((r) => JSON.parse(r.doc) as EventRow),
    );
  }

  nodes(cluster: string | null): NodeRow[] {
    this.count('nodes');
    const rows = this.sql(
      'SELECT doc, src_topic, src_partition, src_offset FROM nodes WHERE (? IS NULL OR cluster = ?) ORDER BY cluster, name',
    ).all(cluster, cluster) as {
      doc: string;
      src_topic: string;
      src_partition: number;
      src_offset: number;
    }[];
    return rows.map((r) => ({
      node: fromDoc<NodeHealth>(r.doc),
      topic: r.src_topic,
      partition: r.src_partition,
      offset: String(r.src_offset),
    }));
  }

  /** Clusters with any workload or node. */
  clusters(): string[] {
    this.count('clusters');
    return this.memo('clusters', () =>
      (
        this.sql('SELECT cluster FROM workloads UNION SELECT cluster FROM nodes ORDER BY cluster').all() as {
          cluster: string;
        }[]
      ).map((r) => r.cluster),
    );
  }
}
