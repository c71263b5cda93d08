/**
 * Settings & status (issue F): the API token this browser sends, the LLM second opinion (endpoint,
 * model, budget and usage), the pipeline's health (lag per consumer group, dead letters, recent
 * commands) and the server's version. Sections have anchors: /settings#token, #llm, #pipeline,
 * #dead-letters, #commands, #version.
 */
import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Chip, Empty, QueryState } from '../components/common.tsx';
import { EventAt, Panel } from '../components/dash.tsx';
import { getToken, setToken, useGql } from '../lib/graphql.ts';

interface SettingsData {
  about: {
    version: string;
    llm: {
      configured: boolean;
      endpoint: string | null;
      model: string | null;
      pseudonymize: boolean;
      dailyTokens: number | null;
    };
  };
  llm: {
    available: boolean;
    budget: LlmDay | null;
    days: LlmDay[];
    recorded: number;
    failed: number;
    refused: number;
    pending: number;
  };
}

interface LlmDay {
  day: string;
  inputTokens: number;
  outputTokens: number;
  used: number;
  calls: number;
  limit: number;
  remaining: number;
  exhausted: boolean;
}

interface PipelineData {
  freshness: { caughtUp: boolean; lag: number; lastEventTime: string | null };
  pipeline: {
    log: string;
    topics: { name: string; records: number }[];
    groups: { group: string; kind: string; name: string; lag: number; caughtUp: boolean; topics: string[] }[];
    deadLetters: {
      total: number;
      byReason: { processor: string; reasonCode: string; count: number; lastAt: string }[];
      recent: { ts: string; processor: string; reasonCode: string; message: string }[];
    };
    recentCommands: { id: string; ts: string; issuer: string; type: string; targetIds: string[] }[];
  };
}

const SETTINGS = /* GraphQL */ `
  query Settings {
    about {
      version
      llm {
        configured
        endpoint
        model
        pseudonymize
        dailyTokens
      }
    }
    llm {
      available
      budget {
        day
        inputTokens
        outputTokens
        used
        calls
        limit
        remaining
        exhausted
      }
      days(last: 7) {
        day
        inputTokens
        outputTokens
        used
        calls
        limit
        remaining
        exhausted
      }
      recorded
      failed
      refused
      pending
    }
  }
`;

const PIPELINE = /* GraphQL */ `
  query SettingsPipeline {
    freshness {
      caughtUp
      lag
      lastEventTime
    }
    pipeline {
      log
      topics {
        name
        records
      }
      groups {
        group
        kind
        name
        lag
        caughtUp
        topics
      }
      deadLetters {
        total
        byReason {
          processor
          reasonCode
          count
          lastAt
        }
        recent(first: 5) {
          ts
          processor
          reasonCode
          message
        }
      }
      recentCommands(first: 10) {
        id
        ts
        issuer
        type
        targetIds
      }
    }
  }
`;

const fmt = (n: number) => n.toLocaleString('en');

export default function Settings() {
  const q = useGql<SettingsData>('st-settings', SETTINGS);
  const p = useGql<PipelineData>('st-pipeline', PIPELINE, {}, { refetchInterval: 10_000 });
  return (
    <div className="st">
      <h1>Settings and status</h1>
      <div className="ov-grid">
        <TokenForm />
        <Panel title="Version" id="version">
          <QueryState q={q} what="the version">
            {(d) => (
              <dl className="dash-facts">
                <dt>hetu</dt>
                <dd data-testid="version">{d.about.version}</dd>
                <dt>Dashboard</dt>
                <dd>served by this hetu from web/dist</dd>
              </dl>
            )}
          </QueryState>
        </Panel>
        <Panel title="LLM second opinion" id="llm">
          <QueryState q={q} what="the LLM status">
            {(d) => <Llm d={d} />}
          </QueryState>
        </Panel>
        <Panel title="Pipeline health" id="pipeline">
          <QueryState q={p} what="the pipeline status">
            {(d) => <Pipeline d={d} />}
          </QueryState>
        </Panel>
        <Panel title="Dead letters" id="dead-letters">
          <QueryState q={p} what="dead letters">
            {(d) => <DeadLetters d={d.pipeline.deadLetters} />}
          </QueryState>
        </Panel>
        <Panel title="Recent commands" id="commands">
          <QueryState q={p} what="recent commands">
            {(d) => <Commands rows={d.pipeline.recentCommands} />}
          </QueryState>
        </Panel>
      </div>
    </div>
  );
}

