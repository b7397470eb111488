/** Number formats, escaping, log excerpts and chart axes the three renderers share. */
import { describe, expect, it } from 'vitest';
import { niceAxis } from '../../host/report/chart-scale';
import { escapeHtml, escapeXmlAttr, escapeXmlText, stripAnsi, visibleControls } from '../../host/report/escape';
import { fmtCosine, fmtNumber, describeTiming } from '../../host/report/format';
import { logExcerpt } from '../../host/report/log-excerpt';

describe('numbers', () => {
  it('gives cosines 6 decimals and never rounds a near-1 value up to a perfect 1', () => {
    expect(fmtCosine(0.9412)).toBe('0.941200');
    expect(fmtCosine(1)).toBe('1');
    expect(fmtCosine(0.9999996)).toBe('0.999999');
    expect(fmtCosine(-0.0000001)).toBe('0.000000');
    expect(fmtCosine(NaN)).toBe('NaN');
    expect(fmtCosine(null)).toBe('n/a');
  });

  it('writes tiny differences as 1.2e-7 and others with 4 significant digits', () => {
    expect(fmtNumber(1.1920929e-7)).toBe('1.192e-7');
    expect(fmtNumber(0)).toBe('0');
    expect(fmtNumber(3.4375)).toBe('3.438');
    expect(fmtNumber(15)).toBe('15');
  });

  it('describes timing per component and copes with a run that printed none', () => {
    expect(describeTiming({ runUs: null, rounds: null, components: [], wallMs: 702 })).toBe('wall 702 ms');
    expect(describeTiming({ runUs: 5415, rounds: 1, components: [{ name: 'NEU', avgUs: 5378, overheadUs: null }], wallMs: 12_345 })).toBe(
      'avg 5415 µs per round over 1 round (NEU 5378 µs); wall 12.3 s',
    );
  });

  it('says beside the timing when it counts warm-up rounds (run_joint with --warmup and --repeat 1)', () => {
    const timing = { runUs: 5415, rounds: 1, components: [], wallMs: 612, warmup: 3 };
    expect(describeTiming({ ...timing, includesWarmup: true })).toBe(
      'avg 5415 µs per round over 1 round (timing includes 3 warm-up rounds: run_joint counts them when --repeat is 1; use --repeat 2 or more for a clean average); wall 612 ms',
    );
    expect(describeTiming({ ...timing, warmup: 1, includesWarmup: true })).toContain('(timing includes 1 warm-up round: ');
    expect(describeTiming({ ...timing, includesWarmup: false })).toBe('avg 5415 µs per round over 1 round; wall 612 ms');
  });
});

describe('escaping', () => {
  it('escapes markup and quotes for HTML', () => {
    expect(escapeHtml(`<script>alert(1)</script> & "x" 'y'`)).toBe('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;');
  });

  it('makes control characters XML cannot carry visible, and drops colour codes', () => {
    expect(escapeXmlText('a\u0000b\u0007c\u001b[31md\u001b[0m\ufffe')).toBe('a␀b␇cd\ufffd');
    expect(escapeXmlText('line1\r\nline2\t]]>')).toBe('line1&#13;\nline2\t]]&gt;');
    expect(escapeXmlAttr('a\nb\t"c"')).toBe('a&#10;b&#9;&quot;c&quot;');
    expect(visibleControls('\ud800x\u0085')).toBe('\ufffdx\ufffd');
    expect(visibleControls('😀')).toBe('😀');
    expect(stripAnsi('\u001b]0;title\u0007text\u001b[2K')).toBe('text');
  });
});

describe('logExcerpt', () => {
  const limits = { headLines: 3, tailLines: 4, maxChars: 10_000 };
  const log = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\r\n');

  it('keeps a short log whole, with LF line ends', () => {
    expect(logExcerpt('a\r\nb\n', limits)).toBe('a\nb\n');
    expect(logExcerpt('', limits)).toBe('');
  });

  it('keeps the head and the tail of a long log and says what was cut', () => {
    expect(logExcerpt(log, limits)).toBe('line 1\nline 2\nline 3\n… [13 of 20 lines cut] …\nline 17\nline 18\nline 19\nline 20\n');
  });

  it('gives up head lines first when the characters do not fit', () => {
    const out = logExcerpt(log, { ...limits, maxChars: 32 }); // exactly the 4 tail lines
    expect(out).toBe('… [16 of 20 lines cut] …\nline 17\nline 18\nline 19\nline 20\n');
  });

  it('clips a single enormous line in its middle', () => {
    const out = logExcerpt('x'.repeat(100_000), { headLines: 10, tailLines: 10, maxChars: 1e6 });
    expect(out.length).toBeLessThan(2_100);
    expect(out).toContain('[98000 characters cut]');
  });
});

describe('niceAxis', () => {
  it('rounds the range to 1-2-5 ticks', () => {
    const a = niceAxis(-10.96, 8.7);
    expect(a.lo).toBe(-15);
    expect(a.hi).toBe(10);
    expect(a.ticks).toEqual([-15, -10, -5, 0, 5, 10]);
  });

  it('opens up a flat range and labels tiny ticks in exponent form', () => {
    expect(niceAxis(3, 3).ticks.length).toBeGreaterThan(1);
    const tiny = niceAxis(-1.2e-4, 1.2e-4, 5, false);
    expect(tiny.ticks.map(tiny.label)).toContain('-1e-4');
  });
});
