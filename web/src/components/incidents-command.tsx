/**
 * Mutations are commands (docs/api.md): a mutation appends a command to hetu.commands and answers
 * a receipt; the page then waits with `after(position:)` until the processors and projections have
 * applied it, and only then refetches — so what the page shows next is the projection's answer,
 * never a guess. Used by the incident and recommendation pages.
 */
import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ApiError, gql } from '../lib/graphql.ts';

interface Receipt {
  id: string;
  type: string;
  position: { topic: string; partition: number; offset: string };
}

const AFTER = /* GraphQL */ `
  query After($p: PositionInput!) {
    after(position: $p, timeoutMs: 20000) {
      freshness {
        caughtUp
      }
    }
  }
`;

/**
 * `run(vars)` sends the mutation (whose single top-level field returns a CommandReceipt with
 * `id type position { topic partition offset }`), waits until it is applied, then invalidates
 * `keys`. `mutation.isPending` covers the whole round trip.
 */
export function useCommand(mutation: string, keys: QueryKey[]) {
  const client = useQueryClient();
  return useMutation<Receipt, ApiError, Record<string, unknown>>({
    mutationFn: async (vars) => {
      const data = await gql<Record<string, Receipt>>(mutation, vars);
      const receipt = Object.values(data)[0];
      if (!receipt)
        throw new ApiError('The API answered the command without a receipt.', 'HETU_WEB_BAD_RESPONSE');
      const { topic, partition, offset } = receipt.position;
      await gql(AFTER, { p: { topic, partition, offset } });
      return receipt;
    },
    onSettled: async () => {
      await Promise.all(keys.map((queryKey) => client.invalidateQueries({ queryKey })));
    },
  });
}

/** The outcome of the last command, read out to screen readers (polite). */
export function CommandStatus({
  m,
  pending,
  done,
}: {
  m: { isPending: boolean; isError: boolean; isSuccess: boolean; error: ApiError | null };
  pending: ReactNode;
  done: ReactNode;
}) {
  return (
    <span role="status" aria-live="polite" className="inc-command-status">
      {m.isPending ? (
        pending
      ) : m.isError ? (
        <span className="level-critical">{m.error?.message}</span>
      ) : m.isSuccess ? (
        done
      ) : null}
    </span>
  );
}

/** Severity (incident, anomaly, recommendation) → chip tone. */
export function severityTone(severity: string): string {
  switch (severity) {
    case 'critical':
      return 'critical';
    case 'high':
      return 'high';
    case 'medium':
      return 'warning';
    default:
      // low: the plain chip (the text colour), which keeps AA contrast on every background.
      return '';
  }
}

/** Status → chip tone. */
export function statusTone(status: string): string {
  switch (status) {
    case 'open':
      return 'high';
    case 'investigating':
    case 'accepted':
      return 'warning';
    case 'resolved':
    case 'applied':
    case 'closed':
      return 'ok';
    default:
      return '';
  }
}

/** An event time as `2026-11-26 08:31:40 UTC` (the recording's clock, not the wall clock). */
export function EventTime({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  const text = at.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') + ' UTC';
  return <time dateTime={at}>{text}</time>;
}
