import { describe, expect, it } from 'vitest';
import { IncidentsState } from '../incidents/index.ts';
import type {
  Incident,
  IncidentSeverity,
  ResourceRef,
  Signal,
  SignalDetail,
  SignalKind,
  SignalSource,
} from '../incidents/index.ts';
import { analyze } from './index.ts';
import type { RcaContext, RcaReport } from './index.ts';

const MIN = 60_000;
const MiB = 1_048_576;
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
const ISO0 = '2026-11-26T08:00:00.000Z';

const dep = (name: string, namespace = 'shop'): ResourceRef => ({ kind: 'Deployment', namespace, name });
const sts = (name: string, namespace = 'shop'): ResourceRef => ({ kind: 'StatefulSet', namespace, name });
const podRef = (name: string, namespace = 'shop'): ResourceRef => ({ kind: 'Pod', namespace, name });

let offset = 0;
function sig(
  source: SignalSource,
  kind: SignalKind,
  resource: ResourceRef,
  workload: ResourceRef | undefined,
  ts: number,
  detail: SignalDetail,
  opts: { severity?: IncidentSeverity; node?: string; key?: string } = {},
): Signal {
  offset++;
  return {
    source,
    key: opts.key ?? kind + ':' + resource.namespace + '/' + resource.name,
    kind,
    severity: opts.severity ?? 'high',
    ts,
    resource,
    ...(workload === undefined ? {} : { workload }),
    ...(opts.node === undefined ? {} : { node: opts.node }),
    detail,
    evidence: [
      {
        topic: 'hetu.raw.kube',
        partition: 0,
        offset: String(offset),
        ts,
        excerpt: kind + ' ' + resource.name,
      },
    ],
  };
}

/** Fold signals (and calls) through the real incidents fold; return the one incident they form. */
function incidentOf(signals: Signal[], calls: Array<[ResourceRef, ResourceRef]> = []): Incident {
  const st = new IncidentsState();
  for (const [a, b] of calls) st.observeCall(a, b, T0 - 60 * MIN);
  for (const s of signals) st.apply(s);
  const all = st.list();
  expect(all).toHaveLength(1);
  return all[0]!;
}

/** Invariants every report keeps: cited ids exist, confidence is the sum of its derivation. */
function checked(r: RcaReport): RcaReport {
  const ids = new Set(r.evidence.map((e) => e.id));
  for (const step of r.chain) {
    expect(step.evidence.length).toBeGreaterThan(0);
    for (const id of step.evidence) expect(ids.has(id)).toBe(true);
  }
  expect(r.confidence).toBe(r.derivation.reduce((a, f) => a + f.weight, 0) / 100);
  expect(r.confidence).toBeGreaterThan(0);
  expect(r.confidence).toBeLessThanOrEqual(1);
  expect(r.remediation.length).toBeGreaterThan(0);
  return r;
}

const weights = (r: RcaReport) => r.derivation.map((f) => f.weight);

describe('oom', () => {
  const kill = (ts: number) =>
    sig('pod', 'oomkilled', podRef('api-7d9f-x2'), dep('api'), ts, {
      reason: 'OOMKilled',
      container: 'api',
      exitCode: 137,
    });

  it('memory growing to the limit before repeated kills → oom/leak, root the workload', () => {
    const inc = incidentOf([kill(T0 + 30 * MIN), kill(T0 + 34 * MIN)]);
    const memory = [300, 340, 380, 420, 460, 490].map((m, i) => ({
      pod: podRef('api-7d9f-x2'),
      workload: dep('api'),
      container: 'api',
      ts: T0 + i * 5 * MIN,
      usageBytes: m * MiB,
      limitBytes: 512 * MiB,
    }));
    const r = checked(analyze(inc, { memory }));
    expect(r.category).toBe('oom');
    expect(r.subtype).toBe('leak');
    expect(r.rootCause).toEqual(dep('api'));
    expect(r.derivation).toEqual([
      { factor: 'container OOMKilled', weight: 50 },
      { factor: 'memory grew steadily before the kill (+63 %)', weight: 15 },
      { factor: 'memory ≥ 90 % of the limit before the kill (peak 96 %)', weight: 20 },
      { factor: 'killed more than once', weight: 5 },
    ]);
    expect(r.confidence).toBe(0.9);
    expect(r.summary).toBe(
      'Deployment shop/api was OOMKilled after its memory grew from 300 MiB to 490 MiB (limit 512 MiB): likely a memory leak.',
    );
    expect(r.blastRadius).toEqual({
      workloads: [dep('api')],
      pods: [podRef('api-7d9f-x2')],
      namespaces: ['shop'],
    });
  });

  it('flat memory at the limit, one kill → oom/limit-too-low', () => {
    const inc = incidentOf([kill(T0 + 10 * MIN)]);
    const memory = [0, 1, 2].map((i) => ({
      pod: podRef('api-7d9f-x2'),
      workload: dep('api'),
      ts: T0 + i * MIN,
      usageBytes: 250 * MiB,
      limitBytes: 256 * MiB,
    }));
    const r = checked(analyze(inc, { memory }));
    expect([r.category, r.subtype]).toEqual(['oom', 'limit-too-low']);
    expect(weights(r)).toEqual([50, 20]);
    expect(r.remediation[0]!.step).toBe(
      'Raise the memory limit of Deployment shop/api (e.g. 1.5 × the peak working set) and the request to match',
    );
  });
});

