/**
 * The memory tier's index of cached keys by subject and by session id, so
 * `evictSubject()` and a session revocation find their entries without a
 * scan. Kept no larger than the memory tier: keys the tier no longer holds
 * are pruned when the index outgrows it.
 */

/**
 * The session id of a ZITADEL v2 token id (`<oidcSessionID>.<at_id>` or
 * `<oidcSessionID>-<at_id>`): the part before the first "." or "-".
 *
 * @example
 * ```ts
 * sessionOf('312909075212468632.at_312909075212534168'); // '312909075212468632'
 * sessionOf('plain'); // undefined
 * ```
 */
export function sessionOf(jti: unknown): string | undefined {
  if (typeof jti !== 'string') return undefined;
  const cut = jti.search(/[.-]/);
  return cut > 0 ? jti.slice(0, cut) : undefined;
}

/**
 * Keys by subject and by session.
 *
 * @example
 * ```ts
 * const index = createSubjectIndex((key) => memory.has(key), 10_000);
 * index.add(key, 'user-1', 'session-9');
 * index.take({ subject: 'user-1' }); // [key]
 * ```
 */
export interface SubjectIndex {
  add(key: string, subject: string | undefined, session: string | undefined): void;
  /** Removes and returns the keys of the subject or session. */
  take(owner: { subject: string } | { session: string }): string[];
  clear(): void;
}

/**
 * Creates an index; `holds(key)` says whether the memory tier still has the key.
 *
 * @example
 * ```ts
 * const index = createSubjectIndex(() => true, 100);
 * ```
 */
export function createSubjectIndex(holds: (key: string) => boolean, bound: number): SubjectIndex {
  const bySubject = new Map<string, Set<string>>();
  const bySession = new Map<string, Set<string>>();
  const owners = new Map<string, { subject?: string; session?: string }>();

  const link = (map: Map<string, Set<string>>, owner: string, key: string): void => {
    const keys = map.get(owner) ?? new Set<string>();
    keys.add(key);
    map.set(owner, keys);
  };
  const unlink = (map: Map<string, Set<string>>, owner: string | undefined, key: string): void => {
    if (owner === undefined) return;
    const keys = map.get(owner);
    keys?.delete(key);
    if (keys?.size === 0) map.delete(owner);
  };
  const forget = (key: string): void => {
    const owner = owners.get(key);
    if (!owner) return;
    owners.delete(key);
    unlink(bySubject, owner.subject, key);
    unlink(bySession, owner.session, key);
  };

  return {
    add(key, subject, session) {
      forget(key);
      if (subject === undefined && session === undefined) return;
      owners.set(key, { subject, session });
      if (subject !== undefined) link(bySubject, subject, key);
      if (session !== undefined) link(bySession, session, key);
      if (owners.size > bound * 2 + 16) {
        for (const old of [...owners.keys()]) if (!holds(old)) forget(old);
      }
    },
    take(owner) {
      const keys = 'subject' in owner ? bySubject.get(owner.subject) : bySession.get(owner.session);
      const taken = keys ? [...keys] : [];
      for (const key of taken) forget(key);
      return taken;
    },
    clear() {
      bySubject.clear();
      bySession.clear();
      owners.clear();
    },
  };
}
