/**
 * A bounded map whose entries expire; the oldest entry goes first when it is full, by count or,
 * with a `weigh` function, by the sum of its entries' weights.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number; weight: number }>();
  private totalWeight = 0;
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly maxWeight = Infinity,
    private readonly weigh: (value: V) => number = () => 0,
  ) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, now = Date.now()): void {
    this.delete(key);
    const weight = this.weigh(value);
    // Larger than the whole budget: not kept (its readers read it from the database).
    if (weight > this.maxWeight) return;
    this.entries.set(key, { value, expiresAt: now + this.ttlMs, weight });
    this.totalWeight += weight;
    while (this.entries.size > this.maxEntries || (this.totalWeight > this.maxWeight && this.entries.size > 0)) {
      this.delete(this.entries.keys().next().value as string);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.totalWeight -= entry.weight;
    this.entries.delete(key);
  }
}
