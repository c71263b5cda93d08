/**
 * What the Errors and Error detail pages share: the GraphQL documents, the level chip, the status
 * action (a mutation → a command in the log → the processors → the projection, read back through
 * `after(position:)`), and the live subscription that refreshes every error query on screen.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { gql, useLive, type ApiError } from '../lib/graphql.ts';
import { Chip } from './common.tsx';

export type ErrorStatus = 'open' | 'resolved' | 'ignored';
export type ErrorLevel = 'fatal' | 'panic' | 'error' | 'warn';

export interface Position {
  topic: string;
  partition: number;
  offset: string;
}

export interface CountBy {
  key: string;
  groups: number;
  occurrences: number;
}

export interface ErrorSummaryData {
  groups: number;
  open: number;
  resolved: number;
  ignored: number;
  regressed: number;
  spiking: number;
  openErrors: number;
  warnings: number;
  occurrences: number;
  count1h: number;
  byReason: CountBy[];
  byNamespace: CountBy[];
  byWorkload: CountBy[];
}

export interface ErrorGroupRow {
  id: string;
  title: string;
  exceptionType: string | null;
  reason: string;
  level: ErrorLevel;
  severityRank: number;
  status: ErrorStatus;
  regressed: boolean;
  spike: boolean;
  workload: string;
  workloadKind: string | null;
  namespace: string;
  fingerprint: string;
  faultKey: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  count5m: number;
  count1h: number;
  sparkline: number[];
  lastPod: string;
  lastContainer: string;
  lastUrl: string | null;
  mergedInto: string | null;
  mergedChildren: string[];
  bestSample: { ts: string; message: string; stack: string | null; truncated: boolean } | null;
}

/** Every query key the error pages use; a live event or a command invalidates all of them. */
export const ERROR_QUERY_KEYS = [['errorGroups'], ['errorSummary'], ['errorGroup'], ['errorMergeCandidates']];

export const ERROR_GROUP_FIELDS = `
  id title exceptionType reason level severityRank status regressed spike workload workloadKind namespace
  fingerprint faultKey firstSeen lastSeen count count5m count1h sparkline lastPod lastContainer lastUrl
  mergedInto mergedChildren bestSample { ts message stack truncated }`;

export const SUMMARY_QUERY = `query ErrorSummary($namespace: String, $workload: String) {
  errorSummary(namespace: $namespace, workload: $workload) {
    groups open resolved ignored regressed spiking openErrors warnings occurrences count1h
    byReason { key groups occurrences } byNamespace { key groups occurrences } byWorkload { key groups occurrences }
  }
}`;

const CHANGED_SUBSCRIPTION = `subscription ErrorGroupChanged { errorGroupChanged { id deleted } }`;

/** Refreshes every error query on screen when a group is created, changed or deleted. */
export function useLiveErrors(): void {
  useLive(CHANGED_SUBSCRIPTION, {}, ERROR_QUERY_KEYS);
}

const LEVEL_TONE: Record<string, string> = {
  fatal: 'critical',
  panic: 'critical',
  error: 'high',
  warn: 'warning',
};

/** The group's severity (its level) as a coloured chip. */
export function ErrorLevelChip({ level }: { level: string }) {
  return (
    <Chip tone={LEVEL_TONE[level] ?? 'none'}>
      <span className="visually-hidden">Severity </span>
      {level}
    </Chip>
  );
}

export function StatusChip({ status, regressed }: { status: string; regressed?: boolean }) {
  return (
    <>
      <Chip tone={status === 'open' ? 'high' : status === 'resolved' ? 'ok' : 'none'}>{status}</Chip>
      {regressed ? <Chip tone="critical">regressed</Chip> : null}
    </>
  );
}

interface Receipt {
  id: string;
  position: Position;
}

/**
 * Runs a mutation that returns a command receipt, then waits until the command went through the
 * processors into the projections (`after`) and refreshes the error queries.
 */
export function useErrorCommand<V extends Record<string, unknown>>(mutation: string, field: string) {
  const client = useQueryClient();
  return useMutation<Receipt, ApiError, V>({
    mutationFn: async (vars) => {
      const data = await gql<Record<string, Receipt>>(mutation, vars);
      const receipt = data[field]!;
      await gql(
        `query AfterCommand($p: PositionInput!) { after(position: $p, timeoutMs: 15000) { freshness { caughtUp } } }`,
        { p: receipt.position },
      );
      return receipt;
    },
    onSettled: async () => {
      await Promise.all(ERROR_QUERY_KEYS.map((queryKey) => client.invalidateQueries({ queryKey })));
    },
  });
}

const SET_STATUS = `mutation SetErrorGroupStatus($id: ID!, $status: ErrorGroupStatus!) {
  setErrorGroupStatus(id: $id, status: $status) { id position { topic partition offset } }
}`;

/** Resolve / Ignore (open groups) or Reopen (resolved or ignored ones), with the pending and error states. */
export function StatusAction({ id, status, title }: { id: string; status: ErrorStatus; title: string }) {
  const m = useErrorCommand<{ id: string; status: ErrorStatus }>(SET_STATUS, 'setErrorGroupStatus');
  const actions: [ErrorStatus, string][] =
    status === 'open'
      ? [
          ['resolved', 'Resolve'],
          ['ignored', 'Ignore'],
        ]
      : [['open', 'Reopen']];
  return (
    <span className="err-actions">
      {actions.map(([to, label]) => (
        <button
          key={to}
          type="button"
          disabled={m.isPending}
          aria-label={`${label}: ${title}`}
          onClick={() => m.mutate({ id, status: to })}
        >
          {label}
        </button>
      ))}
      {m.isPending ? (
        <span role="status" className="muted">
          Saving…
        </span>
      ) : null}
      {m.error ? (
        <span role="alert" className="err-inline-error">
          {m.error.message}
        </span>
      ) : null}
    </span>
  );
}

/** `3/5m · 9/1h` with a label screen readers can read. */
export function Rates({ count5m, count1h }: { count5m: number; count1h: number }) {
  return (
    <span className="err-rates" title={`${count5m} in the last 5 minutes, ${count1h} in the last hour`}>
      {count5m}/5m · {count1h}/1h
    </span>
  );
}