function TokenForm() {
  const client = useQueryClient();
  const [value, setValue] = useState('');
  const [saved, setSaved] = useState(() => getToken() !== null);
  const [message, setMessage] = useState('');
  const save = (e: FormEvent) => {
    e.preventDefault();
    const t = value.trim();
    if (!t) {
      setMessage('Type a token first, or use Clear to send none.');
      return;
    }
    setToken(t);
    setValue('');
    setSaved(true);
    setMessage('Token saved in this browser; every page now sends it.');
    void client.invalidateQueries();
  };
  const clear = () => {
    setToken(null);
    setSaved(false);
    setMessage('Token cleared: requests go without one (enough on loopback when the server has no tokens).');
    void client.invalidateQueries();
  };
  return (
    <Panel title="API token" id="token">
      <p className="muted">
        Needed when hetu runs with HETU_API_READ_TOKEN / HETU_API_ADMIN_TOKEN (beyond loopback). A read token
        shows everything; changing a status needs an admin token. Kept in this browser&apos;s local storage
        only.
      </p>
      <form onSubmit={save} className="st-token">
        <label htmlFor="st-token-input">Token</label>
        <input
          id="st-token-input"
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder={saved ? 'a token is saved' : 'paste a token'}
        />
        <button type="submit">Save token</button>
        <button type="button" onClick={clear} disabled={!saved}>
          Clear token
        </button>
      </form>
      <p role="status" className="st-message" data-testid="token-status">
        {message || (saved ? 'A token is saved.' : 'No token saved.')}
      </p>
    </Panel>
  );
}

