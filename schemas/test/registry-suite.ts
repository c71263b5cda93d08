/**
 * One suite for every Confluent-compatible registry hetu talks to: the embedded registry
 * (unit tests) and Apicurio Registry (integration tests). It drives the registry through the real
 * `@kafkajs/confluent-schema-registry` client, our wrapper and the serde, and through plain HTTP
 * where the client has no call (compatibility checks).
 */
import { randomUUID } from 'node:crypto';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { expect, it } from 'vitest';
import type { AvroSchemaInput } from '../src/avro.ts';
import { createRegistryClient } from '../src/registry-client.ts';
import { createSerde, frame, readSchemaId, valueSubject } from '../src/serde.ts';
import type { LogLineObserved } from '../src/generated/LogLineObserved.ts';
import type { WatchObserved } from '../src/generated/WatchObserved.ts';

const record = (name: string, fields: unknown[]): string =>
  JSON.stringify({ type: 'record', name, namespace: 'test.hetu', fields });

const X_INT = record('R', [{ name: 'x', type: 'int' }]);
const EMPTY = record('R', []);
const X_STRING_DEFAULT = record('R', [{ name: 'x', type: 'string', default: '' }]);
const X_INT_Y_STRING = record('R', [
  { name: 'x', type: 'int' },
  { name: 'y', type: 'string' },
]);

async function compatible(url: string, subject: string, schema: string, version?: string): Promise<unknown> {
  const path = `/compatibility/subjects/${encodeURIComponent(subject)}/versions${version === undefined ? '' : `/${version}`}`;
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema }),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

async function errorCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

