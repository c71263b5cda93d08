/**
 * An embedded schema registry for single-machine mode: an HTTP server on loopback serving the
 * subset of Confluent's Schema Registry REST API that `@kafkajs/confluent-schema-registry` and
 * Kafka-native serializers use, with Avro only.
 *
 *   GET  /subjects                                   GET  /schemas/ids/{id}
 *   GET  /subjects/{s}/versions                      GET  /schemas/ids/{id}/versions
 *   GET  /subjects/{s}/versions/{v|latest}           GET  /schemas/types
 *   GET  /subjects/{s}/versions/{v|latest}/schema    GET|PUT /config
 *   POST /subjects/{s}/versions   (register)         GET|PUT /config/{s}
 *   POST /subjects/{s}            (look up)          POST /compatibility/subjects/{s}/versions[/{v|latest}]
 *
 * Compatibility is enforced with avsc resolvers; the global default is BACKWARD_TRANSITIVE.
 * Ids are stable: the same schema text has one id across subjects, and ids are never reused.
 * Everything is persisted through a SchemaStore before it is acknowledged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAvroSchemaForChecks, schemaText } from './avro.ts';
import type { AvroType } from './avro.ts';
import { checkCompatibility } from './compatibility.ts';
import { COMPATIBILITY_LEVELS, HETU_COMPATIBILITY } from './registry-client.ts';
import type { CompatibilityLevel } from './registry-client.ts';
import type { SchemaStore, SchemaStoreEntry, StoredSchema } from './schema-store.ts';

export interface EmbeddedRegistryOptions {
  readonly store: SchemaStore;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: an ephemeral port. */
  readonly port?: number;
}

export interface EmbeddedRegistry {
  /** Base URL for clients, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Stops listening and closes open connections; idempotent. */
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A Confluent-style error: HTTP status plus `error_code`. */
class RegistryHttpError extends Error {
  readonly status: number;
  readonly errorCode: number;
  constructor(status: number, errorCode: number, message: string) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }
}

const subjectNotFound = (subject: string): RegistryHttpError =>
  new RegistryHttpError(404, 40401, `Subject '${subject}' not found.`);

interface Version {
  readonly entry: StoredSchema;
  readonly type: AvroType;
}

/** The registry's state, rebuilt from the store's entries. */
class RegistryState {
  readonly subjects = new Map<string, Version[]>();
  readonly schemasById = new Map<number, string>();
  readonly idBySchema = new Map<string, number>();
  readonly configs = new Map<string, CompatibilityLevel>();
  globalLevel: CompatibilityLevel = HETU_COMPATIBILITY;
  nextId = 1;

  /**
   * Applies one stored entry, in store order. Several processes may share a store (`hetu load`
   * beside `hetu start`, or `hetu analyze`'s two threads), each assigning the next version and id
   * from what it has read: when two registered at once, the store's order decides. An entry that
   * claims a version of its subject another entry took first, or an id another schema took first,
   * lost that race: it is ignored here (so everyone ignores it), and its writer registers again
   * (`register`). Returns whether the entry holds (applied now, or seen already).
   */
  apply(entry: SchemaStoreEntry): boolean {
    if (entry.kind === 'config') {
      if (entry.subject === null) this.globalLevel = entry.compatibility;
      else this.configs.set(entry.subject, entry.compatibility);
      return true;
    }
    const versions = this.subjects.get(entry.subject) ?? [];
    const same = versions[entry.version - 1]?.entry;
    if (same !== undefined) return same.id === entry.id && same.schema === entry.schema; // seen, or lost
    if (entry.version > versions.length + 1) {
      throw new Error(
        `Schema store holds version ${entry.version} of subject ${entry.subject} after version ${versions.length}; the store is corrupt.`,
      );
    }
    const owner = this.schemasById.get(entry.id);
    if (owner !== undefined && owner !== entry.schema) return false; // the id went to another schema
    const known = this.idBySchema.get(entry.schema);
    if (known !== undefined && known !== entry.id) return false; // the schema got another id first
    versions.push({ entry, type: parseAvroSchemaForChecks(entry.schema) });
    this.subjects.set(entry.subject, versions);
    this.schemasById.set(entry.id, entry.schema);
    this.idBySchema.set(entry.schema, entry.id);
    this.nextId = Math.max(this.nextId, entry.id + 1);
    return true;
  }

  versions(subject: string): Version[] {
    const versions = this.subjects.get(subject);
    if (versions === undefined || versions.length === 0) throw subjectNotFound(subject);
    return versions;
  }

  version(subject: string, ref: string): Version {
    const versions = this.versions(subject);
    if (ref === 'latest' || ref === '-1') return versions[versions.length - 1] as Version;
    const n = /^[0-9]+$/.test(ref) ? Number(ref) : NaN;
    const found = Number.isSafeInteger(n) ? versions[n - 1] : undefined;
    if (found === undefined) throw new RegistryHttpError(404, 40402, `Version ${ref} not found.`);
    return found;
  }