describe('oom before a kill (a leak on its way)', () => {
  const gcAnomaly = (ts: number) =>
    sig('anomaly', 'anomaly', podRef('api-7d9f-x2'), dep('api'), ts, {
      metric: 'gc_pause_seconds',
    });
  const samples = (mibs: number[], limit = 512) =>
    mibs.map((m, i) => ({
      pod: podRef('api-7d9f-x2'),
      workload: dep('api'),
      container: 'api',
      ts: T0 + i * 2 * MIN,
      usageBytes: m * MiB,
      limitBytes: limit * MiB,
    }));

  it('memory climbing past 80 % of the limit with a GC anomaly → oom/leak with a forecast, no kill claimed', () => {
    // 260 → 440 MiB over 20 min, 320 → 440 over the last 10 (12 MiB/min): (512 − 440) ÷ 12 = 6 min left.
    const inc = incidentOf([gcAnomaly(T0 + 20 * MIN)]);
    const r = checked(
      analyze(inc, { memory: samples([260, 262, 270, 290, 300, 320, 350, 380, 410, 425, 440]) }),
    );
    expect([r.category, r.subtype, r.rootCause]).toEqual(['oom', 'leak', dep('api')]);
    expect(r.derivation).toEqual([
      { factor: 'memory grew steadily (+69 % in 20 min)', weight: 30 },
      { factor: 'memory at 86 % of the limit', weight: 20 },
      { factor: 'memory or GC anomaly in the incident', weight: 10 },
    ]);
    expect(r.summary).toBe(
      "Deployment shop/api's memory grew from 260 MiB to 440 MiB (86 % of its 512 MiB limit) in 20 min: likely a memory leak, an OOM kill in about 6 min at this rate.",
    );
    expect(r.chain.map((c) => c.step)).toEqual([
      'Memory of Pod shop/api-7d9f-x2 (api) grew from 260 MiB to 440 MiB in 20 min, 86 % of its 512 MiB limit',
      'Symptoms of memory pressure: gc_pause_seconds',
      'At this rate it reaches its limit in about 6 min and is OOM-killed',
    ]);
    // The leak's remediation: relieve, find the leak, buy time.
    expect(r.remediation[1]!.step).toBe(
      'Find the leak: compare heap profiles over time of the growing container',
    );
  });

  it('growth far from the limit, or memory near the limit without growth, is no leak', () => {
    const inc = incidentOf([gcAnomaly(T0 + 20 * MIN)]);
    // Grows 1.7 × but ends at 43 % of a 1 GiB limit.
    expect(analyze(inc, { memory: samples([260, 300, 340, 380, 420, 440], 1024) }).category).toBe('unknown');
    // At 95 % of the limit, flat.
    expect(analyze(inc, { memory: samples([485, 486, 485, 486, 485, 486]) }).category).toBe('unknown');
    // Samples after the incident's time are not read: the growth comes later.
    const late = samples([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 200, 300, 400, 480]);
    expect(analyze(inc, { memory: late }).category).toBe('unknown');
  });

  it('a kill in the incident is the oom finding, not the forecast', () => {
    const kill = sig('pod', 'oomkilled', podRef('api-7d9f-x2'), dep('api'), T0 + 21 * MIN, {
      reason: 'OOMKilled',
      container: 'api',
      exitCode: 137,
    });
    const inc = incidentOf([gcAnomaly(T0 + 20 * MIN), kill]);
    const r = analyze(inc, { memory: samples([260, 300, 340, 380, 420, 460, 500]) });
    expect([r.category, r.derivation[0]!.factor]).toEqual(['oom', 'container OOMKilled']);
  });
});