export function registrySuite(getUrl: () => string): void {
  const unique = (what: string): string => `${what}-${randomUUID().slice(0, 8)}`;

  it('registers a schema, serves it by id, and keeps one id for the same schema', async () => {
    const url = getUrl();
    const client = new SchemaRegistry({ host: url });
    const subject = unique('s');
    const { id } = await client.register({ type: SchemaType.AVRO, schema: X_INT }, { subject });
    expect(Number.isInteger(id) && id > 0).toBe(true);

    const again = await client.register({ type: SchemaType.AVRO, schema: X_INT }, { subject });
    expect(again.id).toBe(id);
    expect(await client.getLatestSchemaId(subject)).toBe(id);
    expect(await client.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema: X_INT })).toBe(id);

    const byId = (await client.getSchema(id)) as avro.Type;
    expect(byId.name).toBe('test.hetu.R');
    const res = await fetch(`${url}/schemas/ids/${id}`);
    expect(res.status).toBe(200);
    expect(JSON.parse(((await res.json()) as { schema: string }).schema)).toEqual(JSON.parse(X_INT));

    // The same schema under another subject: the same id (Confluent semantics; Apicurio's content id).
    const other = unique('s');
    const { id: otherId } = await client.register(
      { type: SchemaType.AVRO, schema: X_INT },
      { subject: other },
    );
    expect(otherId).toBe(id);
    const uses = (await (await fetch(`${url}/schemas/ids/${id}/versions`)).json()) as unknown[];
    expect(uses).toEqual(
      expect.arrayContaining([
        { subject, version: 1 },
        { subject: other, version: 1 },
      ]),
    );
  });

  it('lists subjects and versions and serves a version by number and as latest', async () => {
    const url = getUrl();
    const client = new SchemaRegistry({ host: url });
    const subject = unique('v');
    await client.register(
      { type: SchemaType.AVRO, schema: X_INT },
      { subject, compatibility: COMPATIBILITY.NONE },
    );
    const { id: id2 } = await client.register(
      { type: SchemaType.AVRO, schema: EMPTY },
      { subject, compatibility: COMPATIBILITY.NONE },
    );

    const subjects = (await (await fetch(`${url}/subjects`)).json()) as string[];
    expect(subjects).toContain(subject);
    expect(await (await fetch(`${url}/subjects/${subject}/versions`)).json()).toEqual([1, 2]);
    const latest = (await (await fetch(`${url}/subjects/${subject}/versions/latest`)).json()) as Record<
      string,
      unknown
    >;
    expect({ ...latest, schema: JSON.parse(latest['schema'] as string) as unknown }).toEqual({
      subject,
      version: 2,
      id: id2,
      schema: JSON.parse(EMPTY),
    });
    expect(await client.getRegistryId(subject, 2)).toBe(id2);
    const missing = await fetch(`${url}/subjects/${subject}/versions/9`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error_code: number }).error_code).toBe(40402);
    const noSubject = await fetch(`${url}/subjects/${unique('none')}/versions`);
    expect(noSubject.status).toBe(404);
    expect(((await noSubject.json()) as { error_code: number }).error_code).toBe(40401);
  });

  it('sets BACKWARD_TRANSITIVE on the subject before the first registration and refuses an incompatible version', async () => {
    const url = getUrl();
    const registry = createRegistryClient({ url });
    const subject = unique('bt');
    expect(await registry.getCompatibility(subject)).toBe(null);
    await registry.register(subject, X_INT);
    expect(await registry.getCompatibility(subject)).toBe('BACKWARD_TRANSITIVE');

    // A new field without a default cannot read version 1: refused.
    const err = await registry.register(subject, X_INT_Y_STRING).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('HETU_REGISTRY_INCOMPATIBLE');
    expect((err as { transient?: boolean }).transient).toBe(false);
    expect(await (await fetch(`${url}/subjects/${subject}/versions`)).json()).toEqual([1]);
  });

  it('enforces transitivity: a version compatible with the latest but not with an older one is refused', async () => {
    const url = getUrl();
    const registry = createRegistryClient({ url });
    const transitive = unique('bt');
    await registry.register(transitive, X_INT);
    await registry.register(transitive, EMPTY); // drops x: can read version 1
    // x comes back as a string: reads version 2 (default), cannot read version 1's int x.
    expect(await compatible(url, transitive, X_STRING_DEFAULT, 'latest')).toEqual({
      status: 200,
      body: { is_compatible: true },
    });
    expect(await compatible(url, transitive, X_STRING_DEFAULT)).toEqual({
      status: 200,
      body: { is_compatible: false },
    });
    expect(await errorCodeOf(registry.register(transitive, X_STRING_DEFAULT))).toBe(
      'HETU_REGISTRY_INCOMPATIBLE',
    );

    // The same history under plain BACKWARD accepts it: the difference is the transitive rule.
    const plain = unique('b');
    const client = new SchemaRegistry({ host: url });
    const opts = { subject: plain, compatibility: COMPATIBILITY.BACKWARD };
    await client.register({ type: SchemaType.AVRO, schema: X_INT }, opts);
    await client.register({ type: SchemaType.AVRO, schema: EMPTY }, opts);
    const { id } = await client.register({ type: SchemaType.AVRO, schema: X_STRING_DEFAULT }, opts);
    expect(await client.getLatestSchemaId(plain)).toBe(id);
  });

  it('round-trips records through the wire format: header, id, schema by id', async () => {
    const url = getUrl();
    const registry = createRegistryClient({ url });
    const serde = createSerde(registry);
    const topic = unique('hetu.raw.kube');
    const value: WatchObserved = {
      ts: 1_795_680_000_000,
      cluster: 'demo',
      type: 'MODIFIED',
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: 'shop',
      name: 'api-7d9f-x2',
      uid: '0b5e6c1e-5b39-4c5e-9d7e-2f1c1a9e8d11',
      resourceVersion: '12345',
      detail: null,
      object: '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"api-7d9f-x2"}}',
    };
    const bytes = await serde.encode(topic, 'WatchObserved', value);
    expect(bytes[0]).toBe(0);
    const id = readSchemaId(bytes);
    expect(await serde.schemaIdFor(topic, 'WatchObserved')).toBe(id);

    // The id in the bytes is what the registry serves for the topic's subject, with our record in it.
    const client = new SchemaRegistry({ host: url });
    expect(await client.getLatestSchemaId(valueSubject(topic))).toBe(id);
    const res = (await (await fetch(`${url}/schemas/ids/${id}`)).json()) as { schema: string };
    expect((JSON.parse(res.schema) as { name: string; namespace: string }).name).toBe('WatchObserved');

    // A second process (fresh serde, nothing cached) decodes it by fetching the writer schema by id.
    expect({ ...(await createSerde(createRegistryClient({ url })).decode(bytes, 'WatchObserved')) }).toEqual(
      value,
    );
    // The registry client library itself decodes our bytes too (Kafka-native readers do the same).
    expect({ ...((await client.decode(bytes)) as object) }).toEqual(value);
  });

  it('decodes values written with an older version of a record into the current one', async () => {
    const url = getUrl();
    const registry = createRegistryClient({ url });
    const topic = unique('hetu.raw.logs');
    // Version 1 of LogLineObserved, before `truncated` and `gap` existed.
    const v1 = {
      type: 'record',
      name: 'LogLineObserved',
      namespace: 'dev.hetu',
      doc: 'v1',
      fields: [
        { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'ts' },
        { name: 'cluster', type: 'string', doc: 'c' },
        { name: 'namespace', type: 'string', doc: 'n' },
        { name: 'pod', type: 'string', doc: 'p' },
        { name: 'container', type: 'string', doc: 'c' },
        { name: 'line', type: 'string', doc: 'l' },
      ],
    };
    const oldId = await registry.register(valueSubject(topic), JSON.stringify(v1));
    const serde = createSerde(registry);
    const currentId = await serde.schemaIdFor(topic, 'LogLineObserved');
    expect(currentId).not.toBe(oldId);
    expect(await (await fetch(`${url}/subjects/${valueSubject(topic)}/versions`)).json()).toEqual([1, 2]);

    const old = {
      ts: 1_795_680_031_250,
      cluster: 'demo',
      namespace: 'shop',
      pod: 'api-x2',
      container: 'api',
      line: 'ERROR boom',
    };
    const bytes = frame(oldId, avro.Type.forSchema(v1 as AvroSchemaInput).toBuffer(old));
    const expected: LogLineObserved = {
      ...old,
      truncated: false,
      gap: false,
      workload: null,
      workloadKind: null,
    };
    expect({
      ...(await createSerde(createRegistryClient({ url })).decode(bytes, 'LogLineObserved')),
    }).toEqual(expected);
  });

  it('reports an unknown schema id as bad input', async () => {
    const serde = createSerde(createRegistryClient({ url: getUrl() }));
    const bytes = frame(2_000_000_000, Buffer.from([2, 0x61]));
    const err = await serde.decode(bytes, 'Command').catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('HETU_SERDE_UNKNOWN_SCHEMA');
    expect((err as { transient?: boolean }).transient).toBe(false);
  });
}
