/** A size-bounded LRU: Map keeps insertion order, so re-inserting on read marks an entry recent. */
export class MemoryLru<V> {
  private readonly entries = new Map<string, { value: V; size: number }>();
  private total = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly sizeOf: (value: V) => number = () => 1,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    const size = this.sizeOf(value);
    if (size > this.maxTotal) return;
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.total -= previous.size;
    }
    while (this.total + size > this.maxTotal) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value[0]);
      this.total -= oldest.value[1].size;
    }
    this.entries.set(key, { value, size });
    this.total += size;
  }

  get size(): number {
    return this.entries.size;
  }
}