describe('bad-config', () => {
  const crash = (ts: number) =>
    sig('pod', 'crashloop', podRef('api-1'), dep('api'), ts, {
      reason: 'CrashLoopBackOff',
      container: 'api',
      exitCode: 1,
    });
  const ctx: RcaContext = {
    errorGroups: [
      {
        id: 'eg-1',
        workload: dep('api'),
        title: 'FATAL missing required environment variable DATABASE_URL',
        reason: 'error',
        level: 'fatal',
        firstSeen: T0 - 30_000,
        lastSeen: T0 + 5 * MIN,
        count: 9,
        evidence: {
          topic: 'hetu.raw.logs',
          partition: 3,
          offset: '42',
          ts: T0 - 30_000,
          excerpt: 'FATAL missing …',
        },
      },
    ],
    podReasons: [
      {
        pod: podRef('api-1'),
        workload: dep('api'),
        container: 'api',
        reason: 'CrashLoopBackOff',
        exitCode: 1,
        ts: T0,
      },
    ],
  };

  it('crash loop at start with a config error group → bad-config, root the workload', () => {
    const r = checked(analyze(incidentOf([crash(T0)]), ctx));
    expect(r.category).toBe('bad-config');
    expect(r.rootCause).toEqual(dep('api'));
    expect(r.derivation).toEqual([
      { factor: 'crash loop', weight: 35 },
      {
        factor: 'configuration/env/file error: "FATAL missing required environment variable DATABASE_URL"',
        weight: 30,
      },
      { factor: 'error at start (within 5 min of the first crash)', weight: 10 },
      { factor: 'non-zero exit code 1', weight: 10 },
    ]);
    expect(r.confidence).toBe(0.85);
    expect(r.evidence.find((e) => e.type === 'error-group')).toMatchObject({
      ts: T0 - 30_000,
      topic: 'hetu.raw.logs',
      partition: 3,
      offset: '42',
    });
  });

  it('CreateContainerConfigError naming a ConfigMap key → root the ConfigMap', () => {
    const s = sig('pod', 'pending', podRef('api-1'), dep('api'), T0, {
      reason: 'CreateContainerConfigError',
      message: "couldn't find key DB_HOST in ConfigMap shop/api-config",
    });
    const r = checked(analyze(incidentOf([s])));
    expect([r.category, r.subtype]).toEqual(['bad-config', 'missing-object']);
    expect(r.rootCause).toEqual({ kind: 'ConfigMap', namespace: 'shop', name: 'api-config' });
    expect(weights(r)).toEqual([35, 30, 10]);
  });

  it('a crash loop without any config error is not bad-config', () => {
    expect(analyze(incidentOf([crash(T0)])).category).toBe('unknown');
  });
});

describe('app-error', () => {
  const crash = sig('pod', 'crashloop', podRef('api-1'), dep('api'), T0 + MIN, {
    reason: 'CrashLoopBackOff',
    exitCode: 1,
  });
  const group = (kind: SignalKind, ts: number, title: string, errorReason = 'exception.python') =>
    sig(
      'error-group',
      kind,
      dep('api'),
      dep('api'),
      ts,
      { title, errorReason, eventCount: 4 },
      { key: 'eg-' + title },
    );

  it('a new error group and nothing else → app-error/new, root the workload', () => {
    const inc = incidentOf([group('error-group-new', T0, 'api: Exception on /v1/items [GET]')]);
    const r = checked(analyze(inc));
    expect([r.category, r.subtype, r.rootCause]).toEqual(['app-error', 'new', dep('api')]);
    expect(r.derivation).toEqual([
      { factor: 'error group of level error or worse in the workload (1, 4 events)', weight: 30 },
      { factor: 'no infrastructure failure of the workload (pods running, no rollout)', weight: 10 },
    ]);
    expect(r.summary).toBe(
      'Deployment shop/api raises a new error: "api: Exception on /v1/items [GET]" (4 events); no infrastructure cause found: a code or data problem of the workload.',
    );
    expect(r.chain[0]!.step).toBe(
      'Deployment shop/api logs a new error at 2026-11-26T08:00:00.000Z: "api: Exception on /v1/items [GET]"',
    );
    expect(r.remediation[0]!.step).toBe(
      'Open the error group of Deployment shop/api: its stack trace, first occurrence and best sample show where the code fails',
    );
  });

  it('a spike, a regression: their subtype, a spike weighs more', () => {
    const spike = checked(analyze(incidentOf([group('error-group-spike', T0, 'boom')])));
    expect([spike.subtype, weights(spike)]).toEqual(['spike', [30, 10, 10]]);
    const regressed = analyze(incidentOf([group('error-group-regressed', T0, 'boom')]));
    expect([regressed.subtype, regressed.summary]).toEqual([
      'regressed',
      'Deployment shop/api raises a regressed error: "boom" (4 events); no infrastructure cause found: a code or data problem of the workload.',
    ]);
  });

  it('failing to reach something no call relation names → app-error/connectivity', () => {
    const inc = incidentOf([
      group(
        'error-group-new',
        T0,
        'publish failed kafka: client has run out of available brokers to talk to: EOF',
      ),
    ]);
    const r = checked(analyze(inc));
    expect([r.category, r.subtype]).toEqual(['app-error', 'connectivity']);
    expect(r.summary).toBe(
      'Deployment shop/api fails to reach a dependency hetu does not see (outside the cluster, or named without its Service): "publish failed kafka: client has run out of available brokers to talk to: EOF".',
    );
    expect(r.remediation[0]!.step).toContain('check the endpoint its error names');
  });

  it('JavaScript\'s "Cannot read properties of undefined" is a code error, not a configuration one', () => {
    const inc = incidentOf([
      group(
        'error-group-new',
        T0,
        "request failed Cannot read properties of undefined (reading 'id')",
        'exception.node',
      ),
      crash,
    ]);
    expect([analyze(inc).category, analyze(inc).subtype]).toEqual(['app-error', 'crash']);
    // "cannot read" a file still is one.
    const file = incidentOf([group('error-group-new', T0, 'cannot read /etc/app/settings.yaml'), crash]);
    expect(analyze(file).category).toBe('bad-config');
  });

  it('quotes the error that fails to connect, not the first one', () => {
    const inc = incidentOf([
      group('error-group-new', T0, 'Cannot read properties of undefined'),
      group('error-group-new', T0 + 1000, 'GET https://api.stripe.com failed: ETIMEDOUT', 'timeout'),
    ]);
    const r = analyze(inc);
    expect([r.subtype, r.summary]).toEqual([
      'connectivity',
      'Deployment shop/api fails to reach a dependency hetu does not see (outside the cluster, or named without its Service): "GET https://api.stripe.com failed: ETIMEDOUT".',
    ]);
  });

  it('a database refusing the password at start is a configuration error', () => {
    const inc = incidentOf([
      group(
        'error-group-new',
        T0,
        'Application run failed — caused by org.postgresql.util.PSQLException: FATAL: password authentication failed for user "reports"',
        'exception.java',
      ),
      crash,
    ]);
    expect(analyze(inc).category).toBe('bad-config');
  });

  it('crashing pods with an error that is not about configuration → app-error/crash', () => {
    const inc = incidentOf([
      group('error-group-new', T0, 'panic: runtime error: index out of range', 'panic.go'),
      crash,
    ]);
    const r = checked(analyze(inc));
    expect([r.category, r.subtype, weights(r)]).toEqual(['app-error', 'crash', [30, 20]]);
    expect(r.summary).toBe(
      'Deployment shop/api crashes on an application error: "panic: runtime error: index out of range".',
    );
  });

  it('comes after every other category: a known dependency down is dependency-down', () => {
    const inc = incidentOf(
      [
        sig('pod', 'crashloop', podRef('postgres-0'), sts('postgres'), T0, { reason: 'CrashLoopBackOff' }),
        group('error-group-new', T0 + MIN, 'dial tcp 10.0.0.7:5432: connect: connection refused'),
      ],
      [[dep('api'), sts('postgres')]],
    );
    expect(analyze(inc, { calls: [{ from: dep('api'), to: sts('postgres') }] }).category).toBe(
      'dependency-down',
    );
  });
});

