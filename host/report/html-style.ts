/**
 * The report page's only stylesheet, inlined into every page. System fonts only (no web
 * fonts: the page must work offline); colours as custom properties so the same SVG charts
 * read in light mode, dark mode and on paper.
 */
export const REPORT_CSS = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1d2129; --muted: #5c6370; --border: #d7dbe0; --panel: #f5f7f9;
  --good: #1a7f37; --bad: #c62828; --warn: #b26a00; --info: #0b6bcb; --neutral: #59636e;
  --good-bg: #e8f5ec; --bad-bg: #fdecec; --warn-bg: #fff4e0; --info-bg: #e7f1fb; --neutral-bg: #eef0f2;
  --pt: rgba(11, 107, 203, 0.55); --quant: #7b4dc4; --compile: #0b8a8a; --grid: #e6e9ed;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181d; --fg: #e3e6ea; --muted: #9aa3ad; --border: #353b44; --panel: #1d2127;
    --good: #4cc26b; --bad: #ff6b6b; --warn: #f0a93b; --info: #5aa9f5; --neutral: #9aa3ad;
    --good-bg: #13291b; --bad-bg: #361b1d; --warn-bg: #33270f; --info-bg: #132638; --neutral-bg: #23282f;
    --pt: rgba(90, 169, 245, 0.6); --quant: #b48cf2; --compile: #3cc4c4; --grid: #262b32;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
main, header.verdict, footer { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.6rem; border-bottom: 1px solid var(--border); padding-bottom: 0.2rem; }
h3 { font-size: 1rem; margin: 1.4rem 0 0.4rem; word-break: break-all; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.85rem; }
header.verdict { margin-top: 24px; padding: 20px 24px; border-left: 10px solid var(--tone); background: var(--tone-bg); border-radius: 6px; }
header.verdict .kind { margin: 0; color: var(--muted); font-size: 0.9rem; }
header.verdict h1 { margin: 0.1rem 0 0.4rem; font-size: 2.4rem; line-height: 1.1; color: var(--tone); letter-spacing: 0.02em; }
header.verdict .summary { font-size: 1.15rem; margin: 0.2rem 0 0.6rem; }
header.verdict h2 { border: 0; margin: 1rem 0 0.2rem; font-size: 1rem; }
header.verdict ul { margin: 0.2rem 0; padding-left: 1.4rem; }
.tone-good { --tone: var(--good); --tone-bg: var(--good-bg); }
.tone-bad { --tone: var(--bad); --tone-bg: var(--bad-bg); }
.tone-warn { --tone: var(--warn); --tone-bg: var(--warn-bg); }
.tone-info { --tone: var(--info); --tone-bg: var(--info-bg); }
.tone-neutral { --tone: var(--neutral); --tone-bg: var(--neutral-bg); }
.compile-note { margin: 0.3rem 0; }
.badge { display: inline-block; padding: 0 0.5em; border-radius: 4px; font-weight: 600; font-size: 0.85em;
  color: var(--tone); background: var(--tone-bg); border: 1px solid var(--tone); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1.2rem; margin: 1.2rem 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.3rem 0.6rem; border-bottom: 1px solid var(--border); vertical-align: top; }
th { color: var(--muted); font-weight: 600; background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { overflow-wrap: anywhere; min-width: 12rem; }
td.shape, td.mono { white-space: nowrap; }
.fail, .lossy-text { color: var(--bad); font-weight: 600; }
.pass { color: var(--good); }
.skipped { color: var(--muted); }
.callout { border: 1px solid var(--tone); background: var(--tone-bg); border-radius: 6px; padding: 0.6rem 1rem; margin: 0.8rem 0; }
.callout h2 { margin-top: 0; border: 0; color: var(--tone); }
.output-detail { border: 1px solid var(--border); border-radius: 6px; padding: 0 1rem 0.8rem; margin: 1rem 0; break-inside: avoid; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts figure { margin: 0; flex: 1 1 380px; max-width: 520px; }
figure.wide { max-width: none; margin: 0.6rem 0; }
figcaption { color: var(--muted); font-size: 0.85rem; }
svg.chart { width: 100%; height: auto; display: block; overflow: visible; font-size: 11px; font-family: inherit; }
svg.chart text { fill: var(--fg); }
svg.chart .tick, svg.chart .axis-label { fill: var(--muted); }
svg.chart .grid { stroke: var(--grid); stroke-width: 1; }
svg.chart .frame { stroke: var(--muted); stroke-width: 1; }
svg.chart .pt { fill: var(--pt); }
svg.chart .pt.bad { fill: var(--bad); fill-opacity: 0.8; }
svg.chart .diag { stroke: var(--good); stroke-width: 1.5; stroke-dasharray: 6 4; }
svg.chart .worst { fill: none; stroke: var(--bad); stroke-width: 2; }
svg.chart .bar { fill: var(--info); }
svg.chart .zero { stroke: var(--good); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg.chart .layer .bar { fill: var(--good); }
svg.chart .layer.lossy .bar { fill: var(--bad); }
svg.chart .layer.lossy .name { fill: var(--bad); }
svg.chart .stage.quantization .bar, svg.chart .swatch.quantization { fill: var(--quant); }
svg.chart .stage.compile .bar, svg.chart .swatch.compile { fill: var(--compile); }
svg.chart .stage.lossy .value { fill: var(--bad); font-weight: 600; }
svg.chart .na { fill: var(--muted); font-style: italic; }
svg.chart .threshold line { stroke: var(--warn); stroke-width: 2; stroke-dasharray: 5 3; }
svg.chart .empty { fill: var(--muted); font-size: 14px; }
ul.findings { list-style: none; padding: 0; }
ul.findings li { margin: 0.3rem 0; }
ul.findings .hint { color: var(--muted); display: block; padding-left: 1.2rem; }
pre.log { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 0.6rem 0.8rem;
  max-height: 28rem; overflow: auto; white-space: pre-wrap; word-break: break-all; }
footer { color: var(--muted); font-size: 0.85rem; margin: 2rem auto; border-top: 1px solid var(--border); padding-top: 0.6rem; }
@media print {
  :root { color-scheme: light;
    --bg: #fff; --fg: #000; --muted: #444; --border: #bbb; --panel: #f4f4f4; --grid: #e4e4e4;
    --good: #1a7f37; --bad: #c62828; --warn: #b26a00; --info: #0b6bcb; --neutral: #59636e;
    --good-bg: #fff; --bad-bg: #fff; --warn-bg: #fff; --info-bg: #fff; --neutral-bg: #fff; --pt: rgba(11, 107, 203, 0.6); }
  body { font-size: 11pt; }
  main, header.verdict, footer { max-width: none; padding: 0; }
  header.verdict { border: 2px solid var(--tone); border-left-width: 10px; padding: 12px 16px; }
  pre.log { max-height: none; overflow: visible; }
  figure, .output-detail, tr, svg.chart { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
