import type { CostEfficiency } from './types.ts';

/**
 * The efficiency curve of SPEC §3.3 for a usage ÷ request ratio `r`: below 0.6 linear up to 100,
 * 100 on [0.6, 0.8], then down 200 points per unit to 0 at 1.3. Rounded to two decimals so the
 * SPEC's test points are exact (0.9 → 80, not 80.00000000000001).
 */
export function efficiency(r: number): number {
  let e: number;
  if (r < 0.6) e = (100 * r) / 0.6;
  else if (r <= 0.8) e = 100;
  else e = Math.max(0, 260 - 200 * r);
  return Math.round(Math.max(0, e) * 100) / 100;
}

/**
 * The additive sums the cost base is computed from. Integers (micro-cores, bytes), so that sums
 * in any order (workload → namespace → cluster, or all at once) are bit-identical.
 */
export interface CostSums {
  cpuUsageMicro: number;
  cpuRequestMicro: number;
  memoryUsageBytes: number;
  memoryRequestBytes: number;
  pvcUsedBytes: number;
  pvcCapacityBytes: number;
}

export function emptyCostSums(): CostSums {
  return {
    cpuUsageMicro: 0,
    cpuRequestMicro: 0,
    memoryUsageBytes: 0,
    memoryRequestBytes: 0,
    pvcUsedBytes: 0,
    pvcCapacityBytes: 0,
  };
}

export function addCostSums(a: CostSums, b: CostSums): CostSums {
  return {
    cpuUsageMicro: a.cpuUsageMicro + b.cpuUsageMicro,
    cpuRequestMicro: a.cpuRequestMicro + b.cpuRequestMicro,
    memoryUsageBytes: a.memoryUsageBytes + b.memoryUsageBytes,
    memoryRequestBytes: a.memoryRequestBytes + b.memoryRequestBytes,
    pvcUsedBytes: a.pvcUsedBytes + b.pvcUsedBytes,
    pvcCapacityBytes: a.pvcCapacityBytes + b.pvcCapacityBytes,
  };
}

/** Cores → integer micro-cores; non-finite or negative → 0. */
export function microCores(cores: number | undefined): number {
  return cores !== undefined && Number.isFinite(cores) && cores > 0 ? Math.round(cores * 1e6) : 0;
}

/** Bytes → integer bytes; non-finite or negative → 0. */
export function wholeBytes(bytes: number | undefined): number {
  return bytes !== undefined && Number.isFinite(bytes) && bytes > 0 ? Math.round(bytes) : 0;
}

function ratio(used: number, total: number): number | null {
  return total > 0 ? used / total : null;
}

/** A ratio for display, to four decimals (the efficiencies use the exact ratio). */
function round4(r: number | null): number | null {
  return r === null ? null : Math.round(r * 10_000) / 10_000;
}

/** `base = round(0.4 × cpu + 0.4 × memory + 0.2 × storage)`; a null ratio has efficiency 100. */
export function costEfficiency(sums: CostSums): CostEfficiency {
  const cpuRatio = ratio(sums.cpuUsageMicro, sums.cpuRequestMicro);
  const memoryRatio = ratio(sums.memoryUsageBytes, sums.memoryRequestBytes);
  const storageRatio = ratio(sums.pvcUsedBytes, sums.pvcCapacityBytes);
  const cpu = cpuRatio === null ? 100 : efficiency(cpuRatio);
  const memory = memoryRatio === null ? 100 : efficiency(memoryRatio);
  const storage = storageRatio === null ? 100 : efficiency(storageRatio);
  // In hundredths of a point, as integers, so the rounding of x.5 is not at the mercy of floats.
  const base = Math.round(
    (40 * Math.round(cpu * 100) + 40 * Math.round(memory * 100) + 20 * Math.round(storage * 100)) / 10000,
  );
  return {
    cpuRatio: round4(cpuRatio),
    memoryRatio: round4(memoryRatio),
    storageRatio: round4(storageRatio),
    cpu,
    memory,
    storage,
    base,
  };
}
