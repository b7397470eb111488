/**
 * Promise.all for work whose failures reach the user: when several fail, the error is the
 * first failure in argument order, not the first in time, so the same bad input always gets
 * the same message (`axctl compare a b` with both missing names `a`, every time). It waits
 * for everything to settle before failing; the work it is used for is short.
 */
export async function allInOrder<T extends readonly unknown[] | []>(values: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(values);
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
