import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Command } from '@hetu/schemas';
import { ProcessorTestDriver, type FactRecord } from '@hetu/streams';
import { toIncidentRecord } from '../incidents/record.ts';
import { toRcaReportRecord } from '../rca/record.ts';
import { incidentSignature } from './requests.ts';
import {
  LLM_REQUESTS_TOPIC,
  requestId,
  type ErrorGroupRecord,
  type IncidentRecord,
  type LlmAnalysisRecord,
  type LlmRequestRecord,
  type RcaRecord,
} from './record.ts';
import { llmRequestsProcessor, type LlmRequestsConfig, type LlmRequestsState } from './topology.ts';
import { MIN, T0, errorGroup, oomIncident } from './test-fixtures.ts';

const CLUSTER = 'prod';
const SECRET = 'hunter2-Zq8vLw3Rk9';

/** A driver whose inputs are objects handed over by reference (the decode is not under test). */
function harness(config: LlmRequestsConfig = {}) {
  const values = new Map<string, unknown>();
  let n = 0;
  const ref = (v: unknown) => {
    const k = `v${n++}`;
    values.set(k, v);
    return k;
  };
  const deps = {
    decode: async (_topic: string, b: Buffer) => values.get(b.toString())!,
    decodeCommand: async (r: { value: Buffer | null }) => values.get(r.value!.toString()) as Command,
  };
  let driver = new ProcessorTestDriver<unknown, LlmRequestsState>(
    llmRequestsProcessor({ ...deps, config }) as never,
  );
  const h = {
    get driver() {
      return driver;
    },
    restart() {
      driver = driver.restart();
    },
    incident: (rec: IncidentRecord) =>
      driver.pipe('hetu.facts.incidents', {
        key: `${CLUSTER}/${rec.id}`,
        value: ref(rec),
        timestamp: rec.ts,
      }),
    incidentGone: (id: string, ts: number) =>
      driver.pipe('hetu.facts.incidents', { key: `${CLUSTER}/${id}`, value: null, timestamp: ts }),
    rca: (rec: RcaRecord) =>
      driver.pipe('hetu.facts.rca', {
        key: `${CLUSTER}/${rec.incidentId}`,
        value: ref(rec),
        timestamp: rec.ts,
      }),
    /** A feed record of another source: it only moves event time. */
    tick: (ts: number) =>
      driver.pipe('hetu.internal.cluster-feed', {
        key: CLUSTER,
        value: 'metric',
        timestamp: ts,
        headers: { 'hetu-source-topic': Buffer.from('hetu.raw.metrics') },
      }),
    group: (rec: ErrorGroupRecord, ts: number) =>
      driver.pipe('hetu.internal.cluster-feed', {
        key: CLUSTER,
        value: ref(rec),
        timestamp: ts,
        headers: {
          'hetu-source-topic': Buffer.from('hetu.facts.error-groups'),
          'hetu-source-key': Buffer.from(`${CLUSTER}/${rec.id}`),
        },
      }),
    analysis: (a: LlmAnalysisRecord) =>
      driver.pipe('hetu.facts.llm-analyses', {
        key: `${CLUSTER}/${a.subjectKind}/${a.subjectId}`,
        value: ref(a),
        timestamp: a.ts,
      }),
    command: (c: Command) => driver.pipe('hetu.commands', { key: CLUSTER, value: ref(c), timestamp: c.ts }),
    requests: () => driver.output(LLM_REQUESTS_TOPIC).map((r) => (r as FactRecord).value as LlmRequestRecord),
  };
  return h;
}

function records(eventMessage?: string) {
  const { incident, rca } = oomIncident(eventMessage);
  return { incident: toIncidentRecord(incident, CLUSTER), rca: toRcaReportRecord(rca, CLUSTER) };
}

function groupRecord(overrides: Partial<ErrorGroupRecord> = {}): ErrorGroupRecord {
  const g = errorGroup();
  const sample = g.bestSample!;
  return {
    id: g.id,
    fingerprint: 'fp',
    faultKey: 'fk',
    cluster: CLUSTER,
    namespace: g.namespace,
    workload: g.workload,
    title: g.title,
    exceptionType: g.exceptionType ?? null,
    reason: g.reason,
    level: 'error',
    severityRank: 3,
    firstSeen: g.firstSeen,
    lastSeen: g.lastSeen,
    count: 12n,
    ownCount: 12n,
    status: 'open',
    regressed: false,
    regressedAt: null,
    resolvedAt: null,
    statusChangedAt: null,
    lastPod: sample.pod,
    lastContainer: sample.container,
    lastUrl: null,
    bestSample: {
      groupId: g.id,
      ts: sample.ts,
      pod: sample.pod,
      container: sample.container,
      level: 'error',
      exceptionType: sample.exceptionType ?? null,
      message: `${sample.message} (password=${SECRET})`,
      stack: sample.stack ?? null,
      url: null,
      requestId: null,
      traceId: null,
      truncated: false,
    },
    bestSampleScore: 1,
    occurrences: [],
    countersAt: g.lastSeen,
    count1m: 1n,
    count5m: 4n,
    count1h: 12n,
    count24h: 12n,
    sparkline: [],
    spike: false,
    mergedInto: null,
    mergedChildren: [],
    ...overrides,
  };
}

