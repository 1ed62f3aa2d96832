// Output records and the TSV, by clients/files/rows.py and formats.py: one record per input row with
// the keys of COLUMNS, and cells written as Python writes them, so the page's TSV is the CLI's
// (`evo2-variant variant-delta -i FILE -o out.tsv`) to the byte for the same answers.

import { oneLine, pyFloat } from "./text.js";

/** Output columns, in order (clients/files/rows.py COLUMNS). `row` is the 1-based output row, `line`
 * the 1-based input line; `pos` is 1-based and `region` 1-based inclusive. */
export const COLUMNS = [
  "row", "line", "id", "input", "genome", "variant", "chrom", "pos", "ref", "alt", "kind", "region",
  "window_length", "ref_score", "alt_score", "delta_score", "label", "label_reason", "probability_lof",
  "confidence", "non_acgt_ref", "non_acgt_alt", "source", "delta_percentile", "lof_fraction",
  "func_fraction", "context_reason", "model", "warnings", "status", "error_type", "error_message",
];
/** The columns taken from the service's answer (`source` and `context` flattened). */
const RESULT_FIELDS = COLUMNS.slice(COLUMNS.indexOf("variant"), COLUMNS.indexOf("model") + 1);
const CONTEXT_COLUMNS = { percentile: "delta_percentile", lof_fraction: "lof_fraction", func_fraction: "func_fraction" };
/** Columns that are floats in Python (JSON does not say 5 from 5.0; their cells say "5.0"). */
export const FLOAT_COLUMNS = new Set([
  "ref_score", "alt_score", "delta_score", "probability_lof", "confidence", "delta_percentile",
  "lof_fraction", "func_fraction",
]);
/** Error type of a row that could not be read into a variant (answered without being sent). */
export const READ_ERROR = "invalid_variant";

function recordHead(row, genome) {
  return { row: row.index + 1, line: row.line, id: row.id, input: row.text, genome };
}

function warningText(warning) {
  return warning !== null && typeof warning === "object" ? String(warning.message ?? "") : String(warning);
}

/** The record of a scored row; `result` is one result of /variant-delta. */
export function scoredRecord(row, result) {
  const record = recordHead(row, String(result.genome));
  for (const key of RESULT_FIELDS) record[key] = result[key] ?? null;
  const { source, context } = result;
  if (source !== null && typeof source === "object") {
    record.source = ["name", "assembly", "version"].map((k) => String(source[k] ?? "")).join(":");
  }
  const known = context !== null && typeof context === "object";
  for (const [key, column] of Object.entries(CONTEXT_COLUMNS)) record[column] = known ? context[key] ?? null : null;
  record.warnings = (result.warnings || []).map(warningText);
  return Object.assign(record, { status: "ok", error_type: null, error_message: null });
}

/** The record of a row that was not scored (unreadable, refused, or its request failed). */
export function errorRecord(row, genome, type, message) {
  const record = recordHead(row, genome);
  for (const key of RESULT_FIELDS) record[key] = null;
  return Object.assign(record, { warnings: [], status: "error", error_type: type, error_message: message });
}

/** The record of a row that could not be read; `genome` is the run's. */
export function readErrorRecord(row, genome) {
  return errorRecord(row, row.genome || genome, READ_ERROR, row.error || "unreadable row");
}

/** A TSV cell as clients/files writes it: empty for none, floats as Python's repr, lists joined by
 * "; ", everything on one line. */
export function cell(column, value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" && FLOAT_COLUMNS.has(column)) return pyFloat(value);
  const text = Array.isArray(value) ? value.map(String).join("; ") : typeof value === "boolean" ? (value ? "True" : "False") : String(value);
  return oneLine(text);
}

/** The records as the CLI's TSV: a header of COLUMNS, one line per record. */
export function writeTsv(records) {
  const lines = [COLUMNS, ...records.map((r) => COLUMNS.map((c) => cell(c, r[c])))];
  return lines.map((cells) => cells.join("\t") + "\n").join("");
}
