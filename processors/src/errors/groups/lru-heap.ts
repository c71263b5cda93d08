/**
 * A binary min-heap of (lastSeen, id), ordered by lastSeen then id: the least recently seen
 * group family is on top. Entries are never updated in place: a new entry is pushed whenever a
 * family's lastSeen changes and the owner skips stale entries when it looks at the top (lazy
 * deletion), rebuilding the heap when stale entries pile up. Pop order depends only on the keys,
 * so two heaps holding the same valid entries evict in the same order.
 */
export class LruHeap {
  private readonly seen: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.ids.length;
  }

  clear(): void {
    this.seen.length = 0;
    this.ids.length = 0;
  }

  push(lastSeen: number, id: string): void {
    this.seen.push(lastSeen);
    this.ids.push(id);
    this.up(this.ids.length - 1);
  }

  /** The top entry, or undefined when empty. */
  peek(): { readonly lastSeen: number; readonly id: string } | undefined {
    if (this.ids.length === 0) return undefined;
    return { lastSeen: this.seen[0] as number, id: this.ids[0] as string };
  }

  pop(): void {
    const last = this.ids.length - 1;
    if (last < 0) return;
    this.swap(0, last);
    this.seen.pop();
    this.ids.pop();
    if (last > 0) this.down(0);
  }

  private less(i: number, j: number): boolean {
    const a = this.seen[i] as number;
    const b = this.seen[j] as number;
    return a < b || (a === b && (this.ids[i] as string) < (this.ids[j] as string));
  }

  private swap(i: number, j: number): void {
    const s = this.seen[i] as number;
    this.seen[i] = this.seen[j] as number;
    this.seen[j] = s;
    const d = this.ids[i] as string;
    this.ids[i] = this.ids[j] as string;
    this.ids[j] = d;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.ids.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
