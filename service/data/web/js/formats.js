// Batch files in the browser: variants in (pasted lines, VCF, TSV), results out (TSV, and VCF for VCF
// input). The rules are the CLI's (clients/io.py): the same row keys (1-based line number; "12.2" for
// the second ALT of a multi-allelic VCF line), the same TSV header aliases, the same output columns.

/** Output columns, in the CLI's order (clients/io.py COLUMNS). */
export const COLUMNS = [
  "row", "input", "variant", "genome", "chrom", "pos", "ref", "alt", "kind", "delta_score", "ref_score",
  "alt_score", "label", "probability_lof", "confidence", "region", "model", "error_type", "error_message",
];

/** Error type of an input row that could not be read (it is never sent). */
export const INPUT_ERROR = "invalid_input";

const HEADER_NAMES = {
  variant: ["variant"],
  chrom: ["chrom", "chromosome", "chr"],
  pos: ["pos", "position", "variant_position"],
  ref: ["ref", "reference"],
  alt: ["alt", "alternative"],
};

function oneLine(text) {
  return text.split(/\s+/).filter(Boolean).join(" ");
}

function row(key, text, payload, error) {
  return { key, text: oneLine(text), payload: payload ?? null, error: error ?? null };
}

function fieldsRow(key, chrom, pos, ref, alt) {
  [chrom, pos, ref, alt] = [chrom, pos, ref, alt].map((x) => x.trim());
  const text = `${chrom}:${pos}:${ref || "."}:${alt}`;
  if (!/^\d+$/.test(pos) || Number(pos) < 1) {
    return row(key, text, null, `position '${pos}' is not a 1-based integer`);
  }
  const fields = { chrom, pos: Number(pos), alt };
  if (ref && ref !== ".") fields.ref = ref;
  return row(key, text, fields);
}

/** Whether text is a VCF: by its file name or its first line. */
export function isVcf(lines, name = "") {
  const lower = name.toLowerCase();
  if (lower.endsWith(".vcf") || lower.endsWith(".vcf.gz")) return true;
  return lines.length > 0 && (lines[0].startsWith("##fileformat=VCF") || lines[0].startsWith("#CHROM\t"));
}

/** Data lines of a VCF: CHROM, POS (1-based), ID, REF, ALT; one row per ALT allele. */
export function readVcf(lines) {
  const rows = [];
  lines.forEach((line, i) => {
    const number = i + 1;
    if (!line.trim() || line.startsWith("#")) return;
    const cols = line.split("\t");
    if (cols.length < 5) {
      rows.push(row(String(number), line, null, "a VCF line needs CHROM, POS, ID, REF and ALT"));
      return;
    }
    const alts = cols[4].split(",");
    alts.forEach((alt, j) => {
      const key = alts.length === 1 ? String(number) : `${number}.${j + 1}`;
      rows.push(fieldsRow(key, cols[0], cols[1], cols[3], alt));
    });
  });
  return rows;
}

function readHeader(line) {
  const names = line.split("\t").map((c) => c.trim().replace(/^#+/, "").toLowerCase());
  const found = {};
  for (const [field, aliases] of Object.entries(HEADER_NAMES)) {
    for (const alias of aliases) {
      if (names.includes(alias)) found[field] = names.indexOf(alias);
    }
  }
  const hasFields = ["chrom", "pos", "alt"].every((f) => f in found);
  return "variant" in found || hasFields ? found : null;
}

function tsvRow(key, line, header) {
  const cols = line.split("\t");
  if (header === null) {
    const text = cols[0].trim();
    return row(key, text, text);
  }
  if ("variant" in header) {
    const text = header.variant < cols.length ? cols[header.variant].trim() : "";
    return text ? row(key, text, text) : row(key, line, null, "no variant");
  }
  if (Math.max(...Object.values(header)) >= cols.length) return row(key, line, null, "missing columns");
  const ref = "ref" in header ? cols[header.ref] : "";
  return fieldsRow(key, cols[header.chrom], cols[header.pos], ref, cols[header.alt]);
}

/** A TSV with a `variant` column or chrom/pos/ref/alt columns, or one variant (any notation) per line. */
export function readTsv(lines) {
  const rows = [];
  let header = null;
  let seenData = false;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    if (!seenData) {
      seenData = true;
      header = readHeader(line);
      if (header !== null) return;
    }
    if (line.startsWith("#")) return;
    rows.push(tsvRow(String(i + 1), line, header));
  });
  return rows;
}

