/**
 * `f` applied to a value that may still be coming: at once when `value` is not a promise, after
 * it otherwise. For decoders that answer without a promise when they can (a known schema), so a
 * fold awaits nothing per record (`foldBatch`). (Not named `then`: a module exporting `then` is a
 * thenable, and `await import()` of it would resolve to something else.)
 */
export function andThen<T, U>(value: T | Promise<T>, f: (v: T) => U): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}
