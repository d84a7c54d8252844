/**
 * The memory tier's index of cached keys by subject and by session id, so
 * `evictSubject()` and a session revocation find their entries without a
 * scan. It costs every cached entry, so it is compact: an owner id (an HMAC
 * of 43 characters) is kept only as a 30-bit hash, a small integer V8 stores
 * inline; a bucket of one key is that key itself (the string the LRU holds
 * already), a Set only when an owner has several; and nothing maps a key
 * back to its owners. A bucket can therefore name a key of another owner
 * whose id hashes alike: `take()` returns only the keys `owns` confirms (the
 * result cache checks the entry's own subject and token id). Kept no larger
 * than the memory tier: keys the tier no longer holds are pruned when a
 * kind's references outgrow it.
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
 * The owner a lookup names: a subject id or a session id.
 *
 * @example
 * ```ts
 * const owner: IndexOwner = { subject: ownerId('subject', 'user-1') };
 * ```
 */
export type IndexOwner = { subject: string } | { session: string };

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
  /** Forgets that the key belonged to these owners (its entry now has others). */
  remove(key: string, subject: string | undefined, session: string | undefined): void;
  /** Removes and returns the keys of the subject or session that `owns` confirms. */
  take(owner: IndexOwner): string[];
  clear(): void;
}

/**
 * Creates an index; `holds(key)` says whether the memory tier still has the
 * key, `owns(key, owner)` whether a key found under the owner's hash is that
 * owner's (default: always — then `take()` returns every key of the bucket).
 *
 * @example
 * ```ts
 * const index = createSubjectIndex(() => true, 100);
 * ```
 */
export function createSubjectIndex(
  holds: (key: string) => boolean,
  bound: number,
  owns: (key: string, owner: IndexOwner) => boolean = () => true,
): SubjectIndex {
  const bySubject = createBuckets(holds, bound);
  const bySession = createBuckets(holds, bound);

  return {
    add(key, subject, session) {
      if (subject !== undefined) bySubject.add(subject, key);
      if (session !== undefined) bySession.add(session, key);
    },
    remove(key, subject, session) {
      if (subject !== undefined) bySubject.remove(subject, key);
      if (session !== undefined) bySession.remove(session, key);
    },
    take(owner) {
      if ('subject' in owner) return bySubject.take(owner.subject, (key) => owns(key, owner));
      return bySession.take(owner.session, (key) => owns(key, owner));
    },
    clear() {
      bySubject.clear();
      bySession.clear();
    },
  };
}

/** One key, or the keys, under one hash. */
type Bucket = string | Set<string>;

/** Keys by the hash of one kind of owner id, with a count of references for pruning. */
function createBuckets(holds: (key: string) => boolean, bound: number) {
  const buckets = new Map<number, Bucket>();
  let references = 0;

  const unlink = (slot: number, key: string): void => {
    const bucket = buckets.get(slot);
    if (bucket === undefined) return;
    if (typeof bucket === 'string') {
      if (bucket !== key) return;
      buckets.delete(slot);
    } else {
      if (!bucket.delete(key)) return;
      if (bucket.size === 1) buckets.set(slot, bucket.values().next().value as string);
    }
    references--;
  };

  const prune = (): void => {
    // Deleting while iterating is defined for Map and Set: visited entries stay visited.
    for (const [slot, bucket] of buckets) {
      const keys = typeof bucket === 'string' ? [bucket] : [...bucket];
      for (const key of keys) if (!holds(key)) unlink(slot, key);
    }
  };

  return {
    add(id: string, key: string): void {
      const slot = ownerSlot(id);
      const bucket = buckets.get(slot);
      if (bucket === undefined) buckets.set(slot, key);
      else if (typeof bucket === 'string') {
        if (bucket === key) return;
        buckets.set(slot, new Set([bucket, key]));
      } else {
        if (bucket.has(key)) return;
        bucket.add(key);
      }
      if (++references > bound * 2 + 16) prune();
    },
    remove(id: string, key: string): void {
      unlink(ownerSlot(id), key);
    },
    take(id: string, owned: (key: string) => boolean): string[] {
      const slot = ownerSlot(id);
      const bucket = buckets.get(slot);
      if (bucket === undefined) return [];
      const taken = (typeof bucket === 'string' ? [bucket] : [...bucket]).filter(owned);
      for (const key of taken) unlink(slot, key);
      return taken;
    },
    clear(): void {
      buckets.clear();
      references = 0;
    },
  };
}

/**
 * The bucket of an owner id: FNV-1a, cut to 30 bits — a small integer on
 * every V8 build, so as a Map key it costs no allocation.
 *
 * @example
 * ```ts
 * ownerSlot('user-1') === ownerSlot('user-1'); // true; distinct ids mostly differ
 * ```
 */
export function ownerSlot(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash & 0x3fffffff;
}
