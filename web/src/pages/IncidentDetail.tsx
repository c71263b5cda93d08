/**
 * One incident (issue F): status actions, then three tabs kept in the URL (`?tab=rca|timeline|llm`):
 * the deterministic RCA (root cause, confidence and its derivation, causal chain linked to the
 * evidence, remediation, blast radius), the signal timeline, and the LLM's analysis with its
 * citations, "ask about this incident" and "regenerate" with live progress (`rcaProgress`).
 */
import { Link, useParams, useSearchParams } from 'react-router';
import { Chip, Empty, QueryState } from '../components/common.tsx';
import {
  CommandStatus,
  EventTime,
  severityTone,
  statusTone,
  useCommand,
} from '../components/incidents-command.tsx';
import { IncidentRca, type RcaData } from '../components/incidents-rca.tsx';
import { IncidentTimeline, type SignalData } from '../components/incidents-timeline.tsx';
import { IncidentLlm, LLM_FIELDS, type LlmIncidentData } from '../components/incidents-llm.tsx';
import { useGql, useLive } from '../lib/graphql.ts';

const DETAIL = /* GraphQL */ `
  query Incident($id: ID!) {
    incident(id: $id) {
      id
      cluster
      title
      status
      severity
      openedAt
      lastSignalAt
      updatedAt
      resolvedAt
      resolvedBy
      statusChangedAt
      namespaces
      nodes
      failedNodes
      omittedSignals
      workloads {
        kind
        namespace
        name
      }
      signals {
        source
        key
        kind
        severity
        firstSeen
        lastSeen
        count
        cleared
        clearedAt
        node
        resource {
          kind
          namespace
          name
        }
        detail {
          reason
          message
          container
          exitCode
          title
          metric
          value
          z
          oldImage
          newImage
        }
        evidence {
          topic
          partition
          offset
          ts
          excerpt
        }
      }
      rca {
        category
        subtype
        summary
        confidence
        ts
        rootCause {
          kind
          namespace
          name
        }
        derivation {
          factor
          weight
        }
        chain {
          step
          evidence
        }
        evidence {
          id
          type
          ts
          excerpt
          position {
            topic
            partition
            offset
          }
        }
        remediation {
          step
          risk
          automatable
          effort
        }
        blastRadius {
          workloads {
            kind
            namespace
            name
          }
          pods {
            kind
            namespace
            name
          }
          namespaces
        }
      }
      ${LLM_FIELDS}
    }
  }
`;

const CHANGED = /* GraphQL */ `
  subscription ($id: ID) {
    incidentChanged(id: $id) {
      id
    }
  }
`;

const SET_STATUS = /* GraphQL */ `
  mutation SetStatus($id: ID!, $status: IncidentStatus!) {
    setIncidentStatus(id: $id, status: $status) {
      id
      type
      position {
        topic
        partition
        offset
      }
    }
  }
`;

export interface IncidentData extends LlmIncidentData {
  id: string;
  cluster: string;
  title: string;
  status: string;
  severity: string;
  openedAt: string;
  lastSignalAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  statusChangedAt: string | null;
  namespaces: string[];
  nodes: string[];
  failedNodes: string[];
  omittedSignals: number;
  workloads: { kind: string; namespace: string; name: string }[];
  signals: SignalData[];
  rca: RcaData | null;
}

const TABS: [string, string][] = [
  ['rca', 'Root cause'],
  ['timeline', 'Signal timeline'],
  ['llm', 'LLM analysis'],
];

const ACTIONS: Record<string, [string, string][]> = {
  open: [
    ['investigating', 'Start investigating'],
    ['resolved', 'Resolve'],
    ['dismissed', 'Dismiss'],
  ],
  investigating: [
    ['resolved', 'Resolve'],
    ['dismissed', 'Dismiss'],
    ['open', 'Back to open'],
  ],
  resolved: [['open', 'Reopen']],
  dismissed: [['open', 'Reopen']],
};

export default function IncidentDetail() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const tab = TABS.find(([k]) => k === params.get('tab'))?.[0] ?? 'rca';
  const q = useGql<{ incident: IncidentData | null }>('incident', DETAIL, { id });
  useLive(CHANGED, { id }, [['incident'], ['incidents']]);
  const setStatus = useCommand(SET_STATUS, [['incident'], ['incidents']]);

  return (
    <QueryState q={q} what="the incident">
      {({ incident }) =>
        !incident ? (
          <Empty>
            No incident {id} in the projections: it may have expired.{' '}
            <Link to="/incidents">Back to incidents</Link>.
          </Empty>
        ) : (
          <article className="inc-detail" aria-labelledby="inc-detail-title">
            <p className="inc-breadcrumb">
              <Link to="/incidents">Incidents</Link> / <span className="muted">{incident.id}</span>
            </p>
            <h1 id="inc-detail-title">{incident.title}</h1>
            <div className="inc-meta">
              <Chip tone={severityTone(incident.severity)}>{incident.severity}</Chip>
              <span>
                Status:{' '}
                <span data-testid="incident-status">
                  <Chip tone={statusTone(incident.status)}>{incident.status}</Chip>
                </span>
                {incident.resolvedBy ? <span className="muted"> (by {incident.resolvedBy})</span> : null}
              </span>
              <span>
                Opened <EventTime at={incident.openedAt} />
              </span>
              <span>
                Last signal <EventTime at={incident.lastSignalAt} />
              </span>
              <span className="muted">
                {incident.namespaces.join(', ')}
                {incident.nodes.length ? ` · nodes ${incident.nodes.join(', ')}` : ''}
              </span>
            </div>
            <div className="inc-actions" role="group" aria-label="Status actions">
              {(ACTIONS[incident.status] ?? []).map(([status, label]) => (
                <button
                  key={status}
                  type="button"
                  disabled={setStatus.isPending}
                  onClick={() => setStatus.mutate({ id: incident.id, status })}
                >
                  {label}
                </button>
              ))}
              <CommandStatus m={setStatus} pending="Saving the status…" done="Status saved." />
            </div>
            <div role="tablist" aria-label="Incident views" className="inc-tabs-row">
              {TABS.map(([k, label]) => (
                <button
                  key={k}
                  type="button"
                  role="tab"
                  id={`inc-tab-${k}`}
                  aria-selected={tab === k}
                  aria-controls={`inc-panel-${k}`}
                  className={tab === k ? 'inc-tab inc-tab-active' : 'inc-tab'}
                  onClick={() => {
                    const next = new URLSearchParams(params);
                    next.set('tab', k);
                    setParams(next, { replace: true });
                  }}
                >
                  {label}
                  {k === 'timeline' ? <span className="inc-count"> {incident.signals.length}</span> : null}
                </button>
              ))}
            </div>
            <div
              role="tabpanel"
              id={`inc-panel-${tab}`}
              aria-labelledby={`inc-tab-${tab}`}
              className="inc-panel"
            >
              {tab === 'rca' ? (
                incident.rca ? (
                  <IncidentRca rca={incident.rca} />
                ) : (
                  <Empty>
                    The deterministic RCA has not been written yet; it follows the incident's next change.
                  </Empty>
                )
              ) : tab === 'timeline' ? (
                <IncidentTimeline signals={incident.signals} omitted={incident.omittedSignals} />
              ) : (
                <IncidentLlm incident={incident} />
              )}
            </div>
          </article>
        )
      }
    </QueryState>
  );
}
