/**
 * The deterministic RCA of an incident (SPEC §7): root cause, confidence with how it was derived,
 * the causal chain whose steps link to the evidence (anchors `#ev-…` in the evidence list, each
 * with its log position), remediation steps and the blast radius.
 */
import { useEffect } from 'react';
import { useLocation } from 'react-router';
import { Chip } from './common.tsx';

export interface IncidentResource {
  kind: string;
  namespace: string;
  name: string;
}

export interface RcaData {
  category: string;
  subtype: string | null;
  summary: string;
  confidence: number;
  ts: string;
  rootCause: IncidentResource;
  derivation: { factor: string; weight: number }[];
  chain: { step: string; evidence: string[] }[];
  evidence: {
    id: string;
    type: string;
    ts: string;
    excerpt: string;
    position: { topic: string; partition: number; offset: string } | null;
  }[];
  remediation: { step: string; risk: string; automatable: boolean; effort: string }[];
  blastRadius: { workloads: IncidentResource[]; pods: IncidentResource[]; namespaces: string[] };
}

export const resourceText = (r: IncidentResource) =>
  r.namespace ? `${r.kind} ${r.namespace}/${r.name}` : `${r.kind} ${r.name}`;

/** The anchor of an evidence item (ids are `ev-<hex>`, safe in a fragment). */
export const evidenceAnchor = (id: string) => `evidence-${id}`;

export function IncidentRca({ rca }: { rca: RcaData }) {
  const pct = Math.round(rca.confidence * 100);
  const known = new Set(rca.evidence.map((e) => e.id));
  const { hash } = useLocation();
  useEffect(() => {
    // A citation link (`?tab=rca#evidence-…`) from the LLM tab: bring that evidence into view.
    if (!hash) return;
    const el = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (el) {
      el.scrollIntoView({ block: 'center' });
      el.focus();
    }
  }, [hash]);
  return (
    <div className="inc-rca">
      <section className="panel inc-rootcause" aria-labelledby="inc-rc-title">
        <h2 id="inc-rc-title">Root cause</h2>
        <p className="inc-rc-summary">{rca.summary}</p>
        <dl className="inc-facts">
          <dt>Category</dt>
          <dd>
            <Chip tone="high">{rca.category}</Chip>
            {rca.subtype ? <span className="muted"> {rca.subtype}</span> : null}
          </dd>
          <dt>Resource</dt>
          <dd>{resourceText(rca.rootCause)}</dd>
          <dt>Confidence</dt>
          <dd>
            <meter min={0} max={100} value={pct} aria-label="Confidence" className="inc-meter" /> {pct} %
          </dd>
        </dl>
        <h3>How the confidence was derived</h3>
        {rca.derivation.length ? (
          <table className="inc-derivation">
            <thead>
              <tr>
                <th scope="col">Factor</th>
                <th scope="col">Weight</th>
              </tr>
            </thead>
            <tbody>
              {rca.derivation.map((d, i) => (
                <tr key={i}>
                  <td>{d.factor}</td>
                  <td className="inc-num">+{d.weight}</td>
                </tr>
              ))}
              <tr>
                <th scope="row">Confidence</th>
                <td className="inc-num">{pct} %</td>
              </tr>
            </tbody>
          </table>
        ) : (
          <p className="muted">No factors: the category's base confidence.</p>
        )}
      </section>

      <section className="panel" aria-labelledby="inc-chain-title">
        <h2 id="inc-chain-title">Causal chain</h2>
        {rca.chain.length ? (
          <ol className="inc-chain">
            {rca.chain.map((s, i) => (
              <li key={i}>
                <span>{s.step}</span>
                {s.evidence.length ? (
                  <span className="inc-cites">
                    {' '}
                    Evidence:{' '}
                    {s.evidence.map((id, j) => (
                      <span key={id}>
                        {j ? ', ' : ''}
                        {known.has(id) ? <a href={`#${evidenceAnchor(id)}`}>{id}</a> : <code>{id}</code>}
                      </span>
                    ))}
                  </span>
                ) : null}
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">No chain steps.</p>
        )}
      </section>

      <section className="panel" aria-labelledby="inc-rem-title">
        <h2 id="inc-rem-title">Remediation</h2>
        {rca.remediation.length ? (
          <ol className="inc-remediation">
            {rca.remediation.map((r, i) => (
              <li key={i}>
                {r.step}{' '}
                <span className="inc-tags">
                  <Chip tone={r.risk === 'high' ? 'high' : r.risk === 'medium' ? 'warning' : 'ok'}>
                    risk {r.risk}
                  </Chip>{' '}
                  <Chip>effort {r.effort}</Chip> {r.automatable ? <Chip tone="ok">automatable</Chip> : null}
                </span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">No remediation steps for this category.</p>
        )}
      </section>

      <section className="panel" aria-labelledby="inc-blast-title">
        <h2 id="inc-blast-title">Blast radius</h2>
        <dl className="inc-facts">
          <dt>Namespaces ({rca.blastRadius.namespaces.length})</dt>
          <dd>{rca.blastRadius.namespaces.join(', ') || '—'}</dd>
          <dt>Workloads ({rca.blastRadius.workloads.length})</dt>
          <dd>{rca.blastRadius.workloads.map(resourceText).join(', ') || '—'}</dd>
          <dt>Pods ({rca.blastRadius.pods.length})</dt>
          <dd>{rca.blastRadius.pods.map((p) => `${p.namespace}/${p.name}`).join(', ') || '—'}</dd>
        </dl>
      </section>

      <section className="panel inc-evidence" aria-labelledby="inc-ev-title">
        <h2 id="inc-ev-title">Evidence ({rca.evidence.length})</h2>
        <div className="inc-table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Type</th>
                <th scope="col">Time</th>
                <th scope="col">Excerpt</th>
                <th scope="col">Log position</th>
              </tr>
            </thead>
            <tbody>
              {rca.evidence.map((e) => (
                <tr key={e.id} id={evidenceAnchor(e.id)} tabIndex={-1}>
                  <td>
                    <code>{e.id}</code>
                  </td>
                  <td>{e.type}</td>
                  <td>
                    <time dateTime={e.ts}>{e.ts.replace('T', ' ').replace(/\.\d+Z$/, '')}</time>
                  </td>
                  <td className="inc-excerpt">{e.excerpt}</td>
                  <td>
                    {e.position ? (
                      <code>
                        {e.position.topic}/{e.position.partition}@{e.position.offset}
                      </code>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
