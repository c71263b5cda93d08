/**
 * The LLM's second opinion on an incident (SPEC §7, optional): the latest analysis with its
 * citations (linked to the RCA's evidence when the id is there), "regenerate" with live progress
 * from the `rcaProgress` subscription, and "ask about this incident" with the answers so far.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { Chip } from './common.tsx';
import { CommandStatus, EventTime, useCommand } from './incidents-command.tsx';
import { evidenceAnchor, type RcaData } from './incidents-rca.tsx';
import { subscribe } from '../lib/graphql.ts';

const ANALYSIS = `
  id
  status
  trigger
  reason
  code
  message
  requestedAt
  answeredAt
  resumesAt
  model
  inputTokens
  outputTokens
  citationsValid
  unknownCitations
  incident {
    summary
    rootCause {
      description
      confidence
      resource {
        kind
        namespace
        name
      }
    }
    contributingFactors
    blastRadius {
      workloads
      pods
      namespaces
    }
    remediation {
      step
      risk
      automatable
      effort
    }
    preventiveMeasures
    evidenceIds
  }
  answer {
    question
    answer
    evidenceIds
  }
`;

/** The incident fields this component reads (spliced into the page's query). */
export const LLM_FIELDS = `
  llmAnalysis { ${ANALYSIS} }
  llmPending { id trigger requestedAt }
  questions { ${ANALYSIS} }
`;

interface Analysis {
  id: string | null;
  status: string | null;
  trigger: string | null;
  reason: string | null;
  code: string | null;
  message: string | null;
  requestedAt: string | null;
  answeredAt: string | null;
  resumesAt: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  citationsValid: boolean | null;
  unknownCitations: string[] | null;
  incident: {
    summary: string | null;
    rootCause: {
      description: string | null;
      confidence: number | null;
      resource: { kind: string; namespace: string; name: string } | null;
    } | null;
    contributingFactors: string[] | null;
    blastRadius: { workloads: string[] | null; pods: string[] | null; namespaces: string[] | null } | null;
    remediation:
      | { step: string | null; risk: string | null; automatable: boolean | null; effort: string | null }[]
      | null;
    preventiveMeasures: string[] | null;
    evidenceIds: string[] | null;
  } | null;
  answer: { question: string | null; answer: string | null; evidenceIds: string[] | null } | null;
}

export interface LlmIncidentData {
  id: string;
  rca: RcaData | null;
  llmAnalysis: Analysis | null;
  llmPending: { id: string; trigger: string; requestedAt: string }[];
  questions: Analysis[];
}

