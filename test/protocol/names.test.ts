import { describe, expect, it } from 'vitest';
import { checkBlobHash, checkTensorName, isBlobHash, tensorNameProblem } from '../../shared/protocol/names';

const hash = 'a'.repeat(64);

describe('names from requests', () => {
  it('accepts only lowercase sha256 hex as a blob hash', () => {
    expect(isBlobHash(hash)).toBe(true);
    for (const bad of ['A'.repeat(64), 'a'.repeat(63), `../${'a'.repeat(61)}`, `/${'a'.repeat(63)}`, '', `${hash}\n`]) {
      expect(isBlobHash(bad)).toBe(false);
      expect(() => checkBlobHash(bad)).toThrow(expect.objectContaining({ code: 'BAD_HASH', exitCode: 2 }));
    }
  });

  it("accepts tensor names with '/' but never a path that climbs or is absolute", () => {
    for (const good of ['data', 'head/cls_score', 'conv1/Relu:0', 'a.b/c..d']) expect(tensorNameProblem(good)).toBeNull();
    for (const bad of ['', '../etc/passwd', 'a/../../b', '/etc/passwd', 'a/./b', 'a//b', 'a\\..\\b', 'a\u0000b', 'x'.repeat(600)]) {
      expect(tensorNameProblem(bad)).not.toBeNull();
      expect(() => checkTensorName(bad)).toThrow(expect.objectContaining({ code: 'BAD_TENSOR_NAME' }));
    }
  });
});
