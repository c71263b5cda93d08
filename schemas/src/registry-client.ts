/**
 * A thin wrapper around `@kafkajs/confluent-schema-registry`'s SchemaRegistry: the few calls the
 * serde needs, with the registry's failures turned into SerdeErrors with stable codes
 * (unreachable → HETU_REGISTRY_UNREACHABLE, transient; unknown id → HETU_SERDE_UNKNOWN_SCHEMA).
 *
 * It talks to any registry serving the Confluent REST API: Confluent's, Apicurio's ccompat API
 * (`<apicurio>/apis/ccompat/v7`), or hetu's embedded registry.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { SerdeError } from './errors.ts';
import type { SerdeErrorCode } from './errors.ts';

export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export const COMPATIBILITY_LEVELS: readonly CompatibilityLevel[] = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
];

/** hetu's rule for every subject: compacted topics hold every version ever written, and a replay reads them all. */
export const HETU_COMPATIBILITY: CompatibilityLevel = 'BACKWARD_TRANSITIVE';

export interface RegistryClientOptions {
  /** Base URL of the Confluent-compatible API, e.g. `http://127.0.0.1:8081` or `<apicurio>/apis/ccompat/v7`. */
  readonly url: string;
  /** Retries of GET requests on 5xx and network errors (exponential back-off from 100 ms). Default 2. */
  readonly retries?: number;
  /** Per-request timeout. Default 10 000 ms. */
  readonly timeoutMs?: number;
  readonly auth?: { readonly username: string; readonly password: string };
  readonly clientId?: string;
}

export interface SchemaRegistryClient {
  readonly url: string;
  /**
   * Registers an Avro schema under a subject and returns its id (the existing id when the schema is
   * already registered). Before registering, sets the subject's compatibility to
   * BACKWARD_TRANSITIVE when it is anything else, so even the first version is checked later on.
   */
  register(subject: string, schemaText: string): Promise<number>;
  /** The text of the Avro schema with this id. Not cached here: the serde caches parsed writer schemas. */
  schemaText(id: number): Promise<string>;
  /** The subject's own compatibility level; null when the registry says the subject has none. */
  getCompatibility(subject: string): Promise<CompatibilityLevel | null>;
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
}

type Middleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];

interface ApiResponse {
  data(): unknown;
}

/**
 * The client's own REST calls (its `api` field). The library keeps it private and exposes no call
 * for a subject's config before the first registration; the version is pinned exactly (4.1.0).
 */
interface ClientApi {
  Schema: { find(params: { id: number }): Promise<ApiResponse> };
  Subject: {
    config(params: { subject: string }): Promise<ApiResponse>;
    updateConfig(params: { subject: string; body: { compatibility: string } }): Promise<ApiResponse>;
  };
}

function clientApi(registry: SchemaRegistry): ClientApi {
  const api = (registry as unknown as { api?: ClientApi }).api;
  if (
    api === undefined ||
    typeof api.Subject?.updateConfig !== 'function' ||
    typeof api.Schema?.find !== 'function'
  ) {
    throw new Error(
      '@kafkajs/confluent-schema-registry changed shape: SchemaRegistry.api is missing; check the pinned version.',
    );
  }
  return api;
}

const timeoutMiddleware =
  (timeoutMs: number): Middleware =>
  () => ({
    request: (request) => request.enhance({ timeout: timeoutMs }),
  });

function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err) {
    const status = (err as { status: unknown }).status;
    if (typeof status === 'number') return status;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * mappersmith reports a network failure or a timeout as a response with status 400 and no body,
 * which the client turns into "... Error, status 400: <reason>"; a registry's own 400 carries its
 * JSON `message` instead.
 */
function isNetworkFailure(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === 'string' && /^(E[A-Z_]+|UND_ERR.*)$/.test(code);
  }
  return status === 400 && /Error, status 400: /.test(messageOf(err));
}

function isTransientStatus(status: number | undefined): boolean {
  return status !== undefined && (status >= 500 || status === 408 || status === 429);
}

function registryMessage(err: unknown): string {
  // "Confluent_Schema_Registry - <registry's message>"
  return messageOf(err).replace(/^[^-]*? - /, '');
}

