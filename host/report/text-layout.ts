/**
 * Plain-text layout for the terminal report: tables that fit a width, wrapped paragraphs and
 * bullets. Colour is applied by the caller's `paint` after padding, so escape codes never
 * shift a column.
 */

/** The width the terminal report is laid out for. */
export const TEXT_WIDTH = 100;

/** Columns a string takes (code points; the report's text has no wide characters). */
export function textWidth(s: string): number {
  return [...s].length;
}

/** Cuts the middle out of a long name, keeping both ends, which tell tensors apart best. */
export function ellipsizeMiddle(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  if (width <= 1) return '…'.slice(0, width);
  const head = Math.ceil((width - 1) / 2);
  const tail = width - 1 - head;
  return `${chars.slice(0, head).join('')}…${tail > 0 ? chars.slice(chars.length - tail).join('') : ''}`;
}

export interface TableOptions {
  /**
   * Index of the column that gives way when the table is too wide: its cells are shortened
   * (middle ellipsis) if they stay distinct and at least `minFlex` wide, otherwise each cell
   * moves onto its own line above the rest of its row.
   */
  flex?: number;
  minFlex?: number;
  maxWidth?: number;
  /** Columns aligned right (numbers). */
  right?: number[];
  /** Colours a cell after it was padded; gets the row index (-1 for the header). */
  paint?: (text: string, row: number, column: number) => string;
  indent?: string;
}

function columnWidths(headers: string[], rows: string[][]): number[] {
  return headers.map((h, c) => Math.max(textWidth(h), ...rows.map((r) => textWidth(r[c] ?? ''))));
}

/** A table with a header and a rule under it; cells are separated by two spaces. */
export function renderTable(headers: string[], rows: string[][], opts: TableOptions = {}): string[] {
  const maxWidth = opts.maxWidth ?? TEXT_WIDTH;
  const indent = opts.indent ?? '';
  const widths = columnWidths(headers, rows);
  const excess = textWidth(indent) + widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1) - maxWidth;
  const flex = opts.flex;
  if (flex === undefined || excess <= 0) return layOut(headers, rows, widths, opts);
  const cut = widths[flex] - excess;
  const shortened = rows.map((r) => ellipsizeMiddle(r[flex], cut));
  if (cut >= Math.max(opts.minFlex ?? 20, textWidth(headers[flex])) && new Set(shortened).size === new Set(rows.map((r) => r[flex])).size) {
    widths[flex] = cut;
    return layOut(headers, rows.map((r, i) => r.map((cell, c) => (c === flex ? shortened[i] : cell))), widths, opts);
  }
  // Stacked: the long cell on its own line, the rest of the row indented under it.
  const without = <T>(cells: T[]) => cells.filter((_, c) => c !== flex);
  const inner = `${indent}  `;
  const paint = opts.paint ?? ((t: string) => t);
  const remap = (c: number) => (c >= flex ? c + 1 : c);
  const rest = layOut(without(headers), rows.map(without), columnWidths(without(headers), rows.map(without)), {
    ...opts,
    indent: inner,
    right: (opts.right ?? []).filter((c) => c !== flex).map((c) => (c > flex ? c - 1 : c)),
    paint: (text, row, c) => paint(text, row, remap(c)),
  });
  const lines = [`${indent}${paint(headers[flex], -1, flex)}`, rest[0], rest[1]];
  rows.forEach((r, i) => lines.push(`${indent}${paint(r[flex], i, flex)}`, rest[i + 2]));
  return lines;
}

function layOut(headers: string[], rows: string[][], widths: number[], opts: TableOptions): string[] {
  const indent = opts.indent ?? '';
  const right = new Set(opts.right ?? []);
  const paint = opts.paint ?? ((t: string) => t);
  const line = (cells: string[], row: number) =>
    (
      indent +
      cells
        .map((text, c) => {
          const pad = ' '.repeat(Math.max(0, widths[c] - textWidth(text)));
          const painted = text === '' ? '' : paint(text, row, c);
          return right.has(c) ? pad + painted : painted + pad;
        })
        .join('  ')
    ).trimEnd();
  return [line(headers, -1), indent + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r, i) => line(r, i))];
}

/** Words wrapped to `width`, the first line after `first`, the rest after `rest`. */
export function wrap(text: string, width: number = TEXT_WIDTH, first = '', rest = first): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = lines.length === 0 ? first : rest;
    let empty = true;
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (!empty && textWidth(line) + 1 + textWidth(word) > width) {
        lines.push(line);
        line = rest + word;
      } else {
        line += (empty ? '' : ' ') + word;
      }
      empty = false;
    }
    lines.push(line);
  }
  return lines;
}

/** `  - item` with continuation lines indented under the text. */
export function bullets(items: readonly string[], width: number = TEXT_WIDTH, indent = '  '): string[] {
  return items.flatMap((item) => wrap(item, width, `${indent}- `, `${indent}  `));
}