describe('dependency-down', () => {
  const signals = () => [
    sig('pod', 'crashloop', podRef('postgres-0'), sts('postgres'), T0, { reason: 'CrashLoopBackOff' }),
    sig('error-group', 'error-group-spike', dep('api'), dep('api'), T0 + MIN, {
      title: 'dial tcp 10.0.0.7:5432: connect: connection refused',
      errorReason: 'error',
    }),
    // The caller crashes too: its own crash is not the root cause.
    sig('pod', 'crashloop', podRef('api-1'), dep('api'), T0 + 2 * MIN, {
      reason: 'CrashLoopBackOff',
      exitCode: 1,
    }),
  ];

  it('names the unhealthy callee, not the failing caller', () => {
    const inc = incidentOf(signals(), [[dep('api'), sts('postgres')]]);
    const r = checked(analyze(inc, { calls: [{ from: dep('api'), to: sts('postgres') }] }));
    expect(r.category).toBe('dependency-down');
    expect(r.rootCause).toEqual(sts('postgres'));
    expect(r.derivation).toEqual([
      { factor: 'callers fail to connect (connection refused / timeouts)', weight: 35 },
      { factor: 'called workload unhealthy (crashloop)', weight: 30 },
      { factor: 'called workload failed before the callers', weight: 15 },
      { factor: 'call relation observed', weight: 10 },
    ]);
    expect(r.confidence).toBe(0.9);
    expect(r.summary).toBe(
      'StatefulSet shop/postgres is down (crashloop); Deployment shop/api fails calling it.',
    );
    expect(r.chain.map((c) => c.step)).toEqual([
      'StatefulSet shop/postgres is unhealthy: crashloop',
      'Deployment shop/api calls StatefulSet shop/postgres and fails to reach it: "dial tcp 10.0.0.7:5432: connect: connection refused"',
    ]);
    expect(r.blastRadius.workloads).toEqual([dep('api'), sts('postgres')]);
  });

  it('says what took the dependency down when its own signals tell, and starts the remediation there', () => {
    const inc = incidentOf(
      [
        ...signals(),
        sig('pod', 'oomkilled', podRef('postgres-0'), sts('postgres'), T0, {
          reason: 'OOMKilled',
          container: 'postgres',
          exitCode: 137,
        }),
      ],
      [[dep('api'), sts('postgres')]],
    );
    const r = checked(analyze(inc, { calls: [{ from: dep('api'), to: sts('postgres') }] }));
    expect([r.category, r.subtype]).toEqual(['dependency-down', 'oom']);
    expect(r.summary).toBe(
      'StatefulSet shop/postgres is down (crashloop, oomkilled), likely from OOM kills; Deployment shop/api fails calling it.',
    );
    // Its own failure's steps first, not "follow its own incident": this may be that incident.
    expect(r.remediation.map((x) => x.step)).toEqual([
      'Raise the memory limit of StatefulSet shop/postgres (e.g. 1.5 × the peak working set) and the request to match',
      expect.any(String),
      'Check StatefulSet shop/postgres endpoints and readiness: kubectl get endpoints / kubectl describe pods',
      'Make callers degrade gracefully: timeouts, retries with back-off, circuit breaker',
      'Give StatefulSet shop/postgres redundancy: replicas ≥ 2 and a PodDisruptionBudget',
    ]);
  });

  it('follows a chain of calls to the deepest unhealthy workload', () => {
    const inc = incidentOf(
      [
        sig('pod', 'crashloop', podRef('redis-0'), sts('redis'), T0, { reason: 'CrashLoopBackOff' }),
        sig('error-group', 'error-group-new', dep('cart'), dep('cart'), T0 + MIN, {
          title: 'redis: i/o timeout',
          errorReason: 'timeout',
        }),
        sig('error-group', 'error-group-new', dep('web'), dep('web'), T0 + 2 * MIN, {
          title: 'upstream connect error or disconnect/reset before headers',
          errorReason: 'http.5xx',
        }),
      ],
      [
        [dep('web'), dep('cart')],
        [dep('cart'), sts('redis')],
      ],
    );
    const calls = [
      { from: dep('web'), to: dep('cart') },
      { from: dep('cart'), to: sts('redis') },
    ];
    const r = checked(analyze(inc, { calls }));
    expect(r.category).toBe('dependency-down');
    expect(r.rootCause).toEqual(sts('redis'));
    expect(r.summary).toBe(
      'StatefulSet shop/redis is down (crashloop); Deployment shop/cart, Deployment shop/web fail calling it.',
    );
  });

  it('uses the health of a callee outside the incident', () => {
    const inc = incidentOf([
      sig('error-group', 'error-group-spike', dep('api'), dep('api'), T0, {
        title: 'ECONNREFUSED 10.0.0.9:6379',
      }),
    ]);
    const r = checked(
      analyze(inc, {
        calls: [{ from: dep('api'), to: sts('redis') }],
        workloadHealth: [{ workload: sts('redis'), healthy: false, reasons: ['0/1 ready'], since: T0 - MIN }],
      }),
    );
    expect([r.category, r.rootCause]).toEqual(['dependency-down', sts('redis')]);
    expect(weights(r)).toEqual([35, 30, 15, 10]);
  });
});

