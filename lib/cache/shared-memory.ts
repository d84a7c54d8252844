/**
 * {@link SharedMemory} for the fleet's consumers (event webhook, local JWT):
 * in the coordinating Redis (names HMAC'd, values sealed) when there is one,
 * else a bounded in-process LRU. Never rejects.
 */
import { LRUCache } from 'lru-cache';
import type { Envelope } from './envelope';
import type { SharedMemory } from './fleet-hooks';
import { MEMORY } from './fleet-scripts';
import type { Coordinator } from './coordination';

/** Bound of the in-process fallback (DESIGN: an LRU of 100,000). */
const LOCAL_MAX = 100_000;

/**
 * The memory of `namespace`, in Redis through `coordinator` when given one.
 *
 * @example
 * ```ts
 * const grants = createSharedMemory('grants', { coordinator, envelope, now: Date.now });
 * await grants.set(grantId, userId, 86_400_000);
 * ```
 */
export function createSharedMemory(
  namespace: string,
  fleet: {
    coordinator?: () => Coordinator | undefined;
    envelope: () => Envelope | undefined;
    now: () => number;
  },
): SharedMemory {
  const local = new LRUCache<string, { value: string; until: number }>({ max: LOCAL_MAX });
  const localValue = (name: string): string | undefined => {
    const entry = local.get(name);
    if (entry && entry.until > fleet.now()) return entry.value;
    local.delete(name);
    return undefined;
  };
  const remote = (name: string) => {
    const coordinator = fleet.coordinator?.();
    const envelope = fleet.envelope();
    if (!coordinator || !envelope) return undefined;
    const key = coordinator.key(`mem:${envelope.id('memory', `${namespace}\n${name}`)}`);
    const context = `memory:${key}`;
    const run = (args: string[]) => coordinator.eval(MEMORY.source, [key], args);
    return {
      run,
      seal: (v: string) => envelope.seal(context, v),
      open: (v: string) => envelope.open(context, v),
    };
  };
  const px = (ttlMs: number): string => String(Math.max(1, Math.ceil(ttlMs)));

  return {
    async get(name) {
      const r = remote(name);
      if (!r) return localValue(name);
      const raw = await r.run(['get']).catch(() => undefined);
      return typeof raw === 'string' ? r.open(raw) : undefined;
    },
    async set(name, value, ttlMs) {
      const r = remote(name);
      if (!r) return void local.set(name, { value, until: fleet.now() + ttlMs });
      await r.run(['set', r.seal(value), px(ttlMs)]).catch(() => undefined);
    },
    async delete(name) {
      const r = remote(name);
      if (!r) return void local.delete(name);
      await r.run(['del']).catch(() => undefined);
    },
    async claim(name, ttlMs) {
      const r = remote(name);
      if (!r) {
        if (localValue(name) !== undefined) return false;
        local.set(name, { value: '1', until: fleet.now() + ttlMs });
        return true;
      }
      // Redis unavailable: claim locally rather than drop the event.
      const reply = await r.run(['claim', r.seal('1'), px(ttlMs)]).catch(() => 1);
      return Number(reply) === 1;
    },
  };
}
