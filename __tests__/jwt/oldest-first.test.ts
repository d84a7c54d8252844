import fc from 'fast-check';
import { oldestFirst } from '../../lib/jwt/oldest-first';

describe('oldestFirst', () => {
  it('drops the oldest-inserted keys beyond the bound, a re-inserted key counting as new', () => {
    const map = new Map<string, number>();
    const trim = oldestFirst(map);
    map.set('a', 1).set('b', 2).set('c', 3);
    trim(2);
    expect([...map.keys()]).toEqual(['b', 'c']);
    map.delete('b');
    map.set('b', 4).set('d', 5);
    trim(2);
    expect([...map.keys()]).toEqual(['b', 'd']);
    // Everything the cursor had seen is gone; it starts over after clear().
    map.clear();
    map.set('e', 6).set('f', 7).set('g', 8);
    trim(1);
    expect([...map.keys()]).toEqual(['g']);
  });

  it('keeps exactly what the fresh-iterator loop keeps, under any mix of set, delete, clear and trim', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('trim' as const), max: fc.integer({ min: 0, max: 8 }) }),
      fc.constant({ kind: 'clear' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const map = new Map<number, number>();
        const reference = new Map<number, number>();
        const trim = oldestFirst(map);
        for (const [step, o] of ops.entries()) {
          if (o.kind === 'set') {
            map.set(o.key, step);
            reference.set(o.key, step);
          } else if (o.kind === 'delete') {
            map.delete(o.key);
            reference.delete(o.key);
          } else if (o.kind === 'clear') {
            map.clear();
            reference.clear();
          } else {
            trim(o.max);
            while (reference.size > o.max) reference.delete(reference.keys().next().value!);
          }
          expect([...map.entries()]).toEqual([...reference.entries()]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
