import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registrySuite } from '../test/registry-suite.ts';
import { startEmbeddedRegistry } from './embedded-registry.ts';
import type { EmbeddedRegistry } from './embedded-registry.ts';
import { createRegistryClient } from './registry-client.ts';
import { createFileSchemaStore, createMemorySchemaStore } from './schema-store.ts';
import { createSerde, readSchemaId } from './serde.ts';

const A = JSON.stringify({
  type: 'record',
  name: 'A',
  namespace: 'test',
  fields: [{ name: 'a', type: 'int' }],
});
const A2 = JSON.stringify({
  type: 'record',
  name: 'A',
  namespace: 'test',
  fields: [
    { name: 'a', type: 'int' },
    { name: 'b', type: 'string', default: '' },
  ],
});

describe('embedded registry: the shared registry suite', () => {
  let registry: EmbeddedRegistry;
  beforeAll(async () => {
    registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
  });
  afterAll(() => registry.close());
  registrySuite(() => registry.url);
});

describe('embedded registry', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hetu-registry-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('listens on loopback on an ephemeral port and closes idempotently', async () => {
    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
    await Promise.all([registry.close(), registry.close()]);
    await expect(fetch(`${registry.url}/subjects`)).rejects.toThrow();
  });

  it('defaults to BACKWARD_TRANSITIVE globally and answers 40408 for a subject without its own level', async () => {
    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    try {
      expect(await (await fetch(`${registry.url}/config`)).json()).toEqual({
        compatibilityLevel: 'BACKWARD_TRANSITIVE',
      });
      const res = await fetch(`${registry.url}/config/nothing-value`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        error_code: 40408,
        message: "Subject 'nothing-value' does not have subject-level compatibility configured.",
      });
      expect(await (await fetch(`${registry.url}/config/nothing-value?defaultToGlobal=true`)).json()).toEqual(
        {
          compatibilityLevel: 'BACKWARD_TRANSITIVE',
        },
      );
    } finally {
      await registry.close();
    }
  });

  it('refuses invalid schemas, other schema types and bad compatibility levels with Confluent error codes', async () => {
    const registry = await startEmbeddedRegistry({ store: createMemorySchemaStore() });
    const post = async (p: string, body: unknown, method = 'POST'): Promise<[number, unknown]> => {
      const res = await fetch(`${registry.url}${p}`, {
        method,
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify(body),
      });
      return [res.status, await res.json()];
    };
    try {
      expect(
        await post('/subjects/s/versions', {
          schema: '{"type":"record","name":"Q","fields":[{"name":"a","type":"nope"}]}',
        }),
      ).toEqual([422, { error_code: 42201, message: 'Invalid Avro schema: undefined type name: nope.' }]);
      expect(await post('/subjects/s/versions', { schema: '{}', schemaType: 'PROTOBUF' })).toEqual([
        422,
        {
          error_code: 42201,
          message: 'Schema type PROTOBUF is not supported: this registry serves Avro only.',
        },
      ]);
      expect(await post('/config/s', { compatibility: 'SIDEWAYS' }, 'PUT')).toEqual([
        422,
        { error_code: 42203, message: 'Invalid compatibility level: SIDEWAYS.' },
      ]);
      expect(await (await fetch(`${registry.url}/subjects`)).json()).toEqual([]);
    } finally {
      await registry.close();
    }
  });

  it('persists subjects, versions, ids and levels in the store, and continues the ids after a restart', async () => {
    const file = path.join(tmp(), 'schemas.jsonl');
    const first = await startEmbeddedRegistry({ store: createFileSchemaStore(file) });
    const registry = createRegistryClient({ url: first.url });
    const idA = await registry.register('a-value', A);
    const idA2 = await registry.register('a-value', A2);
    await first.close();
    expect(
      fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { kind: 'config', subject: 'a-value', compatibility: 'BACKWARD_TRANSITIVE' },
      { kind: 'schema', subject: 'a-value', version: 1, id: idA, schema: A },
      { kind: 'schema', subject: 'a-value', version: 2, id: idA2, schema: A2 },
    ]);

    const second = await startEmbeddedRegistry({ store: createFileSchemaStore(file) });
    try {
      const client = new SchemaRegistry({ host: second.url });
      expect([idA, idA2]).toEqual([1, 2]);
      expect(await client.getLatestSchemaId('a-value')).toBe(2);
      expect(await createRegistryClient({ url: second.url }).getCompatibility('a-value')).toBe(
        'BACKWARD_TRANSITIVE',
      );
      const { id } = await client.register({ type: SchemaType.AVRO, schema: A }, { subject: 'b-value' });
      expect(id).toBe(1); // same schema, same id, across subjects and restarts
      const other = JSON.stringify({ type: 'record', name: 'B', namespace: 'test', fields: [] });
      expect(
        (await client.register({ type: SchemaType.AVRO, schema: other }, { subject: 'c-value' })).id,
      ).toBe(3);
    } finally {
      await second.close();
    }
  });

  it('ignores and removes a torn last line of the file store, so later appends stay readable', async () => {
    const file = path.join(tmp(), 'schemas.jsonl');
    const entry = { kind: 'schema', subject: 'a-value', version: 1, id: 1, schema: A };
    fs.writeFileSync(file, `${JSON.stringify(entry)}\n{"kind":"schema","subj`);
    const store = createFileSchemaStore(file);
    expect(await store.load()).toEqual([entry]);
    await store.append({ kind: 'config', subject: null, compatibility: 'FULL' });
    expect(await store.load()).toEqual([entry, { kind: 'config', subject: null, compatibility: 'FULL' }]);
  });

  it('serves decodes for a serde after a restart from the same store', async () => {
    const file = path.join(tmp(), 'schemas.jsonl');
    const first = await startEmbeddedRegistry({ store: createFileSchemaStore(file) });
    const bytes = await createSerde(createRegistryClient({ url: first.url })).encode(
      'hetu.commands',
      'Command',
      {
        id: 'c-1',
        ts: 1_795_680_000_000,
        issuer: 'cli:ops',
        type: 'incident.set-status',
        targetIds: ['inc-1'],
        payload: '{"status":"investigating"}',
      },
    );
    await first.close();
    const second = await startEmbeddedRegistry({ store: createFileSchemaStore(file) });
    try {
      const decoded = await createSerde(createRegistryClient({ url: second.url })).decode(bytes, 'Command');
      expect(readSchemaId(bytes)).toBe(1);
      expect(decoded.payload).toBe('{"status":"investigating"}');
      expect(decoded.targetIds).toEqual(['inc-1']);
    } finally {
      await second.close();
    }
  });
});
