/**
 * The one base class for hetu's domain errors. Identify errors by `code` (`HETU_<AREA>_<WHAT>`,
 * listed in docs/errors.md), never by `instanceof`: errors cross module and process boundaries.
 */
export class HetuError extends Error {
  readonly code: string;
  /** True when retrying the same operation later may succeed (broker or registry outage). */
  readonly transient: boolean;

  constructor(code: string, message: string, options: { cause?: unknown; transient?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HetuError';
    this.code = code;
    this.transient = options.transient ?? false;
  }
}

/** The error's stable code, if it has one. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function isTransient(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true;
}