describe('bad-rollout', () => {
  const rollout = (ts: number, workload = dep('api')) =>
    sig(
      'rollout',
      'rollout',
      workload,
      workload,
      ts,
      { oldImage: 'reg/api:1.4.0', newImage: 'reg/api:1.5.0', revision: '7' },
      {
        key: 'rollout:' + workload.name + '@7',
      },
    );
  const signals = (rolloutTs: number) => [
    rollout(rolloutTs),
    sig('error-group', 'error-group-new', dep('api'), dep('api'), T0 + 10 * MIN, {
      title: 'Error: invalid value for setting ORDER_LIMIT',
    }),
    sig('pod', 'crashloop', podRef('api-2'), dep('api'), T0 + 11 * MIN, {
      reason: 'CrashLoopBackOff',
      exitCode: 1,
    }),
  ];

  it('names the rollout (Deployment, old → new image), not the crash', () => {
    const inc = incidentOf(signals(T0 + 6 * MIN));
    const r = checked(
      analyze(inc, {
        errorGroups: [
          {
            id: 'eg-9',
            workload: dep('api'),
            title: 'Error: invalid value for setting ORDER_LIMIT',
            reason: 'error',
            level: 'error',
            firstSeen: T0 + 10 * MIN,
            lastSeen: T0 + 12 * MIN,
            count: 4,
          },
        ],
      }),
    );
    expect(r.category).toBe('bad-rollout');
    expect(r.rootCause).toEqual(dep('api'));
    expect(r.summary).toBe(
      'Rollout of Deployment shop/api from reg/api:1.4.0 to reg/api:1.5.0 at 2026-11-26T08:06:00.000Z was followed 4 min later by error-group-new, crashloop.',
    );
    expect(r.derivation).toEqual([
      { factor: 'failures began 4 min after the new revision (≤ 10 min)', weight: 45 },
      { factor: 'image changed reg/api:1.4.0 → reg/api:1.5.0', weight: 15 },
      { factor: 'no failure of the workload before the rollout', weight: 15 },
      { factor: 'new error groups since the rollout', weight: 10 },
    ]);
    expect(r.confidence).toBe(0.85);
    expect(r.chain[0]!.step).toBe(
      'Rollout of Deployment shop/api from reg/api:1.4.0 to reg/api:1.5.0 at 2026-11-26T08:06:00.000Z',
    );
    expect(r.chain.at(-1)!.step.startsWith('The new revision fails as bad-config: ')).toBe(true);
    const rolloutEv = r.evidence.find((e) => e.type === 'rollout')!;
    expect(rolloutEv).toMatchObject({ ts: T0 + 6 * MIN, topic: 'hetu.raw.kube', partition: 0 });
    expect(r.remediation[0]!.step).toBe(
      'Roll back Deployment shop/api to the previous revision (reg/api:1.4.0): kubectl rollout undo',
    );
  });

  it('precedence: exactly 10 min after the revision is bad-rollout; 10 min + 1 ms is bad-config', () => {
    expect(analyze(incidentOf(signals(T0))).category).toBe('bad-rollout');
    expect(analyze(incidentOf(signals(T0 - 1))).category).toBe('bad-config');
    // And without any rollout it is the config error.
    expect(analyze(incidentOf(signals(T0 + 6 * MIN).slice(1))).category).toBe('bad-config');
  });

  it('precedence: a failing dependency that was just rolled out → bad-rollout of the dependency', () => {
    const pg = sts('postgres');
    const inc = incidentOf(
      [
        sig(
          'rollout',
          'rollout',
          pg,
          pg,
          T0,
          { oldImage: 'postgres:16.3', newImage: 'postgres:17.0' },
          { key: 'rollout:pg@2' },
        ),
        sig('pod', 'crashloop', podRef('postgres-0'), pg, T0 + 2 * MIN, { reason: 'CrashLoopBackOff' }),
        sig('error-group', 'error-group-spike', dep('api'), dep('api'), T0 + 3 * MIN, {
          title: 'connection refused',
        }),
      ],
      [[dep('api'), pg]],
    );
    const r = checked(analyze(inc, { calls: [{ from: dep('api'), to: pg }] }));
    expect(r.category).toBe('bad-rollout');
    expect(r.rootCause).toEqual(pg);
    expect(r.chain.at(-1)!.step).toBe(
      'Deployment shop/api calls StatefulSet shop/postgres and fails to reach it: "connection refused"',
    );
    expect(r.blastRadius.workloads).toEqual([dep('api'), pg]);
  });
});