  level(subject: string): CompatibilityLevel {
    return this.configs.get(subject) ?? this.globalLevel;
  }
}

interface ParsedSchema {
  readonly text: string;
  readonly type: AvroType;
}

/** Reads `{ schema, schemaType?, references? }` and parses the Avro schema. */
function parseSchemaBody(body: unknown): ParsedSchema {
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof (body as { schema?: unknown }).schema !== 'string'
  ) {
    throw new RegistryHttpError(
      422,
      42201,
      'The request body must be a JSON object with the schema as a string in "schema".',
    );
  }
  const { schema, schemaType, references } = body as {
    schema: string;
    schemaType?: unknown;
    references?: unknown;
  };
  if (schemaType !== undefined && schemaType !== null && schemaType !== 'AVRO') {
    throw new RegistryHttpError(
      422,
      42201,
      `Schema type ${String(schemaType)} is not supported: this registry serves Avro only.`,
    );
  }
  if (Array.isArray(references) && references.length > 0) {
    throw new RegistryHttpError(422, 42201, 'Schema references are not supported by this registry.');
  }
  try {
    const text = schemaText(schema);
    return { text, type: parseAvroSchemaForChecks(text) };
  } catch (err) {
    throw new RegistryHttpError(422, 42201, `Invalid Avro schema: ${(err as Error).message}.`);
  }
}

function parseLevel(body: unknown): CompatibilityLevel {
  const level = (body as { compatibility?: unknown } | null)?.compatibility;
  const upper = typeof level === 'string' ? level.toUpperCase() : undefined;
  if (upper === undefined || !(COMPATIBILITY_LEVELS as readonly string[]).includes(upper)) {
    throw new RegistryHttpError(422, 42203, `Invalid compatibility level: ${String(level)}.`);
  }
  return upper as CompatibilityLevel;
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new RegistryHttpError(413, 41301, 'The request body is larger than 4 MiB.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RegistryHttpError(400, 400, 'The request body is not valid JSON.');
  }
}

