import Table from 'cli-table3';

/** JSON that keeps int64 exact: bigints become strings, Buffers base64. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (
      v &&
      typeof v === 'object' &&
      (v as { type?: string }).type === 'Buffer' &&
      Array.isArray((v as { data?: unknown }).data)
    )
      return Buffer.from((v as { data: number[] }).data).toString('base64');
    return v;
  });
}

/** Prints rows as a table or as JSON Lines. */
export function printRows(
  out: NodeJS.WritableStream,
  format: 'json' | 'table',
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): void {
  if (format === 'json') {
    for (const r of rows) out.write(`${toJson(r)}\n`);
    return;
  }
  const t = new Table({ head: [...columns], style: { head: [], border: [] } });
  for (const r of rows) t.push(columns.map((c) => cell(r[c])));
  out.write(`${t.toString()}\n`);
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.length > 120 ? `${v.slice(0, 117)}...` : v;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = toJson(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
