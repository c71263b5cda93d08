/**
 * A small time-ordered schedule: the next event-time instant at which each pod's or node's
 * health can change by the passage of time alone. A binary min-heap ordered by (at, key), so
 * entries due at the same instant come out in key order whatever order they went in (a restored
 * task pops them in the same order as an uninterrupted one). Entries are not removed when
 * rescheduled: the caller checks a popped entry against the object's current `next` and skips
 * stale ones.
 */
export interface Due {
  readonly at: number;
  /** The state key of the object (`p/…` or `n/…`). */
  readonly key: string;
}

export class Schedule {
  private readonly heap: Due[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(at: number, key: string): void {
    const h = this.heap;
    h.push({ at, key });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Due, h[parent] as Due)) break;
      swap(h, i, parent);
      i = parent;
    }
  }

  /** The earliest entry, without removing it. */
  peek(): Due | undefined {
    return this.heap[0];
  }

  /** Removes and returns the earliest entry. */
  pop(): Due | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l] as Due, h[m] as Due)) m = l;
      if (r < h.length && before(h[r] as Due, h[m] as Due)) m = r;
      if (m === i) break;
      swap(h, i, m);
      i = m;
    }
    return top;
  }

  clear(): void {
    this.heap.length = 0;
  }
}

function before(a: Due, b: Due): boolean {
  return a.at < b.at || (a.at === b.at && a.key < b.key);
}

function swap(h: Due[], i: number, j: number): void {
  const t = h[i] as Due;
  h[i] = h[j] as Due;
  h[j] = t;
}