export async function startEmbeddedRegistry(options: EmbeddedRegistryOptions): Promise<EmbeddedRegistry> {
  const { store } = options;
  const state = new RegistryState();
  for (const entry of await store.load()) state.apply(entry);

  /** Writes are serialised: each is persisted, then applied, before the next starts. */
  let writes: Promise<unknown> = Promise.resolve();
  const write = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = writes.then(fn, fn);
    writes = next.catch(() => undefined);
    return next;
  };
  /** Applies what other processes sharing the store wrote since we last looked. */
  const sync = async (): Promise<void> => {
    if (!store.refresh) return;
    for (const entry of await store.refresh()) state.apply(entry);
  };
  /** Persists an entry and applies it; false when another writer's entry came first (see `apply`). */
  const persist = async (entry: SchemaStoreEntry): Promise<boolean> => {
    await store.append(entry);
    // Entries of other writers stored before ours come first (the store hands ours back after
    // them, or skips it when nothing came between).
    await sync();
    return state.apply(entry);
  };

  /** Attempts at registering before giving up, each after reading what the others stored. */
  const REGISTER_ATTEMPTS = 20;

  const register = (subject: string, body: unknown): Promise<{ id: number }> =>
    write(async () => {
      const parsed = parseSchemaBody(body);
      for (let attempt = 0; attempt < REGISTER_ATTEMPTS; attempt++) {
        await sync();
        const versions = state.subjects.get(subject) ?? [];
        const existing = versions.find((v) => v.entry.schema === parsed.text);
        if (existing !== undefined) return { id: existing.entry.id };
        const level = state.level(subject);
        const result = checkCompatibility(
          parsed.type,
          versions.map((v) => ({ version: v.entry.version, schema: v.type })),
          level,
        );
        if (!result.compatible) {
          throw new RegistryHttpError(
            409,
            409,
            `Schema being registered is incompatible with an earlier schema for subject '${subject}' under ${level}: ${result.messages.join('; ')}.`,
          );
        }
        const id = state.idBySchema.get(parsed.text) ?? state.nextId;
        const entry = {
          kind: 'schema' as const,
          subject,
          version: versions.length + 1,
          id,
          schema: parsed.text,
        };
        if (await persist(entry)) return { id };
      }
      throw new RegistryHttpError(
        500,
        50001,
        `Registering a schema under subject '${subject}' lost ${REGISTER_ATTEMPTS} races with other writers of the same store: retry.`,
      );
    });

  const route = async (
    method: string,
    parts: string[],
    query: URLSearchParams,
    body: unknown,
  ): Promise<unknown> => {
    const [head, a, b, c, d] = parts;
    const n = parts.length;
    if (n === 0 && method === 'GET') return {};
    if (method === 'GET') await write(sync);

    if (head === 'subjects') {
      if (n === 1 && method === 'GET') return [...state.subjects.keys()].sort();
      const subject = a as string;
      if (n === 2 && method === 'POST') {
        const parsed = parseSchemaBody(body);
        const versions = state.versions(subject);
        const found = versions.find((v) => v.entry.schema === parsed.text);
        if (found === undefined) {
          throw new RegistryHttpError(
            404,
            40403,
            `The given schema does not match any schema under the subject ${subject}.`,
          );
        }
        return { subject, version: found.entry.version, id: found.entry.id, schema: found.entry.schema };
      }
      if (n === 3 && b === 'versions' && method === 'GET')
        return state.versions(subject).map((v) => v.entry.version);
      if (n === 3 && b === 'versions' && method === 'POST') return register(subject, body);
      if ((n === 4 || (n === 5 && d === 'schema')) && b === 'versions' && method === 'GET') {
        const { entry } = state.version(subject, c as string);
        if (n === 5) return JSON.parse(entry.schema) as unknown;
        return { subject, version: entry.version, id: entry.id, schema: entry.schema };
      }
    }

    if (head === 'schemas') {
      if (n === 2 && a === 'types' && method === 'GET') return ['AVRO'];
      if ((n === 3 || (n === 4 && c === 'versions')) && a === 'ids' && method === 'GET') {
        const id = /^[0-9]+$/.test(b as string) ? Number(b) : NaN;
        const schema = state.schemasById.get(id);
        if (schema === undefined) throw new RegistryHttpError(404, 40403, `Schema ${b as string} not found.`);
        if (n === 3) return { schema };
        const uses: { subject: string; version: number }[] = [];
        for (const [subject, versions] of state.subjects) {
          for (const v of versions) if (v.entry.id === id) uses.push({ subject, version: v.entry.version });
        }
        return uses;
      }
    }

    if (head === 'config') {
      if (n === 1 && method === 'GET') return { compatibilityLevel: state.globalLevel };
      if (n === 1 && method === 'PUT') {
        const compatibility = parseLevel(body);
        await write(() => persist({ kind: 'config', subject: null, compatibility }));
        return { compatibility };
      }
      if (n === 2 && method === 'GET') {
        const level = state.configs.get(a as string);
        if (level !== undefined) return { compatibilityLevel: level };
        if (query.get('defaultToGlobal') === 'true') return { compatibilityLevel: state.globalLevel };
        throw new RegistryHttpError(
          404,
          40408,
          `Subject '${a as string}' does not have subject-level compatibility configured.`,
        );
      }
      if (n === 2 && method === 'PUT') {
        const compatibility = parseLevel(body);
        await write(() => persist({ kind: 'config', subject: a as string, compatibility }));
        return { compatibility };
      }
    }

    if (
      head === 'compatibility' &&
      a === 'subjects' &&
      c === 'versions' &&
      method === 'POST' &&
      (n === 4 || n === 5)
    ) {
      const subject = b as string;
      const parsed = parseSchemaBody(body);
      const level = state.level(subject);
      let against: Version[];
      if (n === 4) {
        against = state.versions(subject);
      } else {
        const versions = state.subjects.get(subject) ?? [];
        // Like Apicurio: nothing registered yet means nothing to be incompatible with.
        against =
          versions.length === 0 && (d === 'latest' || d === '-1')
            ? []
            : [state.version(subject, d as string)];
      }
      // Against one chosen version the level's direction applies, not its transitivity.
      const result = checkCompatibility(
        parsed.type,
        against.map((v) => ({ version: v.entry.version, schema: v.type })),
        n === 4 ? level : (level.replace('_TRANSITIVE', '') as CompatibilityLevel),
      );
      return query.get('verbose') === 'true'
        ? { is_compatible: result.compatible, messages: result.messages }
        : { is_compatible: result.compatible };
    }

    throw new RegistryHttpError(404, 404, `No such endpoint: ${method} /${parts.join('/')}.`);
  };

  const server = http.createServer((req, res) => {
    const send = (status: number, payload: unknown): void => {
      const text = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://registry');
        const parts = url.pathname
          .split('/')
          .filter((p) => p !== '')
          .map((p) => decodeURIComponent(p));
        const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : undefined;
        send(200, await route(req.method ?? 'GET', parts, url.searchParams, body));
      } catch (err) {
        if (err instanceof RegistryHttpError)
          send(err.status, { error_code: err.errorCode, message: err.message });
        else
          send(500, {
            error_code: 50001,
            message: `Internal error of the embedded schema registry: ${(err as Error).message}`,
          });
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
