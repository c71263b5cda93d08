/**
 * Avro schema compatibility as a schema registry enforces it, decided by avsc resolvers: schema A
 * can read data written with schema B when `A.createResolver(B)` succeeds.
 */
import { parseAvroSchemaForChecks } from './avro.ts';
import type { AvroType } from './avro.ts';
import type { CompatibilityLevel } from './registry-client.ts';

export interface CompatibilityResult {
  readonly compatible: boolean;
  /** One sentence per failed check, naming the versions involved. */
  readonly messages: readonly string[];
}

/** Null when `reader` can read what `writer` wrote; else why not. */
export function readProblem(reader: AvroType, writer: AvroType): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export interface VersionedSchema {
  readonly version: number;
  /** Schema text or parsed type. */
  readonly schema: string | AvroType;
}

function typeOf(schema: string | AvroType): AvroType {
  return typeof schema === 'string' ? parseAvroSchemaForChecks(schema) : schema;
}

/**
 * Checks a candidate schema against earlier versions (oldest first) under a compatibility level.
 * Non-transitive levels check only the last of `earlier`; transitive levels check all of them.
 */
export function checkCompatibility(
  candidate: string | AvroType,
  earlier: readonly VersionedSchema[],
  level: CompatibilityLevel,
): CompatibilityResult {
  if (level === 'NONE' || earlier.length === 0) return { compatible: true, messages: [] };
  const transitive = level.endsWith('_TRANSITIVE');
  const against = transitive ? earlier : earlier.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const next = typeOf(candidate);
  const messages: string[] = [];
  for (const old of against) {
    const previous = typeOf(old.schema);
    if (backward) {
      const problem = readProblem(next, previous);
      if (problem !== null)
        messages.push(`the new schema cannot read data written with version ${old.version}: ${problem}`);
    }
    if (forward) {
      const problem = readProblem(previous, next);
      if (problem !== null)
        messages.push(`version ${old.version} cannot read data written with the new schema: ${problem}`);
    }
  }
  return { compatible: messages.length === 0, messages };
}