function outcome(req: LlmRequestRecord, overrides: Partial<LlmAnalysisRecord> = {}): LlmAnalysisRecord {
  return {
    id: req.id,
    ts: req.requestedAt,
    cluster: req.cluster,
    subjectKind: req.subjectKind,
    subjectId: req.subjectId,
    signature: req.signature,
    trigger: req.trigger,
    requestedAt: req.requestedAt,
    status: 'recorded',
    reason: null,
    code: null,
    message: null,
    resumesAt: null,
    incident: null,
    errorGroup: null,
    answer: null,
    citationsValid: true,
    unknownCitations: [],
    raw: null,
    model: 'm',
    inputTokens: 10,
    outputTokens: 5,
    estimated: false,
    attempts: 1,
    sent: true,
    promptHash: req.promptHash,
    answeredAt: 1_795_680_000_000,
    ...overrides,
  };
}

function command(id: string, type: string, targetIds: string[], ts: number, payload = '{}'): Command {
  return { id, ts, issuer: 'cli:ops', type, targetIds, payload };
}

describe('llm-requests processor', () => {
  it('requests an incident once its RCA of the same instant arrives, with a redacted prompt fixed by the log', async () => {
    const runs: string[] = [];
    for (let run = 0; run < 2; run++) {
      const h = harness();
      const { incident, rca } = records(`Back-off restarting failed container api; DB_PASSWORD=${SECRET}`);
      await h.incident(incident);
      expect(h.requests()).toEqual([]); // its RCA may still come
      await h.rca(rca);
      const reqs = h.requests();
      expect(reqs.map((r) => [r.subjectKind, r.subjectId, r.trigger, r.requestedAt])).toEqual([
        ['incident', incident.id, 'changed', incident.updatedAt],
      ]);
      const r = reqs[0]!;
      expect(r.signature).toBe(incidentSignature(incident, rca));
      expect(r.id).toBe(requestId(CLUSTER, 'incident', incident.id, r.signature));
      expect(r.messages.map((m) => m.role)).toEqual(['system', 'user']);
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(r.messages[1]!.content).toContain('[REDACTED:');
      expect(r.redactions.reduce((s, f) => s + f.count, 0)).toBeGreaterThan(0);
      // Every evidence id of the deterministic RCA may be cited (the others are `ev-<n>`).
      expect(r.evidenceIds.filter((id) => rca.evidence.some((e) => e.id === id)).sort()).toEqual(
        rca.evidence.map((e) => e.id).sort(),
      );
      runs.push(JSON.stringify(reqs, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    }
    expect(runs[1]).toBe(runs[0]); // deterministic
  });

  it('pseudonymises names when asked: tokens in what is sent, the table in the request', async () => {
    const h = harness({ pseudonymize: true });
    const { incident, rca } = records();
    await h.incident(incident);
    await h.rca(rca);
    const [r] = h.requests();
    const names = r!.pseudonyms.map((p) => p.name);
    // The incident's namespace, workload and pod, each under its token.
    expect(r!.pseudonyms.map((p) => p.token)).toEqual(expect.arrayContaining(['ns-1', 'wl-1', 'pod-1']));
    expect(names).toEqual(
      expect.arrayContaining([...incident.namespaces, ...incident.workloads.map((w) => w.name)]),
    );
    const sent = r!.messages.map((m) => m.content).join('\n');
    for (const p of r!.pseudonyms) {
      expect(sent).not.toMatch(
        new RegExp(`(^|[^A-Za-z0-9_-])${p.name.replace(/[.]/g, '\\.')}($|[^A-Za-z0-9_-])`),
      );
      expect(sent).toContain(p.token);
    }
    expect(r!.promptHash).toBe(createHash('sha256').update(JSON.stringify(r!.messages)).digest('hex'));
    // Off by default: the same incident gives no table.
    const plain = harness();
    await plain.incident(incident);
    await plain.rca(rca);
    expect(plain.requests()[0]!.pseudonyms).toEqual([]);
  });

  it('looks at a change without a new RCA when a later record arrives, and never requests a signature twice', async () => {
    const h = harness();
    const { incident, rca } = records();
    await h.incident(incident);
    await h.rca(rca);
    // The same story later (a count moved): same signature, no request.
    const again = { ...incident, ts: incident.ts + MIN, updatedAt: incident.updatedAt + MIN };
    await h.incident(again);
    await h.tick(again.ts + 1);
    expect(h.requests().length).toBe(1);
  });

  it('queues a newer story while a call runs, and sends the latest one when the outcome is recorded', async () => {
    const h = harness();
    const { incident, rca } = records();
    await h.incident(incident);
    await h.rca(rca);
    const [first] = h.requests();
    const worse = {
      ...incident,
      severity: 'critical' as const,
      ts: incident.ts + MIN,
      updatedAt: incident.updatedAt + MIN,
    };
    await h.incident(worse);
    await h.tick(worse.ts + 1);
    const worst = { ...worse, ts: worse.ts + MIN, updatedAt: worse.updatedAt + MIN, title: 'renamed' };
    await h.incident({ ...worst, signals: worst.signals.slice(0, 1) });
    await h.tick(worst.ts + 1);
    expect(h.requests().length).toBe(1); // one call in flight per incident
    await h.analysis(outcome(first!));
    const reqs = h.requests();
    expect(reqs.length).toBe(2);
    expect(reqs[1]!.signature).toBe(incidentSignature({ ...worst, signals: worst.signals.slice(0, 1) }, rca));
    expect(reqs[1]!.trigger).toBe('changed');
    // Its outcome ends it: nothing more is sent.
    await h.analysis(outcome(reqs[1]!));
    await h.tick(worst.ts + 10 * MIN);
    expect(h.requests().length).toBe(2);
  });

  it('requests a refused story again once event time passes the refusal’s resumesAt', async () => {
    const h = harness();
    const { incident, rca } = records();
    await h.incident(incident);
    await h.rca(rca);
    const [first] = h.requests();
    const resumesAt = Date.UTC(2026, 10, 27);
    await h.analysis(
      outcome(first!, { status: 'refused', reason: 'budget-exhausted', sent: false, attempts: 0, resumesAt }),
    );
    await h.tick(resumesAt - 1);
    expect(h.requests().length).toBe(1);
    await h.tick(resumesAt + 1);
    const reqs = h.requests();
    expect(reqs.map((r) => [r.trigger, r.signature, r.requestedAt])).toEqual([
      ['changed', first!.signature, first!.requestedAt],
      ['retry', first!.signature, resumesAt],
    ]);
    expect(reqs[1]!.id).toBe(first!.id); // the same request, asked again
  });

  it('does not analyse closed incidents', async () => {
    const h = harness();
    const { incident, rca } = records();
    await h.incident({ ...incident, status: 'resolved' });
    await h.rca(rca);
    await h.tick(incident.ts + MIN);
    expect(h.requests()).toEqual([]);
  });

  it('requests an error group when it is new, spiking or regressed, at most once per 10 min of event time', async () => {
    const h = harness();
    const t = T0 + 40 * MIN;
    await h.group(groupRecord({ level: 'warn' }), t);
    await h.group(groupRecord(), t + MIN); // raised to error: new
    await h.group(groupRecord({ spike: true }), t + 2 * MIN); // spike, within 10 min: no
    await h.group(groupRecord({ spike: false }), t + 13 * MIN);
    await h.group(groupRecord({ regressed: true }), t + 14 * MIN); // regressed, 13 min later: yes
    const reqs = h.requests();
    expect(reqs.map((r) => [r.subjectKind, r.trigger, r.signature])).toEqual([
      ['error-group', 'new', `new@${t + MIN}`],
      ['error-group', 'regressed', `regressed@${t + 14 * MIN}`],
    ]);
    expect(JSON.stringify(reqs)).not.toContain(SECRET);
    expect(reqs[0]!.redactions).toEqual([{ kind: 'password', count: 1 }]);
  });

  it('asks questions with the incident’s evidence and the history of recorded answers; refuses a bad question', async () => {
    const h = harness();
    const { incident, rca } = records();
    await h.incident(incident);
    await h.rca(rca);
    const ts = incident.ts + 5 * MIN;
    await h.command(
      command('c-1', 'incident.ask', [incident.id], ts, JSON.stringify({ question: `Why? token=${SECRET}` })),
    );
    const q1 = h.requests()[1]!;
    expect([q1.subjectKind, q1.subjectId, q1.signature, q1.trigger, q1.commandId, q1.issuer]).toEqual([
      'question',
      incident.id,
      'c-1',
      'ask',
      'c-1',
      'cli:ops',
    ]);
    expect(q1.question).toBe('Why? token=[REDACTED:token]');
    expect(JSON.stringify(q1)).not.toContain(SECRET);
    expect(q1.evidenceIds.length).toBeGreaterThan(0);
    await h.analysis(outcome(q1, { answer: { question: q1.question!, answer: 'Memory.', evidenceIds: [] } }));
    await h.command(command('c-2', 'incident.ask', [incident.id], ts + MIN, '{"question":"And now?"}'));
    // The same command again is a duplicate.
    await h.command(command('c-2', 'incident.ask', [incident.id], ts + MIN, '{"question":"And now?"}'));
    const q2 = h.requests()[2]!;
    expect(h.requests().length).toBe(3);
    expect(q2.history).toEqual([{ askedAt: ts, question: 'Why? token=[REDACTED:token]', answer: 'Memory.' }]);
    expect(q2.messages[1]!.content).toContain('"answer":"Memory."');
    await h.command(
      command(
        'c-3',
        'incident.ask',
        [incident.id],
        ts + 2 * MIN,
        JSON.stringify({ question: 'x'.repeat(2_001) }),
      ),
    );
    expect(h.driver.deadLetters.map((d) => [d.reasonCode, d.message])).toEqual([
      [
        'HETU_INPUT_INVALID',
        'Command c-3 (incident.ask) asks a question of 2001 characters; at most 2000 are allowed.',
      ],
    ]);
  });

  it('regenerates on command, and tells the worker when a subject is deleted', async () => {
    const h = harness();
    const { incident, rca } = records();
    await h.incident(incident);
    await h.rca(rca);
    const [first] = h.requests();
    await h.analysis(outcome(first!));
    await h.command(command('c-9', 'incident.regenerate', [incident.id], incident.ts + MIN));
    await h.incidentGone(incident.id, incident.ts + 2 * MIN);
    expect(h.requests().map((r) => [r.trigger, r.signature, r.messages.length])).toEqual([
      ['changed', first!.signature, 2],
      ['regenerate', `${first!.signature}~c-9`, 2],
      ['deleted', 'deleted', 0],
    ]);
  });

  it('replayed over a log that holds the answers, asks for nothing answered and is not held up by skipped calls', async () => {
    const first = harness();
    const { incident, rca } = records();
    await first.incident(incident);
    await first.rca(rca);
    const [r1] = first.requests();
    const worse = {
      ...incident,
      severity: 'critical' as const,
      ts: incident.ts + MIN,
      updatedAt: incident.updatedAt + MIN,
    };
    const sig2 = incidentSignature(worse, rca);
    const r2 = { ...r1!, id: 'req-2', signature: sig2, requestedAt: worse.ts, ts: worse.ts };

    // A fresh processor over the same inputs, the answers among them (merged by event time).
    const replay = harness();
    await replay.incident(incident);
    await replay.analysis(outcome(r1!));
    await replay.rca(rca);
    expect(replay.requests()).toEqual([]);

    // The first answer compacted away: the old story goes out again (the worker skips it without a
    // call), the newer one is queued behind it, then its answer is read back: nothing is held up.
    const compacted = harness();
    await compacted.incident(incident);
    await compacted.rca(rca);
    await compacted.incident(worse);
    await compacted.analysis(outcome(r2));
    await compacted.tick(worse.ts + 1);
    const worst = {
      ...worse,
      ts: worse.ts + 5 * MIN,
      updatedAt: worse.updatedAt + 5 * MIN,
      signals: worse.signals.slice(0, 1),
    };
    await compacted.incident(worst);
    await compacted.tick(worst.ts + 1);
    expect(compacted.requests().map((r) => r.signature)).toEqual([
      r1!.signature,
      incidentSignature(worst, rca),
    ]);
  });

  it('restores from its changelog and goes on as an uninterrupted run would', async () => {
    const run = async (restartAt: number) => {
      const h = harness();
      const { incident, rca } = records();
      let first: LlmRequestRecord | undefined;
      const steps: (() => Promise<void>)[] = [
        () => h.incident(incident),
        async () => {
          await h.rca(rca);
          first = h.requests()[0];
        },
        () =>
          h.incident({
            ...incident,
            severity: 'critical',
            ts: incident.ts + MIN,
            updatedAt: incident.updatedAt + MIN,
          }),
        () => h.tick(incident.ts + 2 * MIN),
        () => h.analysis(outcome(first!)),
        () => h.tick(incident.ts + 3 * MIN),
      ];
      const out: LlmRequestRecord[] = [];
      for (let i = 0; i < steps.length; i++) {
        if (i === restartAt) {
          out.push(...h.requests());
          h.restart();
        }
        await steps[i]!();
      }
      out.push(...h.requests());
      return out.map((r) => `${r.trigger} ${r.signature}`);
    };
    const whole = await run(-1);
    expect(whole.length).toBe(2);
    for (const at of [1, 2, 3, 4, 5]) expect(await run(at)).toEqual(whole);
  });
});
