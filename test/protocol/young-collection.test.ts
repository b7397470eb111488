/**
 * Young-generation collection on request: found on this Node, and paced by bytes moved.
 */
import { describe, expect, it } from 'vitest';
import { CollectionPacer, sharedPacer, youngCollector } from '../../shared/young-collection';

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

  it('has one pacer per process, enabled on this Node', () => {
    expect(sharedPacer()).toBe(sharedPacer());
    expect(sharedPacer().enabled).toBe(true);
    expect(new CollectionPacer(null).enabled).toBe(false);
  });
});
