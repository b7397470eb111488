/**
 * Young-generation collection on request: found on this Node, and paced by bytes moved.
 */
import { describe, expect, it } from 'vitest';
import { CollectionPacer, SETTLE_AFTER_BYTES, sharedPacer, youngCollector } from '../../shared/young-collection';

describe('young-generation collection', () => {
  it('is found on this Node, and it runs', () => {
    const collect = youngCollector();
    expect(collect).toBeTypeOf('function');
    expect(() => collect!()).not.toThrow();
  });

  it('is asked for once every so many bytes moved, and never without a collector', () => {
    let collections = 0;
    const pacer = new CollectionPacer(() => collections++, 100);
    for (let i = 0; i < 7; i++) pacer.moved(40);
    expect(collections).toBe(2); // at 120 and 240 bytes
    expect(() => new CollectionPacer(null, 1).moved(10)).not.toThrow();
  });

  it('settles with one full collection once SETTLE_AFTER_BYTES have moved since the last, never without a collector', () => {
    let full = 0;
    const pacer = new CollectionPacer(() => undefined, 1e12, () => full++);
    pacer.moved(SETTLE_AFTER_BYTES - 1);
    pacer.settle();
    expect(full).toBe(0); // a small verify's bytes: no full collection
    pacer.moved(1);
    pacer.settle();
    pacer.settle();
    expect(full).toBe(1);
    let without = 0;
    const off = new CollectionPacer(null, 1e12, () => without++);
    off.moved(2 * SETTLE_AFTER_BYTES);
    off.settle();
    expect(without).toBe(0);
    // And the default one, V8's full collection, runs on this Node.
    const real = new CollectionPacer(() => undefined);
    real.moved(SETTLE_AFTER_BYTES);
    expect(() => real.settle()).not.toThrow();
  });

  it('has one pacer per process, enabled on this Node', () => {
    expect(sharedPacer()).toBe(sharedPacer());
    expect(sharedPacer().enabled).toBe(true);
    expect(new CollectionPacer(null).enabled).toBe(false);
  });
});
