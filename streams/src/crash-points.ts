/**
 * Named crash sites for the fault suite (issue I, item 1; docs/reliability.md). A process started
 * with `HETU_CRASH_AT=<site>:<n>[,<site>:<n>…]` kills itself with SIGKILL the n-th time it reaches
 * that site — no cleanup, no flush, as a power cut or the OOM killer would. Without the variable
 * every site is a single comparison.
 *
 * The sites sit where a crash is most likely to break exactly-once processing:
 * - `before-produce`: a batch is folded into the task's state, nothing of it is written yet;
 * - `between-produce-and-commit`: the batch's outputs are written (inside the log's transaction:
 *   the SQLite transaction of the embedded log, the Kafka transaction) and its input positions not;
 * - `restore`: a task is rebuilding its state from its changelog (once per record read);
 * - `dlq-write`: a batch's dead letters are being written;
 * - `projection-write`: a projection store applies a batch (rows written, its transaction open).
 */
export const CRASH_SITES = [
  'before-produce',
  'between-produce-and-commit',
  'restore',
  'dlq-write',
  'projection-write',
] as const;
export type CrashSite = (typeof CRASH_SITES)[number];

const plan = parsePlan(process.env['HETU_CRASH_AT']);
const hits = new Map<CrashSite, number>();

/** `site:n` pairs → the hit count at which each site crashes. Throws on a malformed plan. */
export function parsePlan(spec: string | undefined): Map<CrashSite, number> {
  const out = new Map<CrashSite, number>();
  if (spec === undefined || spec.trim() === '') return out;
  for (const part of spec.split(',')) {
    const [site, n] = part.trim().split(':');
    const count = Number(n);
    if (!CRASH_SITES.includes(site as CrashSite) || !Number.isInteger(count) || count < 1)
      throw new Error(
        `HETU_CRASH_AT has '${part}': expected <site>:<n> with a site among ${CRASH_SITES.join(', ')} and n ≥ 1.`,
      );
    out.set(site as CrashSite, count);
  }
  return out;
}

/** Kills the process (SIGKILL) when the crash plan says this hit of `site` is the one. */
export function crashPoint(site: CrashSite): void {
  if (plan.size === 0) return;
  const at = plan.get(site);
  if (at === undefined) return;
  const n = (hits.get(site) ?? 0) + 1;
  hits.set(site, n);
  if (n === at) {
    process.stderr.write(`crash-point ${site}:${n}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
