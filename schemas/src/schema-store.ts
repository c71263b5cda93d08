/**
 * Where the embedded registry keeps what it was told, as an append-only list of entries replayed
 * in order on start. In single-machine mode the log's `_schemas` topic backs it; tests use the
 * JSON Lines file or memory store below.
 */
import fs from 'node:fs/promises';
import type { CompatibilityLevel } from './registry-client.ts';

/** A schema registered under a subject as a version. The same schema text keeps one id across subjects. */
export interface StoredSchema {
  readonly kind: 'schema';
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  /** The Avro schema's JSON text, as registered. */
  readonly schema: string;
}

/** A compatibility level set for one subject, or globally when `subject` is null. */
export interface StoredConfig {
  readonly kind: 'config';
  readonly subject: string | null;
  readonly compatibility: CompatibilityLevel;
}

export type SchemaStoreEntry = StoredSchema | StoredConfig;

export interface SchemaStore {
  /** Every entry appended so far, in order. */
  load(): Promise<SchemaStoreEntry[]>;
  /** Durably appends one entry; resolves once it would survive a crash. */
  append(entry: SchemaStoreEntry): Promise<void>;
  /**
   * Entries appended since the last `load`/`refresh` by someone else (another process sharing
   * the store), in order. Optional: a store only this registry writes need not offer it.
   */
  refresh?(): Promise<SchemaStoreEntry[]>;
}

export function createMemorySchemaStore(initial: readonly SchemaStoreEntry[] = []): SchemaStore & {
  readonly entries: readonly SchemaStoreEntry[];
} {
  const entries: SchemaStoreEntry[] = [...initial];
  return {
    entries,
    load: async () => [...entries],
    append: async (entry) => {
      entries.push(entry);
    },
  };
}

/**
 * A JSON Lines file, one entry per line, fsynced on every append. A torn last line (a crash while
 * writing it, so no final newline) is ignored on load; any other unreadable line is an error.
 */
export function createFileSchemaStore(path: string): SchemaStore {
  return {
    async load() {
      let text: string;
      try {
        text = await fs.readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) {
        // A torn last line: drop it, so the next append starts on a line of its own.
        await fs.truncate(path, Buffer.byteLength(text.slice(0, end), 'utf8'));
      }
      const entries: SchemaStoreEntry[] = [];
      text
        .slice(0, end)
        .split('\n')
        .forEach((line, i) => {
          if (line.trim() === '') return;
          try {
            entries.push(JSON.parse(line) as SchemaStoreEntry);
          } catch {
            throw new Error(
              `Schema store ${path} line ${i + 1} is not valid JSON; restore the file from a backup.`,
            );
          }
        });
      return entries;
    },
    async append(entry) {
      const handle = await fs.open(path, 'a');
      try {
        await handle.appendFile(`${JSON.stringify(entry)}\n`, 'utf8');
        await handle.datasync();
      } finally {
        await handle.close();
      }
    },
  };
}
