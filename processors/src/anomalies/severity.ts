/** Severity of one sample, from |z| (SPEC §5): > 3 medium, > 5 high, > 8 critical. */
export type Severity = 'none' | 'medium' | 'high' | 'critical';

/** What every detector returns for one sample. */
export interface Detection {
  /** Anomaly score in [0, 1]: z² ÷ (z² + 3²), so 0.5 is exactly |z| = 3. */
  readonly score: number;
  /** Signed z of the sample against the state before it was added (0 while warming up). */
  readonly z: number;
  readonly severity: Severity;
  /** Set when the sample was not used (state unchanged): why. */
  readonly skipped?: string;
}

/** |z| is clamped to this so every output and every stored peak stays a finite JSON number. */
export const MAX_ABS_Z = 1e6;

/** The |z| above which a sample is anomalous (SPEC: medium and up). */
export const Z_MEDIUM = 3;
export const Z_HIGH = 5;
export const Z_CRITICAL = 8;

export function severityOf(z: number): Severity {
  const a = Math.abs(z);
  if (a > Z_CRITICAL) return 'critical';
  if (a > Z_HIGH) return 'high';
  if (a > Z_MEDIUM) return 'medium';
  return 'none';
}

/**
 * Maps z to a score in [0, 1]: z² ÷ (z² + 9). Monotone in |z|; 0.5 at |z| = 3 (the medium
 * threshold), 0.735 at 5, 0.877 at 8. A score threshold t therefore flags |z| > 3·√(t ÷ (1 − t)).
 */
export function scoreOf(z: number): number {
  const z2 = z * z;
  return z2 / (z2 + Z_MEDIUM * Z_MEDIUM);
}

/** Clamps z to ±MAX_ABS_Z (and NaN to 0) so outputs are finite. */
export function clampZ(z: number): number {
  if (z > MAX_ABS_Z) return MAX_ABS_Z;
  if (z < -MAX_ABS_Z) return -MAX_ABS_Z;
  return z === z ? z : 0;
}

export function detectionOf(z: number): Detection {
  const c = clampZ(z);
  return { score: scoreOf(c), z: c, severity: severityOf(c) };
}

/** The output for a sample that cannot be scored yet (warming up). */
export const NO_DETECTION: Detection = Object.freeze({ score: 0, z: 0, severity: 'none' });

/** The output for a value that is NaN or ±Infinity: skipped, state unchanged. */
export const SKIPPED_NON_FINITE: Detection = Object.freeze({
  score: 0,
  z: 0,
  severity: 'none',
  skipped: 'value is not a finite number',
});
