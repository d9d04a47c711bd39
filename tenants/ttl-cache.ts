/**
 * A small bounded cache whose entries live for a fixed TTL, with single flight: concurrent misses for
 * one key share one load, and a failed load is not cached. Used where a warm function should pay one
 * DynamoDB read per key per TTL instead of one per request (roles, memberships).
 */
export interface TtlCache<V> {
  /** The cached value for `key`, or the result of `load()` (shared with concurrent callers). */
  get(key: string, load: () => Promise<V>): Promise<V>;
}

export function createTtlCache<V>(options: {
  ttlMs: number;
  maxEntries: number;
  now: () => number;
}): TtlCache<V> {
  const { ttlMs, maxEntries, now } = options;
  const entries = new Map<string, { value: V; expires: number }>();
  const inFlight = new Map<string, Promise<V>>();
  return {
    get(key, load) {
      const hit = entries.get(key);
      if (hit && hit.expires > now()) return Promise.resolve(hit.value);
      const pending = inFlight.get(key);
      if (pending) return pending;
      const flight = load()
        .then((value) => {
          entries.delete(key);
          entries.set(key, { value, expires: now() + ttlMs });
          // Map order is insertion order: the first key is the least recently stored.
          while (entries.size > maxEntries) {
            const oldest = entries.keys().next().value;
            if (oldest === undefined) break;
            entries.delete(oldest);
          }
          return value;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, flight);
      return flight;
    },
  };
}
