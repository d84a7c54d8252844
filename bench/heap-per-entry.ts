/**
 * Heap bytes per cached entry, through the real introspector: its `fetch`
 * option answers with the fixture claims (sub/jti varied, future exp), so
 * the cache holds exactly what it holds in production. Run by
 * bench/micro.ts and, alone, by bench/micro-heap.ts (both with `--expose-gc`).
 */
import { SERVICE_USER_CLAIMS } from './fixture-claims';

/** The package's `createIntrospector`, from the compiled build. */
type CreateIntrospector = typeof import('../lib').createIntrospector;

/**
 * Heap after gc with `entries` cached answers minus the heap before the
 * cache existed, per entry. Includes the key, the derived AuthInfo with its
 * claims, the LRU's bookkeeping and its slots (sized by maxEntries), and the
 * subject and session index.
 *
 * @example
 * ```ts
 * const { createIntrospector } = loadPackage<typeof import('../lib')>(buildDir, 'index');
 * const bytes = await heapPerEntry(createIntrospector, 100_000, globalThis.gc!);
 * ```
 */
export async function heapPerEntry(
  createIntrospector: CreateIntrospector,
  entries: number,
  collect: () => void,
): Promise<number> {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  // The token is `t` + an 18-digit id, used as the caller's sub (ZITADEL ids are 18 digits).
  const fakeZitadel: typeof fetch = async (_url, init) => {
    const sub = (new URLSearchParams(String(init?.body)).get('token') ?? '').slice(1);
    const jti = `V2_${sub}-at_${sub}`;
    const claims = { ...SERVICE_USER_CLAIMS, sub, client_id: sub, jti, exp, iat: exp - 3600 };
    return new Response(JSON.stringify(claims), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  const fill = async (count: number, idPrefix: string) => {
    const introspector = createIntrospector({
      issuer: 'https://acme-4tbz9q.zitadel.cloud',
      introspectionEndpoint: 'https://acme-4tbz9q.zitadel.cloud/oauth/v2/introspect',
      clientId: 'bench',
      clientSecret: 'bench-secret',
      fetch: fakeZitadel,
      cache: { maxEntries: count },
    });
    const batch = 50;
    for (let i = 0; i < count; i += batch) {
      const calls = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        calls.push(introspector.introspect(tokenOf(idPrefix, j)));
      }
      for (const info of await Promise.all(calls)) {
        if (!info.active) throw new Error('fixture answer not active');
      }
    }
    return introspector;
  };

  // Warm every code path (and the fetch machinery) before the baseline.
  await (await fill(2000, '9')).close();
  const heapNow = () => {
    collect();
    collect();
    return process.memoryUsage().heapUsed;
  };
  const before = heapNow();
  const introspector = await fill(entries, '3');
  const after = heapNow();
  // Still cached after the measurement: the introspector (and its cache) was alive throughout.
  const { hits } = introspector.stats();
  if ((await introspector.introspect(tokenOf('3', 0))).active !== true) throw new Error('lost');
  if (introspector.stats().hits !== hits + 1) throw new Error('the cache did not hold the entries');
  await introspector.close();
  return (after - before) / entries;
}

/** `t` + an 18-digit id: a distinct token per index. */
function tokenOf(idPrefix: string, index: number): string {
  return `t${idPrefix}${String(index).padStart(17, '0')}`;
}
