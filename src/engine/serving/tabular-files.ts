/**
 * The tabular files the CLI hands to the engine, read the engine's way: numeric feature rows (a
 * CSV request for `tend infer`, the demo's traffic) and general CSV with names, numbers and missing
 * cells (feedback files). The frontends read them here rather than from the layers below.
 */
import { parseReferenceCsv, type ReferenceTable } from '../../monitor/reference-table.js';
import { parseNumericCsv, type NumericTable } from '../../train/index.js';

/** Numeric rows under a header row, as one row-major Float64Array. @throws TendError TEND_INVALID_ARGUMENT */
export function readFeatureRows(text: string, source: string): NumericTable {
  return parseNumericCsv(text, source);
}

/** General CSV: columns by name, cells as numbers, strings or null. @throws TendError TEND_INVALID_ARGUMENT */
export function readCsvColumns(text: string, source: string): ReferenceTable {
  return parseReferenceCsv(text, source);
}
