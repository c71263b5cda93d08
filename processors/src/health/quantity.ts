// Kubernetes resource quantities, shared by every stage that reads pod specs.

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIX: Readonly<Record<string, bigint>> = {
  Ki: 1n,
  Mi: 2n,
  Gi: 3n,
  Ti: 4n,
  Pi: 5n,
  Ei: 6n,
};
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/**
 * A Kubernetes resource quantity (`100m`, `0.5`, `128Mi`, `1G`, `1e3`, …) as a number in base
 * units (cores, bytes), the nearest double to the exact decimal value; null when it is not a
 * quantity. A JSON number is taken as is.
 */
export function parseQuantity(q: unknown): number | null {
  if (typeof q === 'number') return Number.isFinite(q) ? q : null;
  if (typeof q !== 'string') return null;
  const m = QUANTITY.exec(q.trim());
  if (m === null) return null;
  const sign = m[1] === '-' ? '-' : '';
  const [whole = '', frac = ''] = (m[2] as string).split('.');
  const digits = BigInt((whole + frac).replace(/^0+(?=\d)/, '') || '0');
  let exp = -frac.length;
  let mantissa = digits;
  const suffix = m[3];
  if (m[4] !== undefined) exp += Number(m[4]);
  else if (suffix !== undefined && suffix in BINARY_SUFFIX)
    mantissa = digits << (10n * (BINARY_SUFFIX[suffix] as bigint));
  else exp += DECIMAL_SUFFIX[suffix ?? ''] as number;
  // A decimal string is converted to the nearest double, so `${mantissa}e${exp}` is exact-then-rounded once.
  const v = Number(`${sign}${mantissa}e${exp}`);
  return Number.isFinite(v) ? v : null;
}
