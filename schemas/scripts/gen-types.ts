/**
 * Generates TypeScript types from the Avro records in schemas/avro/*.avsc:
 *   schemas/src/generated/<Record>.ts   the record's interface (and its named enums/records)
 *                                       plus the parsed schema JSON as a const
 *   schemas/src/generated/records.ts    every record by name (schemas and types)
 *
 *   node schemas/scripts/gen-types.ts            write the files
 *   node schemas/scripts/gen-types.ts --check    exit 1 when the committed files differ
 *
 * Options for tests: --avro-dir <dir>, --out-dir <dir>.
 * Never edit the generated files by hand: change the .avsc and run `npm run gen`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAvroSchema } from '../src/avro.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_AVRO_DIR = path.resolve(here, '../avro');
export const DEFAULT_OUT_DIR = path.resolve(here, '../src/generated');
export const NAMESPACE = 'dev.hetu';
const INDEX_FILE = 'records.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export class SchemaSourceError extends Error {
  readonly code = 'HETU_SCHEMAS_INVALID_SOURCE';
  constructor(message: string) {
    super(message);
    this.name = 'SchemaSourceError';
  }
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function comment(text: string | undefined, indent: string): string {
  if (text === undefined || text === '') return '';
  const safe = text.replace(/\*\//g, '*\\/');
  return `${indent}/** ${safe} */\n`;
}

interface FileContext {
  readonly file: string;
  readonly namespace: string;
  /** Named types (full name → TS name) defined so far in this file. */
  readonly named: Map<string, string>;
  /** Declarations of named types (enums, nested records, fixed), in order of appearance. */
  readonly declarations: string[];
}

function fullName(name: string, namespace: string): string {
  return name.includes('.') ? name : `${namespace}.${name}`;
}

function simpleName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

const PRIMITIVES: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'bigint',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

function tsType(schema: Json | undefined, ctx: FileContext, where: string): string {
  if (typeof schema === 'string') {
    const primitive = PRIMITIVES[schema];
    if (primitive !== undefined) return primitive;
    const named = ctx.named.get(fullName(schema, ctx.namespace));
    if (named === undefined)
      throw new SchemaSourceError(`${ctx.file}: ${where} refers to unknown type ${schema}.`);
    return named;
  }
  if (Array.isArray(schema)) {
    if (schema.length === 0) throw new SchemaSourceError(`${ctx.file}: ${where} is an empty union.`);
    const branches = schema.map((branch, i) => tsType(branch, ctx, `${where} branch ${i}`));
    // `T | null` reads better than `null | T`; the order of a TS union means nothing.
    return [...branches.filter((b) => b !== 'null'), ...branches.filter((b) => b === 'null')].join(' | ');
  }
  if (!isObject(schema)) throw new SchemaSourceError(`${ctx.file}: ${where} has no valid type.`);
  const type = schema['type'];
  if (typeof type === 'string' && PRIMITIVES[type] !== undefined) {
    if (type === 'long' && schema['logicalType'] === 'timestamp-millis') return 'number';
    return PRIMITIVES[type] as string;
  }
  switch (type) {
    case 'array':
      return `Array<${tsType(schema['items'], ctx, `${where} items`)}>`;
    case 'map':
      return `Record<string, ${tsType(schema['values'], ctx, `${where} values`)}>`;
    case 'enum':
      return declareEnum(schema, ctx, where);
    case 'fixed':
      return declareFixed(schema, ctx, where);
    case 'record':
      return declareRecord(schema, ctx, where);
    default:
      throw new SchemaSourceError(`${ctx.file}: ${where} has unsupported type ${JSON.stringify(type)}.`);
  }
}

function nameOf(schema: JsonObject, ctx: FileContext, where: string): { full: string; simple: string } {
  const name = schema['name'];
  if (typeof name !== 'string') throw new SchemaSourceError(`${ctx.file}: ${where} has no name.`);
  const ns = typeof schema['namespace'] === 'string' ? schema['namespace'] : ctx.namespace;
  const full = fullName(name, ns);
  const simple = simpleName(full);
  for (const [otherFull, otherSimple] of ctx.named) {
    if (otherSimple === simple && otherFull !== full) {
      throw new SchemaSourceError(`${ctx.file}: ${full} and ${otherFull} would both be called ${simple}.`);
    }
  }
  return { full, simple };
}

function declareEnum(schema: JsonObject, ctx: FileContext, where: string): string {
  const { full, simple } = nameOf(schema, ctx, where);
  const symbols = schema['symbols'];
  if (!Array.isArray(symbols) || !symbols.every((s): s is string => typeof s === 'string')) {
    throw new SchemaSourceError(`${ctx.file}: enum ${full} has no symbols.`);
  }
  requireDoc(schema, ctx, `enum ${full}`);
  ctx.named.set(full, simple);
  const union = symbols.map((s) => `'${s}'`).join(' | ');
  ctx.declarations.push(
    `${comment(schema['doc'] as string, '')}export type ${simple} = ${union};\n\n` +
      `/** The symbols of ${simple}, in schema order. */\n` +
      `export const ${simple}Symbols = [${symbols.map((s) => `'${s}'`).join(', ')}] as const;\n`,
  );
  return simple;
}

function declareFixed(schema: JsonObject, ctx: FileContext, where: string): string {
  const { full, simple } = nameOf(schema, ctx, where);
  ctx.named.set(full, simple);
  ctx.declarations.push(
    `${comment((schema['doc'] as string | undefined) ?? `Avro fixed ${full} (${String(schema['size'])} bytes).`, '')}` +
      `export type ${simple} = Buffer;\n`,
  );
  return simple;
}

function requireDoc(schema: JsonObject, ctx: FileContext, what: string): void {
  const doc = schema['doc'];
  if (typeof doc !== 'string' || doc.trim() === '') {
    throw new SchemaSourceError(
      `${ctx.file}: ${what} has no doc; every record, enum and field must say what it is.`,
    );
  }
}

function declareRecord(schema: JsonObject, ctx: FileContext, where: string): string {
  const { full, simple } = nameOf(schema, ctx, where);
  requireDoc(schema, ctx, `record ${full}`);
  ctx.named.set(full, simple);
  const fields = schema['fields'];
  if (!Array.isArray(fields)) throw new SchemaSourceError(`${ctx.file}: record ${full} has no fields.`);
  const lines: string[] = [];
  for (const field of fields) {
    if (!isObject(field) || typeof field['name'] !== 'string') {
      throw new SchemaSourceError(`${ctx.file}: record ${full} has a field without a name.`);
    }
    requireDoc(field, ctx, `field ${full}.${field['name']}`);
    const type = tsType(field['type'], ctx, `field ${full}.${field['name']}`);
    lines.push(`${comment(field['doc'] as string, '  ')}  ${field['name']}: ${type};`);
  }
  const decl = `${comment(schema['doc'] as string, '')}export interface ${simple} {\n${lines.join('\n')}\n}\n`;
  // Named types used by the fields were declared while walking them, so they come first.
  ctx.declarations.push(decl);
  return simple;
}

export interface SourceRecord {
  /** File name of the .avsc, e.g. `WatchObserved.avsc`. */
  readonly file: string;
  /** Simple record name, e.g. `WatchObserved`. */
  readonly name: string;
  readonly schema: JsonObject;
}

/** Reads and validates every .avsc in the directory (sorted by file name). */
export function readSources(avroDir: string): SourceRecord[] {
  const files = fs
    .readdirSync(avroDir)
    .filter((f) => f.endsWith('.avsc'))
    .sort();
  return files.map((file) => {
    const text = fs.readFileSync(path.join(avroDir, file), 'utf8');
    let schema: Json;
    try {
      schema = JSON.parse(text) as Json;
    } catch (err) {
      throw new SchemaSourceError(`${file} is not valid JSON: ${(err as Error).message}.`);
    }
    if (!isObject(schema) || schema['type'] !== 'record') {
      throw new SchemaSourceError(`${file} must hold exactly one record schema.`);
    }
    if (schema['namespace'] !== NAMESPACE) {
      throw new SchemaSourceError(`${file}: the record's namespace must be ${NAMESPACE}.`);
    }
    const name = schema['name'];
    if (typeof name !== 'string' || `${name}.avsc` !== file) {
      throw new SchemaSourceError(
        `${file}: the record must be named after its file (${file.replace(/\.avsc$/, '')}).`,
      );
    }
    try {
      parseAvroSchema(schema);
    } catch (err) {
      throw new SchemaSourceError(`${file} is not a valid Avro schema: ${(err as Error).message}.`);
    }
    return { file, name, schema };
  });
}

