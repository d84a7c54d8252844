/**
 * A Map-based storage adapter for oidc-provider. Unlike the built-in memory
 * adapter (an LRU of 1000 entries) it never evicts a live entry, so a PAT made
 * at start-up survives a long bench run. Expired entries are swept now and
 * then so that memory stays bounded by the tokens still alive.
 */
import type { Adapter } from 'oidc-provider';

interface Entry {
  payload: Record<string, unknown>;
  expiresAt: number;
}

const SWEEP_EVERY_WRITES = 1_000;

/**
 * Creates the adapter factory oidc-provider's `adapter` option takes.
 *
 * @example
 * ```ts
 * new Provider(issuer, { adapter: createMapAdapter() });
 * ```
 */
export function createMapAdapter(): (model: string) => Adapter {
  const entries = new Map<string, Entry>();
  let writes = 0;

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const sweep = (): void => {
    const now = Date.now();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  };

  const findWhere = (model: string, field: string, value: string) => {
    for (const [key, entry] of entries) {
      if (key.startsWith(`${model}:`) && entry.payload[field] === value && live(key)) {
        return entry.payload;
      }
    }
    return undefined;
  };

  return (model) => {
    const keyOf = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        if (++writes % SWEEP_EVERY_WRITES === 0) sweep();
        const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
        entries.set(keyOf(id), { payload, expiresAt });
      },
      async find(id) {
        return live(keyOf(id))?.payload;
      },
      async findByUid(uid) {
        return findWhere(model, 'uid', uid);
      },
      async findByUserCode(userCode) {
        return findWhere(model, 'userCode', userCode);
      },
      async consume(id) {
        const entry = live(keyOf(id));
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        entries.delete(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const [key, entry] of entries) {
          if (entry.payload.grantId === grantId) entries.delete(key);
        }
      },
    };
  };
}