describe('image-pull', () => {
  const pull = (message: string) =>
    incidentOf([
      sig('pod', 'imagepull', podRef('web-5c8f-abcde'), dep('web'), T0, {
        reason: 'ErrImagePull',
        message,
      }),
    ]);

  it('not found', () => {
    const r = checked(
      analyze(
        pull(
          'rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/shop/web:2.0.1": registry.example.com/shop/web:2.0.1: not found',
        ),
      ),
    );
    expect([r.category, r.subtype]).toEqual(['image-pull', 'not-found']);
    expect(r.rootCause).toEqual(dep('web'));
    expect(r.summary).toBe(
      'Pods of Deployment shop/web cannot pull image registry.example.com/shop/web:2.0.1: the registry reports it does not exist.',
    );
    expect(weights(r)).toEqual([50, 25]);
  });

  it('unauthorised', () => {
    const r = checked(
      analyze(
        pull(
          'failed to pull and unpack image "ghcr.io/acme/web:2.0.1": failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized',
        ),
      ),
    );
    expect([r.category, r.subtype]).toEqual(['image-pull', 'unauthorised']);
    expect(r.remediation[0]!.step).toBe(
      'Create or fix the image pull secret for the registry of ghcr.io/acme/web:2.0.1 and reference it (imagePullSecrets or the ServiceAccount)',
    );
  });

  it("Docker Hub's ambiguous answer", () => {
    const r = analyze(
      pull(
        "pull access denied for acme/web, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      ),
    );
    expect([r.category, r.subtype, r.confidence]).toEqual(['image-pull', 'not-found-or-unauthorised', 0.6]);
  });
});

describe('unschedulable', () => {
  it('insufficient memory from the FailedScheduling message', () => {
    const msg =
      '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const inc = incidentOf([
      sig('pod', 'pending', podRef('report-0'), sts('report'), T0, { reason: 'Unschedulable', message: msg }),
    ]);
    const r = checked(
      analyze(inc, {
        events: [
          {
            involved: podRef('report-0'),
            workload: sts('report'),
            type: 'Warning',
            reason: 'FailedScheduling',
            message: msg,
            ts: T0 - 4 * MIN,
          },
        ],
      }),
    );
    expect([r.category, r.subtype]).toEqual(['unschedulable', 'insufficient-memory']);
    expect(r.rootCause).toEqual(sts('report'));
    expect(r.derivation).toEqual([
      { factor: 'scheduler reports FailedScheduling', weight: 45 },
      { factor: 'scheduler reason: insufficient-memory', weight: 30 },
      { factor: 'pod pending ≥ 5 min', weight: 10 },
    ]);
  });

  it('unbound PVC named in the message → root the PersistentVolumeClaim', () => {
    const inc = incidentOf([
      sig('event', 'warning-event', podRef('db-0'), sts('db'), T0, {
        reason: 'FailedScheduling',
        message:
          '0/3 nodes are available: persistentvolumeclaim "data-db-0" not found. preemption: 0/3 nodes are available',
      }),
    ]);
    const r = checked(analyze(inc));
    expect([r.category, r.subtype]).toEqual(['unschedulable', 'unbound-pvc']);
    expect(r.rootCause).toEqual({ kind: 'PersistentVolumeClaim', namespace: 'shop', name: 'data-db-0' });
  });

  it('taint', () => {
    const inc = incidentOf([
      sig('event', 'warning-event', podRef('gpu-0'), dep('gpu'), T0, {
        reason: 'FailedScheduling',
        message: '0/2 nodes are available: 2 node(s) had untolerated taint {nvidia.com/gpu: present}.',
      }),
    ]);
    expect(analyze(inc).subtype).toBe('taint');
  });
});