/** Maps a failure of a registry call to a SerdeError; `notFound` is the code for a 404. */
function toSerdeError(err: unknown, url: string, what: string, notFound: SerdeErrorCode): SerdeError {
  if (err instanceof SerdeError) return err;
  const status = statusOf(err);
  if (isNetworkFailure(err) || isTransientStatus(status)) {
    return new SerdeError(
      'HETU_REGISTRY_UNREACHABLE',
      `The schema registry at ${url} could not be reached to ${what} (${registryMessage(err)}); start it or fix its URL, and hetu will retry.`,
      { cause: err },
    );
  }
  let code: SerdeErrorCode;
  switch (status) {
    case 404:
      code = notFound;
      break;
    case 409:
      code = 'HETU_REGISTRY_INCOMPATIBLE';
      break;
    case 422:
      code = 'HETU_REGISTRY_INVALID_SCHEMA';
      break;
    case 401:
    case 403:
      code = 'HETU_REGISTRY_UNAUTHORIZED';
      break;
    default:
      // The client validates a schema itself before sending it (ConfluentSchemaRegistryArgumentError).
      code =
        err instanceof Error && err.name === 'ConfluentSchemaRegistryArgumentError'
          ? 'HETU_REGISTRY_INVALID_SCHEMA'
          : 'HETU_REGISTRY_REJECTED';
  }
  return new SerdeError(
    code,
    `The schema registry at ${url} refused to ${what}${status === undefined ? '' : ` (HTTP ${status})`}: ${registryMessage(err)}.`,
    { cause: err },
  );
}

function isLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

export function createRegistryClient(options: RegistryClientOptions): SchemaRegistryClient {
  const url = options.url.replace(/\/+$/, '');
  const registry = new SchemaRegistry({
    host: url,
    clientId: options.clientId ?? 'hetu',
    retry: { retries: options.retries ?? 2 },
    middlewares: [timeoutMiddleware(options.timeoutMs ?? 10_000)],
    ...(options.auth === undefined ? {} : { auth: { ...options.auth } }),
  });
  const api = clientApi(registry);

  const getCompatibility = async (subject: string): Promise<CompatibilityLevel | null> => {
    try {
      const data = (await api.Subject.config({ subject })).data() as { compatibilityLevel?: unknown };
      const level =
        typeof data.compatibilityLevel === 'string' ? data.compatibilityLevel.toUpperCase() : null;
      return isLevel(level) ? level : null;
    } catch (err) {
      if (statusOf(err) === 404 && !isNetworkFailure(err)) return null;
      throw toSerdeError(err, url, `read the compatibility of subject ${subject}`, 'HETU_REGISTRY_REJECTED');
    }
  };

  const setCompatibility = async (subject: string, level: CompatibilityLevel): Promise<void> => {
    try {
      await api.Subject.updateConfig({ subject, body: { compatibility: level } });
    } catch (err) {
      throw toSerdeError(
        err,
        url,
        `set the compatibility of subject ${subject} to ${level}`,
        'HETU_REGISTRY_REJECTED',
      );
    }
  };

  return {
    url,
    getCompatibility,
    setCompatibility,

    async register(subject, schemaText) {
      if ((await getCompatibility(subject)) !== HETU_COMPATIBILITY) {
        await setCompatibility(subject, HETU_COMPATIBILITY);
      }
      try {
        const { id } = await registry.register(
          { type: SchemaType.AVRO, schema: schemaText },
          { subject, compatibility: COMPATIBILITY.BACKWARD_TRANSITIVE, updateConfig: false },
        );
        return id;
      } catch (err) {
        throw toSerdeError(err, url, `register a schema under subject ${subject}`, 'HETU_REGISTRY_REJECTED');
      }
    },

    async schemaText(id) {
      let data: { schema?: unknown; schemaType?: unknown; references?: unknown };
      try {
        data = (await api.Schema.find({ id })).data() as typeof data;
      } catch (err) {
        const e = toSerdeError(err, url, `fetch schema id ${id}`, 'HETU_SERDE_UNKNOWN_SCHEMA');
        if (e.code === 'HETU_SERDE_UNKNOWN_SCHEMA') {
          throw new SerdeError(
            'HETU_SERDE_UNKNOWN_SCHEMA',
            `Schema id ${id} is not known to the schema registry at ${url}, so the record cannot be decoded.`,
            { cause: err },
          );
        }
        throw e;
      }
      const type =
        data.schemaType === undefined || data.schemaType === null ? 'AVRO' : String(data.schemaType);
      const references = Array.isArray(data.references) ? data.references.length : 0;
      if (type !== 'AVRO' || references > 0 || typeof data.schema !== 'string') {
        throw new SerdeError(
          'HETU_SERDE_UNSUPPORTED_SCHEMA',
          `Schema id ${id} at ${url} is ${type === 'AVRO' ? 'an Avro schema with references' : `a ${type} schema`}, which hetu does not read.`,
        );
      }
      return data.schema;
    },
  };
}