function Llm({ d }: { d: SettingsData }) {
  const a = d.about.llm;
  const b = d.llm.budget;
  return (
    <>
      <dl className="dash-facts" data-testid="llm-setup">
        <dt>Status</dt>
        <dd>{a.configured ? <Chip tone="ok">configured</Chip> : <Chip tone="none">not configured</Chip>}</dd>
        <dt>Endpoint</dt>
        <dd>{a.endpoint ?? <span className="muted">none (HETU_LLM_BASE_URL)</span>}</dd>
        <dt>Model</dt>
        <dd>{a.model ?? <span className="muted">none (HETU_LLM_MODEL)</span>}</dd>
        <dt>Names</dt>
        <dd>{a.pseudonymize ? 'pseudonymised before sending' : 'sent as they are'}</dd>
        <dt>Daily budget</dt>
        <dd>{a.dailyTokens === null ? '—' : `${fmt(a.dailyTokens)} tokens`}</dd>
        <dt>Today</dt>
        <dd>
          {b ? (
            <>
              {fmt(b.used)} of {fmt(b.limit)} tokens ({b.calls} calls) on {b.day}
              {b.exhausted ? (
                <>
                  {' '}
                  <Chip tone="critical">exhausted</Chip>
                </>
              ) : null}
              <meter min={0} max={b.limit} value={b.used} aria-label="Share of today's token budget used" />
            </>
          ) : (
            <span className="muted">no calls yet</span>
          )}
        </dd>
        <dt>Analyses</dt>
        <dd>
          {d.llm.recorded} recorded · {d.llm.failed} failed · {d.llm.refused} refused · {d.llm.pending}{' '}
          pending
        </dd>
      </dl>
      {!a.configured ? (
        <p className="muted">
          Optional: set HETU_LLM_BASE_URL (an OpenAI-compatible endpoint) and HETU_LLM_MODEL, then restart
          hetu. Root causes come from the deterministic RCA either way (docs/llm.md).
        </p>
      ) : null}
      {d.llm.days.length > 0 ? (
        <div className="dash-table-wrap">
          <table className="dash-table">
            <caption>Usage per UTC day</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" className="num">
                  Calls
                </th>
                <th scope="col" className="num">
                  Tokens used
                </th>
                <th scope="col" className="num">
                  Remaining
                </th>
              </tr>
            </thead>
            <tbody>
              {d.llm.days.map((day) => (
                <tr key={day.day}>
                  <th scope="row">{day.day}</th>
                  <td className="num">{day.calls}</td>
                  <td className="num">{fmt(day.used)}</td>
                  <td className="num">{fmt(day.remaining)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

function Pipeline({ d }: { d: PipelineData }) {
  const behind = d.pipeline.groups.filter((g) => !g.caughtUp);
  const records = d.pipeline.topics.reduce((a, t) => a + t.records, 0);
  return (
    <>
      <dl className="dash-facts" data-testid="pipeline-health">
        <dt>State</dt>
        <dd>
          {behind.length === 0 ? (
            <Chip tone="ok">caught up</Chip>
          ) : (
            <Chip tone="degraded">{behind.length} behind</Chip>
          )}
        </dd>
        <dt>Projections lag</dt>
        <dd>{fmt(d.freshness.lag)} records</dd>
        <dt>Newest event</dt>
        <dd>
          <EventAt at={d.freshness.lastEventTime} withDate />
        </dd>
        <dt>Log</dt>
        <dd>
          {d.pipeline.log} · {d.pipeline.topics.length} topics · {fmt(records)} records
        </dd>
      </dl>
      <div className="dash-table-wrap">
        <table className="dash-table">
          <caption>Consumer groups</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col" className="num">
                Lag
              </th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {d.pipeline.groups.map((g) => (
              <tr key={g.group}>
                <th scope="row" title={g.group}>
                  {g.name}
                </th>
                <td>{g.kind}</td>
                <td className="num">{fmt(g.lag)}</td>
                <td>{g.caughtUp ? <Chip tone="ok">caught up</Chip> : <Chip tone="degraded">behind</Chip>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function DeadLetters({ d }: { d: PipelineData['pipeline']['deadLetters'] }) {
  if (d.total === 0) return <Empty>No dead letters: every record was read.</Empty>;
  return (
    <>
      <p>
        {fmt(d.total)} records could not be processed and were set aside (hetu.dlq); <code>hetu dlq</code>{' '}
        lists them.
      </p>
      <div className="dash-table-wrap">
        <table className="dash-table">
          <caption className="visually-hidden">Dead letters by processor and reason</caption>
          <thead>
            <tr>
              <th scope="col">Processor</th>
              <th scope="col">Reason</th>
              <th scope="col" className="num">
                Count
              </th>
              <th scope="col">Last</th>
            </tr>
          </thead>
          <tbody>
            {d.byReason.map((r) => (
              <tr key={`${r.processor}-${r.reasonCode}`}>
                <th scope="row">{r.processor}</th>
                <td>
                  <code>{r.reasonCode}</code>
                </td>
                <td className="num">{fmt(r.count)}</td>
                <td>
                  <EventAt at={r.lastAt} withDate />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ul className="ov-list">
        {d.recent.map((r, i) => (
          <li key={i}>
            <EventAt at={r.ts} /> <code>{r.reasonCode}</code> {r.message}
          </li>
        ))}
      </ul>
    </>
  );
}

function Commands({ rows }: { rows: PipelineData['pipeline']['recentCommands'] }) {
  if (rows.length === 0)
    return <Empty>No commands yet: status changes made here or with the CLI are listed once issued.</Empty>;
  return (
    <div className="dash-table-wrap">
      <table className="dash-table" data-testid="recent-commands">
        <caption className="visually-hidden">Recent commands, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Command</th>
            <th scope="col">Target</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.id}>
              <th scope="row">
                <EventAt at={c.ts} withDate />
              </th>
              <td>{c.type}</td>
              <td className="dr-detail">{c.targetIds.join(', ')}</td>
              <td>{c.issuer}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
