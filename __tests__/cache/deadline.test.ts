/**
 * The store deadline: a stalled dependency costs at most `ms`; 0 means no
 * deadline (the promise itself, its answer and its failure unchanged).
 */
import { deadline } from '../../lib/cache/deadline';

it('rejects once the deadline passes; a late answer is then ignored', async () => {
  let answer!: (value: string) => void;
  const slow = new Promise<string>((resolve) => (answer = resolve));
  const started = Date.now();
  await expect(deadline(slow, 30)).rejects.toThrow('timed out after 30 ms');
  expect(Date.now() - started).toBeLessThan(2_000);
  answer('late');
});

it('passes an answer or a failure within the deadline through', async () => {
  await expect(deadline(Promise.resolve('v'), 1_000)).resolves.toBe('v');
  await expect(deadline(Promise.reject(new Error('down')), 1_000)).rejects.toThrow('down');
});

it('0 (or no number) is no deadline: the promise itself', async () => {
  const slow = new Promise<string>((resolve) => setTimeout(() => resolve('v'), 50));
  expect(deadline(slow, 0)).toBe(slow);
  expect(deadline(slow, Number.NaN)).toBe(slow);
  await expect(deadline(slow, 0)).resolves.toBe('v');
});
