/**
 * Fleet (issue H, item 6): every cluster hetu knows, side by side — overall score and the four
 * dimensions with level colours, open incidents and error groups, active anomalies, savings, and
 * how fresh each cluster's data is. Worst first; each row opens that cluster's Overview
 * (`/?cluster=<name>`). Sort in the URL (`?sort=overall|name`).
 */
import { useQueries } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { Empty, ErrorState, Loading, QueryState, ScoreValue, TimeAgo } from '../components/common.tsx';
import { gql, useGql, useLive } from '../lib/graphql.ts';

interface ClusterOverview {
  overview: {
    cluster: string | null;
    openIncidents: number;
    criticalIncidents: number;
    openErrorGroups: number;
    activeAnomalies: number;
    monthlySavings: number;
    freshness: { caughtUp: boolean; lag: number; lastEventTime: string | null };
    score: {
      overall: number | null;
      reliability: number | null;
      security: number | null;
      cost: number | null;
      architecture: number | null;
      noData: boolean;
    } | null;
  };
}

const CLUSTERS = /* GraphQL */ `
  query Clusters {
    clusters
  }
`;

const CLUSTER = /* GraphQL */ `
  query FleetCluster($cluster: String) {
    overview(cluster: $cluster) {
      cluster
      openIncidents
      criticalIncidents
      openErrorGroups
      activeAnomalies
      monthlySavings
      freshness {
        caughtUp
        lag
        lastEventTime
      }
      score {
        overall
        reliability
        security
        cost
        architecture
        noData
      }
    }
  }
`;

const SCORE_CHANGED = /* GraphQL */ `
  subscription FleetScores {
    scoreChanged(scope: "cluster") {
      cluster
    }
  }
`;

const money = new Intl.NumberFormat('en', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });

function Rows({ clusters }: { clusters: string[] }) {
  const [params, setParams] = useSearchParams();
  const sort = params.get('sort') === 'name' ? 'name' : 'overall';
  const answers = useQueries({
    queries: clusters.map((cluster) => ({
      queryKey: ['fleet-cluster', { cluster }],
      queryFn: () => gql<ClusterOverview>(CLUSTER, { cluster }),
    })),
  });
  const failed = answers.find((a) => a.error);
  if (failed) return <ErrorState error={failed.error} retry={() => void failed.refetch()} />;
  if (answers.some((a) => a.isPending)) return <Loading what="clusters" />;
  const rows = answers.map((a, i) => ({ name: clusters[i]!, o: a.data!.overview }));
  rows.sort((a, b) =>
    sort === 'name'
      ? a.name.localeCompare(b.name)
      : (a.o.score?.overall ?? Infinity) - (b.o.score?.overall ?? Infinity) || a.name.localeCompare(b.name),
  );
  return (
    <>
      <p>
        <label>
          Sort by{' '}
          <select
            value={sort}
            onChange={(e) => {
              const next = new URLSearchParams(params);
              next.set('sort', e.target.value);
              setParams(next);
            }}
          >
            <option value="overall">overall score (worst first)</option>
            <option value="name">name</option>
          </select>
        </label>
      </p>
      <div className="fleet-table-wrap">
        <table className="fleet-table">
          <caption className="visually-hidden">Scores of every cluster</caption>
          <thead>
            <tr>
              <th scope="col">Cluster</th>
              <th scope="col">Overall</th>
              <th scope="col">Reliability</th>
              <th scope="col">Security</th>
              <th scope="col">Cost</th>
              <th scope="col">Architecture</th>
              <th scope="col">Open incidents</th>
              <th scope="col">Open error groups</th>
              <th scope="col">Active anomalies</th>
              <th scope="col">Monthly savings</th>
              <th scope="col">Latest observation</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ name, o }) => (
              <tr key={name} data-cluster={name}>
                <th scope="row">
                  <Link to={`/?cluster=${encodeURIComponent(name)}`}>{name}</Link>
                </th>
                <td>
                  <ScoreValue score={o.score?.noData ? null : o.score?.overall} />
                </td>
                <td>
                  <ScoreValue score={o.score?.noData ? null : o.score?.reliability} />
                </td>
                <td>
                  <ScoreValue score={o.score?.noData ? null : o.score?.security} />
                </td>
                <td>
                  <ScoreValue score={o.score?.noData ? null : o.score?.cost} />
                </td>
                <td>
                  <ScoreValue score={o.score?.noData ? null : o.score?.architecture} />
                </td>
                <td>
                  {o.openIncidents}
                  {o.criticalIncidents > 0 ? (
                    <span className="muted"> ({o.criticalIncidents} critical)</span>
                  ) : null}
                </td>
                <td>{o.openErrorGroups}</td>
                <td>{o.activeAnomalies}</td>
                <td>{money.format(o.monthlySavings)}</td>
                <td>
                  <TimeAgo at={o.freshness.lastEventTime} />
                  {o.freshness.caughtUp ? null : <span className="muted"> (catching up)</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export default function Fleet() {
  const q = useGql<{ clusters: string[] }>('clusters', CLUSTERS);
  useLive(SCORE_CHANGED, {}, [['clusters'], ['fleet-cluster']]);
  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <p className="muted">Every cluster hetu watches, side by side. Open one for its Overview.</p>
      <QueryState q={q} what="clusters">
        {(data) =>
          data.clusters.length === 0 ? (
            <Empty>No cluster has sent observations yet.</Empty>
          ) : (
            <Rows clusters={data.clusters} />
          )
        }
      </QueryState>
    </section>
  );
}
