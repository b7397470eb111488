import { describe, expect, it } from 'vitest';
import { allInOrder } from '../../shared/all-in-order';

const after = <T>(ms: number, outcome: () => T) => new Promise<T>((resolve, reject) => setTimeout(() => {
  try {
    resolve(outcome());
  } catch (err) {
    reject(err);
  }
}, ms));

describe('allInOrder', () => {
  it('resolves with every value in argument order', async () => {
    expect(await allInOrder([after(20, () => 'a'), after(1, () => 2), Promise.resolve(true)])).toEqual(['a', 2, true]);
  });

  it('fails with the first failure in argument order, though a later one failed sooner', async () => {
    const failing = allInOrder([
      after(30, () => {
        throw new Error('first argument');
      }),
      after(1, () => {
        throw new Error('second argument');
      }),
    ]);
    await expect(failing).rejects.toThrow('first argument');
  });

  it('fails only once the earlier arguments have settled', async () => {
    let slowDone = false;
    const failing = allInOrder([
      after(30, () => (slowDone = true)),
      after(1, () => {
        throw new Error('late argument');
      }),
    ]);
    await expect(failing).rejects.toThrow('late argument');
    expect(slowDone).toBe(true);
  });
});