const HEADER = (source: string): string =>
  `// Generated by schemas/scripts/gen-types.ts from schemas/avro/${source}.\n` +
  '// Do not edit: change the .avsc and run `npm run gen`.\n';

/** The content of generated/<Record>.ts for one record. */
export function generateRecordFile(source: SourceRecord): string {
  const ctx: FileContext = { file: source.file, namespace: NAMESPACE, named: new Map(), declarations: [] };
  declareRecord(source.schema, ctx, `record ${source.name}`);
  const schemaConst =
    `/** The Avro schema of ${NAMESPACE}.${source.name}, exactly as in ${source.file}. */\n` +
    `export const ${source.name}Schema = ${JSON.stringify(source.schema, null, 2)} as const;\n`;
  return `${HEADER(source.file)}\n${ctx.declarations.join('\n')}\n${schemaConst}`;
}

/** The content of generated/records.ts: every record by name. */
export function generateIndexFile(sources: readonly SourceRecord[]): string {
  const imports = sources
    .map(
      (s) =>
        `import type { ${s.name} } from './${s.name}.ts';\nimport { ${s.name}Schema } from './${s.name}.ts';`,
    )
    .join('\n');
  const names = sources.map((s) => `'${s.name}'`).join(', ');
  const schemas = sources.map((s) => `  ${s.name}: ${s.name}Schema,`).join('\n');
  const types = sources.map((s) => `  ${s.name}: ${s.name};`).join('\n');
  return (
    `${HEADER('*.avsc')}\n${imports}\n\n` +
    `/** Names of every record of schemas/avro (namespace ${NAMESPACE}), sorted. */\n` +
    `export const recordNames = [${names}] as const;\n\n` +
    `/** A record's simple name (its full Avro name is ${NAMESPACE}.<name>). */\n` +
    `export type RecordName = (typeof recordNames)[number];\n\n` +
    `/** Each record's Avro schema, by name. */\n` +
    `export const recordSchemas = {\n${schemas}\n} as const;\n\n` +
    `/** Each record's TypeScript type, by name. */\n` +
    `export interface RecordTypes {\n${types}\n}\n`
  );
}

