/**
 * The digits data set as the digits_mlp fixture reads it (pixels / 16, then the digit), for the
 * monitoring, dashboard and canary tests: rows, and the even rows as a reference CSV (the file is
 * ordered by writer; even and odd rows are alike, so traffic from the odd rows does not drift).
 */
import { join } from 'node:path';
import { readNumericCsv } from '../src/train/csv.js';
import { ROOT } from './helpers.js';

export const digitsTable = readNumericCsv(join(ROOT, 'assets', 'datasets', 'digits.csv'));
export const DIGITS_WIDTH = digitsTable.columns.length - 1;

/** Row r's 64 pixels, scaled to 0–1. */
export function digitPixels(r: number): number[] {
  return Array.from(
    { length: DIGITS_WIDTH },
    (_, c) => (digitsTable.values[r * digitsTable.columns.length + c] as number) / 16,
  );
}

/** Row r's digit. */
export function digitOf(r: number): number {
  return digitsTable.values[r * digitsTable.columns.length + DIGITS_WIDTH] as number;
}

/** The even rows as CSV: the pixels, then the digit. */
export function evenRowsReferenceCsv(): string {
  const lines = [digitsTable.columns.join(',')];
  for (let r = 0; r < digitsTable.rows; r += 2) lines.push([...digitPixels(r), digitOf(r)].join(','));
  return `${lines.join('\n')}\n`;
}
