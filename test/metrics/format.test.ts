import { describe, expect, it } from 'vitest';
import { formatCosine, formatPercent, formatShare, formatValue } from '../../shared/metrics';

describe('formatting', () => {
  it('formatValue keeps 6 significant digits and spells non-finite values', () => {
    expect(formatValue(0.1234567)).toBe('0.123457');
    expect(formatValue(4.7e-6)).toBe('4.7e-6');
    expect(formatValue(1e-5)).toBe('1e-5');
    expect(formatValue(1234)).toBe('1234');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(Infinity)).toBe('Infinity');
    expect(formatValue(NaN)).toBe('NaN');
  });

  it('formatCosine never shows an imperfect cosine as 1', () => {
    expect(formatCosine(1)).toBe('1');
    expect(formatCosine(0.9999999999)).toBe('0.99999999');
    expect(formatCosine(0.98)).toBe('0.98');
    expect(formatCosine(-0.5)).toBe('-0.5');
  });

  it('formatShare and formatPercent', () => {
    expect(formatShare(0)).toBe('0%');
    expect(formatShare(1e-7)).toBe('<0.01%');
    expect(formatShare(0.0123)).toBe('1.23%');
    expect(formatPercent(0.047)).toBe('4.7%');
    expect(formatPercent(5.4e-5)).toBe('0.0054%');
    expect(formatPercent(Infinity)).toBe('Infinity');
  });
});