describe('node-failure', () => {
  it('NotReady node with the pods it took down → root the Node', () => {
    const inc = incidentOf([
      sig(
        'node',
        'node-not-ready',
        { kind: 'Node', namespace: '', name: 'node-a' },
        undefined,
        T0,
        { reason: 'NotReady' },
        {
          severity: 'critical',
          node: 'node-a',
        },
      ),
      sig('pod', 'failed', podRef('web-1'), dep('web'), T0 + MIN, { reason: 'NodeLost' }, { node: 'node-a' }),
      sig(
        'pod',
        'crashloop',
        podRef('api-1'),
        dep('api'),
        T0 + 2 * MIN,
        { reason: 'CrashLoopBackOff' },
        { node: 'node-a' },
      ),
    ]);
    const r = checked(analyze(inc));
    expect([r.category, r.subtype]).toEqual(['node-failure', 'not-ready']);
    expect(r.rootCause).toEqual({ kind: 'Node', namespace: '', name: 'node-a' });
    expect(r.confidence).toBe(0.85);
    expect(r.summary).toBe(
      'Node node-a became NotReady at ' +
        ISO0 +
        ', taking down 2 pod(s) of Deployment shop/api, Deployment shop/web.',
    );
    expect(r.blastRadius).toEqual({
      workloads: [dep('api'), dep('web')],
      pods: [podRef('api-1'), podRef('web-1')],
      namespaces: ['shop'],
    });
  });
});

describe('probe-failure', () => {
  it('Unhealthy events without crashes', () => {
    const inc = incidentOf([
      sig('event', 'warning-event', podRef('web-1'), dep('web'), T0, {
        reason: 'Unhealthy',
        message: 'Readiness probe failed: HTTP probe failed with statuscode: 500',
        eventCount: 12,
      }),
    ]);
    const r = checked(analyze(inc));
    expect([r.category, r.subtype]).toEqual(['probe-failure', 'readiness']);
    expect(r.rootCause).toEqual(dep('web'));
    expect(weights(r)).toEqual([50, 20, 10]);
  });

  it('with a crash loop it is not a probe failure', () => {
    const inc = incidentOf([
      sig('event', 'warning-event', podRef('web-1'), dep('web'), T0, {
        reason: 'Unhealthy',
        message: 'Liveness probe failed',
      }),
      sig('pod', 'crashloop', podRef('web-1'), dep('web'), T0 + MIN, { reason: 'CrashLoopBackOff' }),
    ]);
    expect(analyze(inc).category).toBe('unknown');
  });
});

describe('volume-mount', () => {
  it('FailedMount naming a missing ConfigMap → root the ConfigMap', () => {
    const inc = incidentOf([
      sig('event', 'warning-event', podRef('web-1'), dep('web'), T0, {
        reason: 'FailedMount',
        message: 'MountVolume.SetUp failed for volume "config" : configmap "web-config" not found',
      }),
    ]);
    const r = checked(analyze(inc));
    expect([r.category, r.subtype]).toEqual(['volume-mount', 'missing-configmap']);
    expect(r.rootCause).toEqual({ kind: 'ConfigMap', namespace: 'shop', name: 'web-config' });
    expect(r.summary).toBe(
      'Pods of Deployment shop/web cannot mount their volumes: ConfigMap shop/web-config not found.',
    );
    expect(weights(r)).toEqual([50, 25]);
  });
});

