/**
 * A {@link SharedMemory} that lives in this process only: what local JWT
 * verification uses for its due times and markers when the introspector
 * offers no fleet-wide one (no coordinating store).
 */
import type { SharedMemory } from '../cache/fleet-hooks';
import { oldestFirst } from './oldest-first';

/**
 * Creates an in-process {@link SharedMemory}, bounded to `maxEntries` names
 * (the oldest written goes first), each kept for its `ttlMs` by `now`.
 *
 * @example
 * ```ts
 * const memory = createProcessMemory({ maxEntries: 10_000, now: Date.now });
 * await memory.set('due:abc', String(Date.now() + 300_000), 3600_000);
 * ```
 */
export function createProcessMemory(options: {
  maxEntries: number;
  now: () => number;
}): SharedMemory {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const trim = oldestFirst(entries);
  const read = (name: string): string | undefined => {
    const entry = entries.get(name);
    if (!entry) return undefined;
    if (entry.expiresAt > options.now()) return entry.value;
    entries.delete(name);
    return undefined;
  };
  const write = (name: string, value: string, ttlMs: number) => {
    entries.delete(name);
    if (ttlMs <= 0) return;
    entries.set(name, { value, expiresAt: options.now() + ttlMs });
    // Map order is insertion order: the first key is the oldest write.
    trim(options.maxEntries);
  };
  return {
    get: async (name) => read(name),
    set: async (name, value, ttlMs) => write(name, value, ttlMs),
    delete: async (name) => {
      entries.delete(name);
    },
    claim: async (name, ttlMs) => {
      if (read(name) !== undefined) return false;
      write(name, '1', ttlMs);
      return true;
    },
  };
}