/** Split text into lines (LF or CRLF), without a trailing empty line. */
export function splitLines(text) {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** `{format: "vcf" | "tsv", lines, rows}` for pasted text or a file's text. */
export function parseInput(text, name = "") {
  const lines = splitLines(text);
  const vcf = isVcf(lines, name);
  return { format: vcf ? "vcf" : "tsv", lines, rows: vcf ? readVcf(lines) : readTsv(lines) };
}

// --- output ---------------------------------------------------------------------------------------

/** The output record of one row: the server's result or error (or the row's own input error). */
export function resultRecord(inputRow, outcome) {
  const head = { row: inputRow.key, input: inputRow.text };
  if (!outcome) {
    return { ...head, error: { type: INPUT_ERROR, message: inputRow.error || "unreadable", detail: {} } };
  }
  const { input: _sent, ...rest } = outcome;
  return { ...head, ...rest };
}

function cell(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? oneLine(value) : String(value);
}

/** Results as a TSV with the CLI's header. */
export function writeTsv(records) {
  const lines = [COLUMNS.join("\t")];
  for (const record of records) {
    const flat = { ...record, error_type: record.error?.type, error_message: record.error?.message };
    lines.push(COLUMNS.map((c) => cell(flat[c])).join("\t"));
  }
  return lines.join("\n") + "\n";
}

const INFO_HEADERS = [
  '##INFO=<ID=EVO2_DELTA,Number=A,Type=Float,Description="Evo 2 variant service: delta log-likelihood (alt - ref) per ALT allele; negative = less likely under the model">',
  '##INFO=<ID=EVO2_LABEL,Number=A,Type=String,Description="Evo 2 variant service: likely_pathogenic, likely_benign or uncalibrated (BRCA1 calibration; research score, not a clinical call)">',
  '##INFO=<ID=EVO2_ERROR,Number=A,Type=String,Description="Evo 2 variant service: error type where an ALT allele could not be scored">',
];

function infoValue(record, field) {
  if (!record) return ".";
  if (field === "EVO2_ERROR") return record.error ? record.error.type : ".";
  if (record.error) return ".";
  return cell(field === "EVO2_DELTA" ? record.delta_score : record.label) || ".";
}

function annotate(cols, records) {
  const padded = [...cols];
  while (padded.length < 8) padded.push(".");
  const added = ["EVO2_DELTA", "EVO2_LABEL", "EVO2_ERROR"]
    .filter((field) => field !== "EVO2_ERROR" || records.some((r) => r && r.error))
    .map((field) => `${field}=${records.map((r) => infoValue(r, field)).join(",")}`);
  const info = padded[7] === "." || padded[7] === "" ? [] : [padded[7]];
  padded[7] = [...info, ...added].join(";");
  return padded;
}

/** The input VCF with EVO2_DELTA / EVO2_LABEL (and EVO2_ERROR) INFO fields per ALT allele. */
export function writeVcf(lines, records) {
  const byKey = new Map(records.map((r) => [r.row, r]));
  const out = [];
  let described = false;
  const describe = () => {
    if (!described) out.push(...INFO_HEADERS);
    described = true;
  };
  lines.forEach((line, i) => {
    const number = i + 1;
    if (line.startsWith("#CHROM")) describe();
    if (!line.trim() || line.startsWith("#")) {
      out.push(line);
      return;
    }
    describe();
    const cols = line.split("\t");
    if (cols.length < 5) {
      out.push(line);
      return;
    }
    const alts = cols[4].split(",");
    const keys = alts.length === 1 ? [String(number)] : alts.map((_, j) => `${number}.${j + 1}`);
    out.push(annotate(cols, keys.map((k) => byKey.get(k))).join("\t"));
  });
  return out.join("\n") + "\n";
}
