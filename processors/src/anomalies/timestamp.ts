/**
 * Parses the timestamps found in NAB-style CSV files into epoch milliseconds (UTC), without
 * `Date.parse` (whose handling of zone-less strings depends on the machine's time zone).
 *
 * Accepted: `YYYY-MM-DD HH:MM[:SS[.fraction]]` or the same with `T`, optionally followed by `Z`
 * or `±HH:MM` / `±HHMM`; zone-less times are UTC. Returns NaN for anything else, including
 * out-of-range fields (month 13, 25:00, Feb 30).
 */
const RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

export function parseTimestamp(text: string): number {
  const m = RE.exec(text.trim());
  if (m === null) return NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(m[7].padEnd(3, '0').slice(0, 3)));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  if (day > daysInMonth(year, month)) return NaN;
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const zh = Number(digits.slice(0, 2));
    const zm = Number(digits.slice(2, 4));
    if (zh > 23 || zm > 59) return NaN;
    t -= sign * (zh * 60 + zm) * 60_000;
  }
  return t;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
