import { describe, expect, it } from 'vitest';
import { pseudonymTable, pseudonymize, reveal, revealValue } from './pseudonym.ts';

describe('pseudonymisation of names', () => {
  const table = pseudonymTable([
    { kind: 'workload', name: 'ledger' },
    { kind: 'namespace', name: 'payments' },
    { kind: 'pod', name: 'ledger-942kmt7ks8-l4lqk' },
    { kind: 'node', name: 'node-2' },
    { kind: 'workload', name: 'api' },
    { kind: 'namespace', name: 'shop' },
    { kind: 'namespace', name: 'kube-system' },
    { kind: 'workload', name: 'db' },
    { kind: 'workload', name: 'shop' },
  ]);

  it('numbers names per kind in name order and leaves system namespaces and short names', () => {
    expect(table).toEqual([
      { token: 'ns-1', name: 'payments' },
      { token: 'ns-2', name: 'shop' },
      { token: 'node-1', name: 'node-2' },
      { token: 'pod-1', name: 'ledger-942kmt7ks8-l4lqk' },
      { token: 'wl-1', name: 'api' },
      { token: 'wl-2', name: 'ledger' },
    ]);
  });

  it('replaces whole names only, longest first, and reveal reverses it', () => {
    const text =
      'Pod ledger-942kmt7ks8-l4lqk of Deployment payments/ledger on node-2 refused; shop/api calls ledger.payments.svc:8080 (apiVersion v1, ledgers, rapid, kube-system/coredns)';
    const hidden = pseudonymize(text, table);
    expect(hidden).toBe(
      'Pod pod-1 of Deployment ns-1/wl-2 on node-1 refused; ns-2/wl-1 calls wl-2.ns-1.svc:8080 (apiVersion v1, ledgers, rapid, kube-system/coredns)',
    );
    expect(reveal(hidden, table)).toBe(text);
    // A token inside a longer word is not a token.
    expect(reveal('wl-10 and xwl-1 and wl-1', table)).toBe('wl-10 and xwl-1 and api');
  });

  it('reveals every string of an answer', () => {
    expect(
      revealValue({ summary: 'wl-2 in ns-1 is down', steps: [{ step: 'restart pod-1' }], n: 3 }, table),
    ).toEqual({
      summary: 'ledger in payments is down',
      steps: [{ step: 'restart ledger-942kmt7ks8-l4lqk' }],
      n: 3,
    });
  });
});
