import { describe, expect, it } from 'vitest';
import type { KubeNode, NodeCondition, NodeHealth } from './index.ts';
import { nodeHealth } from './index.ts';
import { MINUTE, NOW, SECOND, at, readyNode } from './fixtures.ts';

function condition(node: KubeNode, type: string): NodeCondition {
  const c = node.status?.conditions?.find((x) => x.type === type);
  if (c === undefined) throw new Error(`fixture has no ${type} condition`);
  return c;
}

/** worker-1 after its kubelet stopped posting, as the node lifecycle controller marks it. */
function unknownSince(transition: string): KubeNode {
  const node = readyNode();
  for (const c of node.status?.conditions ?? []) {
    c.status = 'Unknown';
    c.reason = 'NodeStatusUnknown';
    c.message = 'Kubelet stopped posting node status.';
    c.lastHeartbeatTime = '2026-11-26T07:58:00Z';
    c.lastTransitionTime = transition;
  }
  return node;
}

describe('nodeHealth', () => {
  it('given a Ready node without pressure, then ready and no state', () => {
    expect(nodeHealth(readyNode(), NOW)).toEqual<NodeHealth>({
      name: 'worker-1',
      ready: true,
      unschedulable: false,
      states: [],
      reasons: [],
    });
  });

  it('given Ready Unknown for 59 s, then not ready but not yet NotReady', () => {
    const h = nodeHealth(unknownSince(at(-59 * SECOND)), NOW);
    expect(h.ready).toBe(false);
    expect(h.states).toEqual([]);
  });

  it('given Ready Unknown for 60 s, then NotReady, citing the condition (Unknown pressure is not pressure)', () => {
    expect(nodeHealth(unknownSince(at(-60 * SECOND)), NOW)).toEqual<NodeHealth>({
      name: 'worker-1',
      ready: false,
      unschedulable: false,
      states: ['NotReady'],
      reasons: [
        {
          state: 'NotReady',
          condition: 'Ready',
          status: 'Unknown',
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
          at: '2026-11-26T07:59:00Z',
        },
      ],
    });
  });

  it('given Ready False (kubelet not ready) for 5 min on a cordoned node, then NotReady and unschedulable', () => {
    const node = readyNode();
    node.spec = { unschedulable: true };
    Object.assign(condition(node, 'Ready'), {
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady',
      lastTransitionTime: at(-5 * MINUTE),
    });
    const h = nodeHealth(node, NOW);
    expect(h.states).toEqual(['NotReady']);
    expect(h.unschedulable).toBe(true);
  });

  it('given memory, disk and PID pressure True on a Ready node, then all three, in order', () => {
    const node = readyNode();
    Object.assign(condition(node, 'PIDPressure'), { status: 'True', reason: 'KubeletHasInsufficientPID' });
    Object.assign(condition(node, 'DiskPressure'), {
      status: 'True',
      reason: 'KubeletHasDiskPressure',
      message: 'kubelet has disk pressure',
      lastTransitionTime: '2026-11-26T07:59:50Z',
    });
    Object.assign(condition(node, 'MemoryPressure'), {
      status: 'True',
      reason: 'KubeletHasInsufficientMemory',
      message: 'kubelet has insufficient memory available',
      lastTransitionTime: '2026-11-26T07:59:59Z',
    });
    const h = nodeHealth(node, NOW);
    expect(h.ready).toBe(true);
    expect(h.states).toEqual(['MemoryPressure', 'DiskPressure', 'PIDPressure']);
    expect(h.reasons[0]).toEqual({
      state: 'MemoryPressure',
      condition: 'MemoryPressure',
      status: 'True',
      reason: 'KubeletHasInsufficientMemory',
      message: 'kubelet has insufficient memory available',
      at: '2026-11-26T07:59:59Z',
    });
  });

  it('given a Ready condition without lastTransitionTime, then "since" is the node creation', () => {
    const node = readyNode();
    node.metadata.creationTimestamp = at(-30 * SECOND);
    const ready = condition(node, 'Ready');
    ready.status = 'False';
    delete ready.lastTransitionTime;
    expect(nodeHealth(node, NOW).states).toEqual([]);
    expect(nodeHealth(node, NOW + 30 * SECOND).reasons).toEqual([
      {
        state: 'NotReady',
        condition: 'Ready',
        status: 'False',
        reason: 'KubeletReady',
        message: 'kubelet is posting ready status',
        at: '2026-11-26T07:59:30Z',
      },
    ]);
  });

  it('given no conditions and no creationTimestamp, then NotReady at once', () => {
    const node = readyNode();
    node.status = {};
    delete node.metadata.creationTimestamp;
    expect(nodeHealth(node, NOW).reasons).toEqual([
      { state: 'NotReady', condition: 'Ready', status: 'Unknown' },
    ]);
  });

  it('given a custom threshold, then it applies', () => {
    expect(nodeHealth(unknownSince(at(-10 * SECOND)), NOW, { notReadyAfterMs: 10 * SECOND }).states).toEqual([
      'NotReady',
    ]);
  });
});
