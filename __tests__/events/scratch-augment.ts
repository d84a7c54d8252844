import { FLEET_HOOKS } from '../../lib/cache/fleet-hooks';
import type { Introspector } from '../../lib/introspector';
export function augment(real: Introspector, users: () => Array<{ userId: string; pat: string }>, projectId?: string) {
  const maps = new Map<string, string>();
  const mem = (ns: string) => ({
    get: async (n: string) => maps.get(ns + n),
    set: async (n: string, v: string) => void maps.set(ns + n, v),
    delete: async (n: string) => void maps.delete(ns + n),
    claim: async (n: string) => (maps.has(ns + n) ? false : (maps.set(ns + n, '1'), true)),
  });
  return Object.assign(real, {
    evictSubject: async (s: string) => { for (const u of users()) if (u.userId === s) await real.evict(u.pat); },
    evictAll: async () => { for (const u of users()) await real.evict(u.pat); },
    [FLEET_HOOKS]: { projectId, evictSession: async () => {}, sharedMemory: mem },
  });
}
