import { describe, expect, it } from 'vitest';
import { envDependencies, MAX_ENV_DEPENDENCIES } from './env-calls.ts';

const env = (...pairs: [string, string][]) => [{ env: pairs.map(([name, value]) => ({ name, value })) }];
const deps = (...pairs: [string, string][]) =>
  envDependencies(env(...pairs), 'shop').map((d) => `${d.namespace}/${d.name}${d.qualified ? ' (svc)' : ''}`);

describe('envDependencies', () => {
  it('reads qualified Service names anywhere in a value, with or without the cluster domain', () => {
    expect(
      deps(
        ['LEDGER_URL', 'http://ledger.payments.svc:8080/v1'],
        ['DB_HOST', 'ledger-db.payments.svc.cluster.local'],
        ['JDBC', 'jdbc:postgresql://pg.data.svc:5432/app?ssl=true'],
        ['PEERS', 'a.kv.svc:2379,b.kv.svc:2379'],
        // a StatefulSet pod's own name: <pod>.<service>.<namespace>.svc
        ['BOOTSTRAP', 'kafka-0.kafka-headless.data.svc.cluster.local:9092'],
      ),
    ).toEqual([
      'payments/ledger (svc)',
      'payments/ledger-db (svc)',
      'data/pg (svc)',
      'kv/a (svc)',
      'kv/b (svc)',
      'data/kafka-headless (svc)',
    ]);
  });

  it('reads URL hosts, host:port and plain hosts in host-named variables as candidates', () => {
    expect(
      deps(
        ['CART_URL', 'http://cart:8080'],
        ['CACHE', 'redis:6379'],
        ['SEARCH_HOST', 'search.catalog'],
        ['REPLICA_ADDRESSES', 'replica'],
        ['BROKERS', 'kafka-0.kafka:9092 kafka-1.kafka:9092'],
        ['AMQP', 'amqp://user:secret@rabbit/vhost'],
      ),
    ).toEqual([
      'shop/cart',
      'shop/redis',
      'catalog/search',
      'shop/replica',
      'kafka/kafka-0',
      'kafka/kafka-1',
      'shop/rabbit',
    ]);
  });

  it('ignores plain words outside host-named variables, localhost, addresses and other sources', () => {
    expect(
      deps(
        ['MODE', 'api'],
        ['DD_SERVICE', 'checkout'], // a name for telemetry, not an address
        ['LOG_LEVEL', 'debug'],
        ['UPSTREAM_HOST', 'localhost'],
        ['PROXY_URL', 'http://10.0.0.7:3128'],
        ['GREETING', 'hello world, see api.md'],
        ['DB_HOST', ''],
      ),
    ).toEqual([]);
    // `valueFrom` (a Secret or ConfigMap key) is not read: hetu does not hold their values.
    expect(
      envDependencies(
        [{ env: [{ name: 'DB_HOST', valueFrom: { secretKeyRef: { name: 'x', key: 'y' } } } as never] }],
        'shop',
      ),
    ).toEqual([]);
  });

  it('names each Service once, a qualified mention winning over a plain one; bounded', () => {
    expect(deps(['A_URL', 'http://ledger.payments:8080'], ['B', 'ledger.payments.svc'])).toEqual([
      'payments/ledger (svc)',
    ]);
    const many = Array.from({ length: MAX_ENV_DEPENDENCIES + 5 }, (_, i): [string, string] => [
      `S${i}_URL`,
      `http://s${i}.n.svc`,
    ]);
    expect(deps(...many)).toHaveLength(MAX_ENV_DEPENDENCIES);
  });

  it('reads init containers and containers alike, in order', () => {
    const got = envDependencies(
      [
        { env: [{ name: 'WAIT_FOR', value: 'postgres.data.svc:5432' }] },
        { env: [{ name: 'X_URL', value: 'http://x:1' }] },
      ],
      'shop',
    );
    expect(got).toEqual([
      { namespace: 'data', name: 'postgres', qualified: true },
      { namespace: 'shop', name: 'x', qualified: false },
    ]);
  });
});
