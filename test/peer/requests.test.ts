import { afterEach, describe, expect, it, vi } from 'vitest';
import { Requests } from '../../src/peer/requests.ts';

afterEach(() => vi.useRealTimers());

describe('requests in flight', () => {
  it('matches each answer to its id, once', async () => {
    const requests = new Requests<string>('q');
    const sent: string[] = [];
    const first = requests.ask(
      (id) => sent.push(id),
      1000,
      () => new Error('late'),
    );
    const second = requests.ask(
      (id) => sent.push(id),
      1000,
      () => new Error('late'),
    );
    expect(sent).toEqual(['q1', 'q2']);
    expect(requests.answer('q2', 'two')).toBe(true);
    expect(requests.answer('q1', 'one')).toBe(true);
    expect(await Promise.all([first, second])).toEqual(['one', 'two']);
    expect(requests.answer('q1', 'again')).toBe(false);
    expect(requests.answer('q9', 'never asked')).toBe(false);
  });

  it('finds an answer that comes while the request is being sent', async () => {
    const requests = new Requests<string>('q');
    expect(
      await requests.ask(
        (id) => requests.answer(id, 'at once'),
        1000,
        () => new Error('late'),
      ),
    ).toBe('at once');
  });

  it('fails a request after its deadline, and an answer after that finds nothing', async () => {
    vi.useFakeTimers();
    const requests = new Requests<string>('b');
    const answer = requests.ask(
      () => undefined,
      500,
      (id) => new Error(`${id} timed out`),
    );
    const outcome = answer.catch((err: Error) => err.message);
    await vi.advanceTimersByTimeAsync(499);
    expect(requests.has('b1')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe('b1 timed out');
    expect(requests.answer('b1', 'too late')).toBe(false);
  });

  it('fails one request, or all of them when the connection ends', async () => {
    const requests = new Requests<string>('q');
    const one = requests.ask(
      () => undefined,
      1000,
      () => new Error('late'),
    );
    const two = requests.ask(
      () => undefined,
      1000,
      () => new Error('late'),
    );
    const three = requests.ask(
      () => undefined,
      1000,
      () => new Error('late'),
    );
    requests.fail('q1', new Error('refused'));
    requests.failAll(new Error('closed'));
    await expect(one).rejects.toThrow('refused');
    await expect(two).rejects.toThrow('closed');
    await expect(three).rejects.toThrow('closed');
    expect(requests.has('q2')).toBe(false);
  });
});
