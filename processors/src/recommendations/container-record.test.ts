import { describe, expect, it } from 'vitest';
import { CONTAINER_RECORD_BINARY, decodeContainerRecord, encodeContainerRecord } from './container-record.ts';
import { HOUR_MS, addSample, windowToJSON, type WindowHistogram } from './histogram.ts';

const T0 = Date.UTC(2026, 10, 26, 0, 0, 0);

function entry(cpu: WindowHistogram, memory: WindowHistogram, lastTs = T0 + 5) {
  return {
    workload: { kind: 'Deployment', namespace: 'shop', name: 'api' },
    container: 'api',
    spec: { cpuRequest: 0.1, memoryRequest: 268435456, cpuLimit: null, memoryLimit: 536870912, replicas: 5 },
    lastTs,
    seq: 110378,
    cpu,
    memory,
  };
}

/** The record's JSON form as format 1 wrote it and a restore read it back. */
const viaJSON = (e: ReturnType<typeof entry>) =>
  JSON.parse(
    JSON.stringify({
      kind: 'container',
      v: 1,
      workload: e.workload,
      container: e.container,
      spec: e.spec,
      lastTs: Number.isFinite(e.lastTs) ? e.lastTs : null,
      seq: e.seq,
      cpu: windowToJSON(e.cpu),
      memory: windowToJSON(e.memory),
    }),
  );

describe('container changelog records (binary)', () => {
  it('decode to the JSON form of format 1, hours and buckets in order', () => {
    const cpu: WindowHistogram = new Map();
    const memory: WindowHistogram = new Map();
    for (let i = 0; i < 300; i++) {
      addSample(cpu, T0 + ((i * 7919) % 3) * HOUR_MS + i, 0.05 + ((i * 37) % 101) / 1000);
      addSample(memory, T0 + i, 1.5e8 + ((i * 7919) % 1000) * 1e5);
    }
    addSample(cpu, T0, 0); // the bucket of values ≤ 0
    for (const e of [entry(cpu, memory), entry(new Map(), new Map(), -Infinity), entry(cpu, new Map())]) {
      const bytes = encodeContainerRecord(e);
      expect(bytes[0]).toBe(CONTAINER_RECORD_BINARY);
      expect(decodeContainerRecord(bytes)).toEqual(viaJSON(e));
    }
  });

  it('keeps cells it cannot write compactly (buckets beyond int16, counts beyond uint32)', () => {
    const w: WindowHistogram = new Map([
      [
        10,
        {
          hour: 10,
          n: 2 ** 33,
          firstTs: 1,
          lastTs: 2,
          cells: new Map([
            [40000, { count: 2 ** 33, max: 1.5 }],
            [-3, { count: 1, max: 7e-300 }],
          ]),
        },
      ],
    ]);
    const e = entry(w, w);
    expect(decodeContainerRecord(encodeContainerRecord(e))).toEqual(viaJSON(e));
  });

  it('refuses a malformed record', () => {
    const cpu: WindowHistogram = new Map();
    addSample(cpu, T0, 1);
    const bytes = encodeContainerRecord(entry(cpu, cpu));
    expect(decodeContainerRecord(bytes.subarray(0, bytes.length - 1))).toBe(null);
    expect(decodeContainerRecord(Buffer.concat([bytes, Buffer.from([0])]))).toBe(null);
    expect(decodeContainerRecord(Buffer.from('{"kind":"container"}'))).toBe(null);
  });
});
