/** The records of schemas/avro, parsed once, by name. */
import { parseAvroSchema } from './avro.ts';
import type { AvroType } from './avro.ts';
import { recordNames, recordSchemas } from './generated/records.ts';
import type { RecordName } from './generated/records.ts';

const names: ReadonlySet<string> = new Set(recordNames);
const types = new Map<RecordName, AvroType>();

export function isRecordName(name: string): name is RecordName {
  return names.has(name);
}

/** The parsed avsc type of one of our records (cached: parse once per process). */
export function recordType(name: RecordName): AvroType {
  let type = types.get(name);
  if (type === undefined) {
    type = parseAvroSchema(recordSchemas[name]);
    types.set(name, type);
  }
  return type;
}

/** The record's schema as JSON text, as registered in a schema registry. */
export function recordSchemaText(name: RecordName): string {
  return JSON.stringify(recordSchemas[name]);
}
