/**
 * The store deadline: a stalled dependency costs at most `ms`; 0 means no
 * deadline (the promise itself, its answer and its failure unchanged).
 */
import { deadline, DeadlineError } from '../../lib/cache/deadline';

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

it("an expired deadline rejects with a DeadlineError, apart from the dependency's own errors", async () => {
  const error = await deadline(new Promise<never>(() => {}), 20).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DeadlineError);
  const own = await deadline(Promise.reject(new Error('down')), 1_000).catch((e: unknown) => e);
  expect(own).not.toBeInstanceOf(DeadlineError);
});

it('a deadline longer than a timer can hold waits (it does not fire at once)', async () => {
  const answer = new Promise<string>((resolve) => setTimeout(() => resolve('v'), 50));
  await expect(deadline(answer, 3_000_000_000)).resolves.toBe('v');
});