describe('cpu-saturation', () => {
  it('latency anomaly with usage at the limit and throttling', () => {
    const inc = incidentOf([
      sig('anomaly', 'anomaly', { kind: 'Service', namespace: 'shop', name: 'api' }, dep('api'), T0, {
        metric: 'http_p95_latency_seconds',
        value: 2.4,
        z: 6.1,
      }),
    ]);
    const cpu = [
      {
        pod: podRef('api-1'),
        workload: dep('api'),
        ts: T0 - MIN,
        usageCores: 0.98,
        limitCores: 1,
        throttledRatio: 0.4,
      },
      {
        pod: podRef('api-1'),
        workload: dep('api'),
        ts: T0 - 2 * MIN,
        usageCores: 0.5,
        limitCores: 1,
        throttledRatio: 0.1,
      },
    ];
    const r = checked(analyze(inc, { cpu }));
    expect([r.category, r.subtype]).toEqual(['cpu-saturation', 'throttling']);
    expect(r.rootCause).toEqual(dep('api'));
    expect(r.derivation).toEqual([
      { factor: 'latency or throttling anomaly (http_p95_latency_seconds)', weight: 35 },
      { factor: 'CPU usage ≥ 90 % of its limit (peak 98 %)', weight: 35 },
      { factor: 'throttled ≥ 25 % of CFS periods (peak 40 %)', weight: 15 },
    ]);
  });

  it('an anomaly without usage at the limit is not cpu-saturation', () => {
    const inc = incidentOf([
      sig('anomaly', 'anomaly', dep('api'), dep('api'), T0, { metric: 'http_p95_latency_seconds' }),
    ]);
    const cpu = [
      {
        pod: podRef('api-1'),
        workload: dep('api'),
        ts: T0,
        usageCores: 0.3,
        limitCores: 1,
        throttledRatio: 0.5,
      },
    ];
    expect(analyze(inc, { cpu }).category).toBe('unknown');
  });
});

describe('precedence and determinism', () => {
  it('node-failure before the pods’ own failures', () => {
    const inc = incidentOf([
      sig(
        'node',
        'node-pressure',
        { kind: 'Node', namespace: '', name: 'node-b' },
        undefined,
        T0,
        { reason: 'MemoryPressure' },
        {
          node: 'node-b',
        },
      ),
      sig(
        'pod',
        'oomkilled',
        podRef('api-1'),
        dep('api'),
        T0 + MIN,
        { reason: 'OOMKilled' },
        { node: 'node-b' },
      ),
    ]);
    const r = checked(analyze(inc));
    expect([r.category, r.subtype, r.rootCause.name]).toEqual(['node-failure', 'memory-pressure', 'node-b']);
    expect(weights(r)).toEqual([40, 25, 10]);
  });

  it('image-pull before bad-rollout when a rollout named a missing image (root: the Deployment)', () => {
    const inc = incidentOf([
      sig(
        'rollout',
        'rollout',
        dep('web'),
        dep('web'),
        T0,
        { oldImage: 'reg/web:1.0', newImage: 'reg/web:1.1' },
        { key: 'r' },
      ),
      sig('pod', 'imagepull', podRef('web-2'), dep('web'), T0 + MIN, {
        reason: 'ImagePullBackOff',
        message: 'Back-off pulling image "reg/web:1.1": manifest unknown',
      }),
    ]);
    const r = checked(analyze(inc));
    expect([r.category, r.subtype, r.rootCause]).toEqual(['image-pull', 'not-found', dep('web')]);
    expect(weights(r)).toEqual([50, 25, 10]);
    expect(r.remediation[1]!.step).toBe(
      'Roll back Deployment shop/web to the last image that pulled (reg/web:1.0)',
    );
  });

  it('same incident and context twice → identical reports', () => {
    const build = () => {
      offset = 500;
      return incidentOf(
        [
          sig('pod', 'crashloop', podRef('postgres-0'), sts('postgres'), T0, { reason: 'CrashLoopBackOff' }),
          sig('error-group', 'error-group-spike', dep('api'), dep('api'), T0 + MIN, {
            title: 'connection refused',
          }),
        ],
        [[dep('api'), sts('postgres')]],
      );
    };
    const ctx: RcaContext = { calls: [{ from: dep('api'), to: sts('postgres') }] };
    expect(JSON.stringify(analyze(build(), ctx))).toBe(JSON.stringify(analyze(build(), ctx)));
  });

  it('falls back to unknown with low confidence', () => {
    const r = checked(
      analyze(incidentOf([sig('pod', 'evicted', podRef('x-1'), dep('x'), T0, { reason: 'Evicted' })])),
    );
    expect([r.category, r.rootCause, r.confidence]).toEqual(['unknown', dep('x'), 0.1]);
  });
});