/** Every generated file: name → content. */
export function generateAll(avroDir: string): Map<string, string> {
  const sources = readSources(avroDir);
  const out = new Map<string, string>();
  for (const source of sources) out.set(`${source.name}.ts`, generateRecordFile(source));
  out.set(INDEX_FILE, generateIndexFile(sources));
  return out;
}

/** Files that differ between what the .avsc files generate and what is in outDir (missing, changed or stale). */
export function findDrift(avroDir: string, outDir: string): string[] {
  const expected = generateAll(avroDir);
  const drifted: string[] = [];
  for (const [file, content] of expected) {
    const full = path.join(outDir, file);
    const actual = fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : undefined;
    if (actual !== content) drifted.push(file);
  }
  if (fs.existsSync(outDir)) {
    for (const file of fs.readdirSync(outDir).sort()) {
      if (file.endsWith('.ts') && !expected.has(file)) drifted.push(file);
    }
  }
  return drifted;
}

export function writeAll(avroDir: string, outDir: string): string[] {
  const expected = generateAll(avroDir);
  fs.mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const [file, content] of expected) {
    const full = path.join(outDir, file);
    if (!fs.existsSync(full) || fs.readFileSync(full, 'utf8') !== content) {
      fs.writeFileSync(full, content);
      written.push(file);
    }
  }
  for (const file of fs.readdirSync(outDir)) {
    if (file.endsWith('.ts') && !expected.has(file)) {
      fs.rmSync(path.join(outDir, file));
      written.push(file);
    }
  }
  return written;
}

function option(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = args[i + 1];
  if (value === undefined) throw new SchemaSourceError(`${name} needs a directory.`);
  return path.resolve(value);
}

export function main(args: readonly string[]): number {
  const avroDir = option(args, '--avro-dir', DEFAULT_AVRO_DIR);
  const outDir = option(args, '--out-dir', DEFAULT_OUT_DIR);
  const rel = (file: string): string => path.relative(process.cwd(), path.join(outDir, file)) || file;
  try {
    if (args.includes('--check')) {
      const drifted = findDrift(avroDir, outDir);
      if (drifted.length === 0) return 0;
      const more =
        drifted.length > 1 ? ` (and ${drifted.length - 1} more: ${drifted.slice(1).join(', ')})` : '';
      process.stderr.write(
        `${rel(drifted[0] as string)}${more} differs from what schemas/avro/*.avsc generate: run \`npm run gen\` and commit the result.\n`,
      );
      return 1;
    }
    const written = writeAll(avroDir, outDir);
    process.stdout.write(
      written.length === 0 ? 'Generated types are up to date.\n' : `Wrote ${written.map(rel).join(', ')}.\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof SchemaSourceError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) {
  process.exitCode = main(process.argv.slice(2));
}
