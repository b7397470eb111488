/**
 * Numbers typed by a user (command-line options, URL parameters) are plain decimal: an
 * optional sign, digits with an optional fraction, and an optional exponent (1e-3). Number()
 * alone also reads hex (0x10), binary (0b11), octal (0o7), '' and padded ' 5 ', so
 * `--timeout 0x10` ran for 16 s and `baud=0x100` at 256 baud. Leading zeros are decimal
 * (010 is ten). Whether a value must be whole, or within bounds, is the option's own check.
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** True when `text` is a plain decimal number as above. */
export function isDecimal(text: string): boolean {
  return DECIMAL.test(text);
}

/** `text` as a number if it is plain decimal, else NaN (1e400 is Infinity: check finiteness). */
export function parseDecimal(text: string): number {
  return DECIMAL.test(text) ? Number(text) : NaN;
}
