/**
 * An ad-hoc micro benchmark of the cold local-JWT path without HTTP (not
 * part of `npm run bench`): CPU µs (main thread and WebCrypto's pool) per
 * `introspector.introspect()` of a never-seen JWT, in batches of 50 at once
 * as under 50 connections, beside jose's `flattenedVerify` alone over the
 * same tokens and a memory hit — so what the path costs beyond the
 * signature is measured on a quiet in-process loop, not through autocannon.
 *
 * Usage: `npx tsx bench/micro-jwt-cold.ts [--tokens 20000] [--rounds 5]`
 */
import { createPublicKey } from 'node:crypto';
import { flattenedVerify } from 'jose';
import { loadPackage } from './build';
import { numberFlag, withJwtBench } from './jwt-script';
import { runScript } from './processes';
import { median } from './stats';

const TOKENS = numberFlag('--tokens', 20_000);
const ROUNDS = numberFlag('--rounds', 5);
const BATCH = 50;

runScript(main);

async function main(): Promise<void> {
  await withJwtBench(async ({ buildDir, zitadel, issuer }) => {
    const { createIntrospector } = loadPackage<typeof import('../lib')>(buildDir, 'index');
    const introspector = createIntrospector({
      issuer: zitadel.issuer,
      key: zitadel.apiKeyPath,
      introspectionEndpoint: `${zitadel.issuer}/oauth/v2/introspect`,
      projectId: zitadel.projectId,
      jwt: { verify: 'local', jwksUri: issuer.jwksUri, revalidateSeconds: 3600 },
    });
    await introspector.ready();
    const jwks = (await (await fetch(issuer.jwksUri)).json()) as { keys: object[] };
    const key = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' });
    const tokens = await issuer.mint((TOKENS * 2 + 1) * ROUNDS + 2000);
    // Warm-up: JIT and the first growth of every map.
    await batches(tokens.splice(0, 2000), (token) => introspector.introspect(token));
    const rows = { path: [] as number[], signature: [] as number[], hit: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const path = await cpuPer(tokens.splice(0, TOKENS), async (token) => {
        const info = await introspector.introspect(token);
        if (!info.active) throw new Error('a bench JWT was refused');
      });
      const signature = await cpuPer(tokens.splice(0, TOKENS), async (token) => {
        const [protectedHeader, payload, sig] = token.split('.');
        await flattenedVerify({ protected: protectedHeader, payload, signature: sig }, key, {
          algorithms: ['ES256'],
        });
      });
      const [warm] = tokens.splice(0, 1);
      await introspector.introspect(warm);
      const hit = await cpuPer(Array(TOKENS).fill(warm), (token) => introspector.introspect(token));
      rows.path.push(path);
      rows.signature.push(signature);
      rows.hit.push(hit);
      console.log(
        `round ${round + 1}: cold path ${path.toFixed(1)} µs, flattenedVerify alone ${signature.toFixed(1)} µs, hit ${hit.toFixed(1)} µs`,
      );
    }
    const [path, signature, hit] = [rows.path, rows.signature, rows.hit].map(median);
    console.log(
      `median CPU per token: cold path ${path.toFixed(1)} µs = signature ${signature.toFixed(1)} + the rest ${(path - signature).toFixed(1)} (a hit: ${hit.toFixed(1)})`,
    );
    console.log(`stats: ${JSON.stringify(introspector.stats())}`);
    await introspector.close();
  });
}

/** CPU µs (user + system, every thread) per item, `BATCH` items at a time. */
async function cpuPer(items: string[], work: (item: string) => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await batches(items, work);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / items.length;
}

async function batches(items: string[], work: (item: string) => Promise<unknown>): Promise<void> {
  for (let at = 0; at < items.length; at += BATCH) {
    await Promise.all(items.slice(at, at + BATCH).map(work));
  }
}
