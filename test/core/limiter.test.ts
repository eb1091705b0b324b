import { Limiter } from '../../src/core/limiter';

describe('Limiter', () => {
  test('runs at most `concurrency` tasks at once, the rest in arrival order', async () => {
    const limiter = new Limiter(2);
    const started: number[] = [];
    const release: (() => void)[] = [];
    const tasks = [0, 1, 2, 3].map((i) =>
      limiter.run(async () => {
        started.push(i);
        await new Promise<void>((resolve) => release.push(resolve));
        return i;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    expect(limiter.running).toBe(2);
    expect(limiter.queued).toBe(2);

    release.shift()!();
    await tasks[0];
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    expect(limiter.running).toBe(2);

    while (release.length > 0 || started.length < 4) {
      release.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect(Promise.all(tasks)).resolves.toEqual([0, 1, 2, 3]);
    expect(limiter.running).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  test('a failing task passes its error on and frees its slot', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
    expect(limiter.running).toBe(0);
  });

  test('a task starts only after the callbacks already waiting (an arrived request is answered first)', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('waiting callback'));
    await new Limiter(1).run(async () => {
      order.push('task');
    });
    expect(order).toEqual(['waiting callback', 'task']);
  });

  test('refuses a concurrency that is not a positive integer', () => {
    expect(() => new Limiter(0)).toThrow('concurrency must be a positive integer, not 0');
    expect(() => new Limiter(1.5)).toThrow(RangeError);
  });
});