const REGENERATE = /* GraphQL */ `
  mutation Regenerate($id: ID!) {
    regenerateRca(incidentId: $id) {
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

const ASK = /* GraphQL */ `
  mutation Ask($id: ID!, $question: String!) {
    askIncident(incidentId: $id, question: $question) {
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

const PROGRESS = /* GraphQL */ `
  subscription Progress($id: ID) {
    rcaProgress(incidentId: $id) {
      kind
      deleted
      position {
        offset
      }
      llmAnalysis {
        status
        trigger
        reason
        message
        answeredAt
      }
    }
  }
`;

interface ProgressEvent {
  kind: string;
  deleted: boolean;
  position: { offset: string };
  llmAnalysis: {
    status: string | null;
    trigger: string | null;
    reason: string | null;
    message: string | null;
  } | null;
}

const PROGRESS_TEXT: Record<string, string> = {
  rca: 'Deterministic RCA rewritten',
  'llm-requested': 'Request queued for the LLM',
  'llm-analysis': 'LLM analysis',
  'llm-answer': 'Question answered',
};

function Citations({ ids, known }: { ids: string[] | null; known: Set<string> }) {
  if (!ids?.length) return <span className="muted">none</span>;
  return (
    <>
      {ids.map((id, i) => (
        <span key={id}>
          {i ? ', ' : ''}
          {known.has(id) ? (
            <Link to={{ search: '?tab=rca', hash: evidenceAnchor(id) }}>{id}</Link>
          ) : (
            <code>{id}</code>
          )}
        </span>
      ))}
    </>
  );
}

function Outcome({ a }: { a: Analysis }) {
  if (a.status === 'recorded') return <Chip tone="ok">recorded</Chip>;
  return (
    <>
      <Chip tone={a.status === 'refused' ? 'warning' : 'critical'}>{a.status ?? 'unknown'}</Chip>{' '}
      <span>{a.message ?? a.reason ?? ''}</span>
      {a.resumesAt ? (
        <span className="muted">
          {' '}
          (resumes <EventTime at={a.resumesAt} />)
        </span>
      ) : null}
    </>
  );
}

function AnalysisView({ a, known }: { a: Analysis; known: Set<string> }) {
  const inc = a.incident;
  return (
    <div className="inc-llm-analysis">
      <p className="inc-llm-meta">
        <Outcome a={a} /> <span className="muted">model {a.model ?? '—'}</span>{' '}
        <span className="muted">· trigger {a.trigger ?? '—'}</span>{' '}
        <span className="muted">
          · answered <EventTime at={a.answeredAt} /> · {a.inputTokens ?? 0} + {a.outputTokens ?? 0} tokens
        </span>
      </p>
      {inc ? (
        <>
          <p className="inc-llm-summary">{inc.summary}</p>
          {inc.rootCause ? (
            <p>
              <strong>Root cause:</strong> {inc.rootCause.description}
              {inc.rootCause.confidence !== null
                ? ` (${Math.round(inc.rootCause.confidence * 100)} % confident)`
                : ''}
              {inc.rootCause.resource
                ? ` — ${inc.rootCause.resource.kind} ${inc.rootCause.resource.namespace}/${inc.rootCause.resource.name}`
                : ''}
            </p>
          ) : null}
          {inc.contributingFactors?.length ? (
            <>
              <h3>Contributing factors</h3>
              <ul>
                {inc.contributingFactors.map((f, i) => (
                  <li key={i}>{f}</li>
                ))}
              </ul>
            </>
          ) : null}
          {inc.remediation?.length ? (
            <>
              <h3>Remediation</h3>
              <ol>
                {inc.remediation.map((r, i) => (
                  <li key={i}>
                    {r.step}{' '}
                    <span className="muted">
                      (risk {r.risk}, effort {r.effort})
                    </span>
                  </li>
                ))}
              </ol>
            </>
          ) : null}
          {inc.preventiveMeasures?.length ? (
            <>
              <h3>Preventive measures</h3>
              <ul>
                {inc.preventiveMeasures.map((f, i) => (
                  <li key={i}>{f}</li>
                ))}
              </ul>
            </>
          ) : null}
          <p className="inc-citations">
            <strong>Citations:</strong> <Citations ids={inc.evidenceIds} known={known} />{' '}
            {a.citationsValid === false ? (
              <Chip tone="warning">
                unverified: cites {a.unknownCitations?.join(', ')} not in the evidence
              </Chip>
            ) : a.citationsValid ? (
              <Chip tone="ok">every citation checked</Chip>
            ) : null}
          </p>
        </>
      ) : null}
    </div>
  );
}

export function IncidentLlm({ incident }: { incident: LlmIncidentData }) {
  const keys = [['incident'], ['incidents']];
  const client = useQueryClient();
  const regenerate = useCommand(REGENERATE, keys);
  const ask = useCommand(ASK, keys);
  const [question, setQuestion] = useState('');
  const [progress, setProgress] = useState<ProgressEvent[]>([]);
  const known = new Set(incident.rca?.evidence.map((e) => e.id) ?? []);

  useEffect(
    () =>
      subscribe<{ rcaProgress: ProgressEvent }>(PROGRESS, { id: incident.id }, (d) => {
        setProgress((p) => [...p.slice(-19), d.rcaProgress]);
        void client.invalidateQueries({ queryKey: ['incident'] });
      }),
    [client, incident.id],
  );

  const onAsk = (e: FormEvent) => {
    e.preventDefault();
    const text = question.trim();
    if (!text) return;
    ask.mutate({ id: incident.id, question: text }, { onSuccess: () => setQuestion('') });
  };

  const a = incident.llmAnalysis;
  return (
    <div className="inc-llm">
      <section className="panel" aria-labelledby="inc-llm-title">
        <h2 id="inc-llm-title">LLM analysis</h2>
        <p className="muted">A second opinion, stored beside the deterministic RCA and never over it.</p>
        {a ? (
          <AnalysisView a={a} known={known} />
        ) : (
          <p className="state state-empty">
            No LLM analysis of this incident yet. hetu asks a model only when one is configured (
            <code>hetu start --llm-base-url … --llm-model …</code>, docs/llm.md).
          </p>
        )}
        <div className="inc-actions">
          <button
            type="button"
            disabled={regenerate.isPending}
            onClick={() => {
              setProgress([]);
              regenerate.mutate({ id: incident.id });
            }}
          >
            Regenerate analysis
          </button>
          <CommandStatus m={regenerate} pending="Sending…" done="Regeneration requested." />
        </div>
        <div aria-live="polite" className="inc-progress" aria-label="Progress">
          {incident.llmPending.length ? (
            <p>
              <span className="inc-spinner" aria-hidden="true" /> Not answered yet:{' '}
              {incident.llmPending
                .map((p) => `${p.trigger} request of ${p.requestedAt.replace('T', ' ').slice(0, 19)} UTC`)
                .join(', ')}
              . The LLM worker answers when a model is configured.
            </p>
          ) : null}
          {progress.length ? (
            <ol className="inc-progress-list">
              {progress.map((p) => (
                <li key={p.position.offset + p.kind}>
                  {PROGRESS_TEXT[p.kind] ?? p.kind}
                  {p.llmAnalysis?.trigger ? ` (${p.llmAnalysis.trigger})` : ''}
                  {p.llmAnalysis?.status ? `: ${p.llmAnalysis.status}` : ''}
                  {p.llmAnalysis?.message ? ` — ${p.llmAnalysis.message}` : ''}
                </li>
              ))}
            </ol>
          ) : null}
        </div>
      </section>

      <section className="panel" aria-labelledby="inc-ask-title">
        <h2 id="inc-ask-title">Ask about this incident</h2>
        {incident.questions.length ? (
          <ol className="inc-questions">
            {incident.questions.map((q, i) => (
              <li key={q.id ?? i}>
                <p className="inc-question">
                  <strong>Q:</strong> {q.answer?.question ?? '(question not kept)'}
                </p>
                {q.status === 'recorded' && q.answer ? (
                  <>
                    <p className="inc-answer">
                      <strong>A:</strong> {q.answer.answer}
                    </p>
                    <p className="muted">
                      Citations: <Citations ids={q.answer.evidenceIds} known={known} />
                    </p>
                  </>
                ) : (
                  <p>
                    <Outcome a={q} />
                  </p>
                )}
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">No questions yet.</p>
        )}
        <form onSubmit={onAsk} className="inc-ask">
          <label htmlFor="inc-question">Your question (at most 2 000 characters)</label>
          <textarea
            id="inc-question"
            rows={3}
            maxLength={2000}
            value={question}
            onChange={(e) => setQuestion(e.target.value)}
            placeholder="Why did the pod run out of memory?"
          />
          <div className="inc-actions">
            <button type="submit" disabled={ask.isPending || !question.trim()}>
              Ask
            </button>
            <CommandStatus
              m={ask}
              pending="Sending the question…"
              done="Question sent; the answer appears here."
            />
          </div>
        </form>
      </section>
    </div>
  );
}
