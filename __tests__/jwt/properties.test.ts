import fc from 'fast-check';
import { createIntrospector, type Introspector } from '../../lib/introspector';
import { startJwtIssuer, type JwtIssuer } from './support/jwt-issuer';

let z: JwtIssuer;
let introspector: Introspector;
let valid: string;

beforeAll(async () => {
  z = await startJwtIssuer();
  introspector = createIntrospector({
    issuer: z.issuer,
    clientId: z.clientId,
    clientSecret: z.clientSecret,
    projectId: z.projectId,
    retries: 0,
    jwt: { verify: 'local', revalidateSeconds: 0 },
  });
  valid = await z.mint();
});
afterAll(async () => {
  await introspector.close();
  await z.close();
});

type Mutation =
  | { kind: 'replace'; at: number; value: number }
  | { kind: 'xor'; at: number; mask: number }
  | { kind: 'insert'; at: number; value: number }
  | { kind: 'delete'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('xor' as const),
    at: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
);

/** Applies byte mutations to the decoded bytes; `undefined` when the bytes come out unchanged. */
function mutate(bytes: Buffer, mutations: Mutation[]): Buffer | undefined {
  let result = Buffer.from(bytes);
  for (const m of mutations) {
    const at = result.length === 0 ? 0 : m.at % (result.length + (m.kind === 'insert' ? 1 : 0));
    if (m.kind === 'replace' && result.length > 0) result[at] = m.value;
    if (m.kind === 'xor' && result.length > 0) result[at] ^= m.mask;
    if (m.kind === 'insert')
      result = Buffer.concat([result.subarray(0, at), Buffer.from([m.value]), result.subarray(at)]);
    if (m.kind === 'delete' && result.length > 0)
      result = Buffer.concat([result.subarray(0, at), result.subarray(at + 1)]);
  }
  return result.equals(bytes) ? undefined : result;
}

describe('local verification, property', () => {
  it('the valid token itself is granted (the property below is not vacuous)', async () => {
    expect((await introspector.introspect(valid)).active).toBe(true);
  });

  it('a change of the decoded header, payload or signature bytes is never granted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (segment, mutations) => {
          const segments = valid.split('.');
          const bytes = Buffer.from(segments[segment], 'base64url');
          const changed = mutate(bytes, mutations);
          // Only a change of the bytes counts: re-encoding unchanged bytes is the same token.
          fc.pre(changed !== undefined);
          segments[segment] = changed!.toString('base64url');
          const token = segments.join('.');
          const info = await introspector.introspect(token).catch(() => ({ active: false }));
          expect(info.active).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
