// Reading a variant file in the browser, by clients/files/read.py's rules (the CLI's, and the bulk
// job's): VCF (plain, gzip or bgzip), a TSV with a header, or one variant per line, into the same rows
// with the same line numbers, ids, genomes and error messages.
//
// * VCF: `#CHROM POS ID REF ALT ...`; one row per ALT allele (`G,C` gives two rows, one line).
// * TSV with a header naming a `variant` column (any notation the service reads) or `chrom`, `pos`,
//   `ref`, `alt` columns (`ref` may be empty or `.`), plus optional `id` and `genome` columns, by the
//   names in HEADER_ALIASES (any case, a leading `#` allowed); cells split on tabs (on white space when
//   the header has no tab).
// * Anything else: one variant per line, the first tab-separated cell in any notation (the server
//   parses it: rsIDs and HGVS included where the server takes them).
//
// A row is {index (0-based), line (1-based), id, text, payload, genome, error}: `payload` is what is
// sent (a notation, or {chrom, pos, ref?, alt}); null when the line cannot be a variant, with `error`.

import { gunzip } from "./gzip.js";
import { head, isDigits, oneLine, split, strip } from "./text.js";

export const HEADER_ALIASES = {
  variant: ["variant", "variants", "variant_id", "notation", "hgvs", "hgvsg"],
  chrom: ["chrom", "chr", "chromosome", "contig"],
  pos: ["pos", "position", "start", "start_position", "variant_position"],
  ref: ["ref", "reference", "ref_allele", "reference_allele"],
  alt: ["alt", "alternative", "alternate", "alt_allele", "alternate_allele"],
  id: ["id", "name", "rsid"],
  genome: ["genome", "assembly", "build"],
};
const ALIAS = new Map(Object.entries(HEADER_ALIASES).flatMap(([key, names]) => names.map((n) => [n, key])));
// The longest position accepted (10 digits: beyond every chromosome).
const MAX_POS_DIGITS = 10;

function inputRow(index, line, id, text, payload, genome = null, error = null) {
  return { index, line, id, text: oneLine(text), payload, genome, error };
}

/** The text of a file, plain or gzip/bgzip-compressed (known by its magic bytes, whatever its name),
 * decoded as UTF-8 with U+FFFD for bytes that are not. */
export async function fileText(file) {
  let bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = await gunzip(bytes);
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
}

/** The lines of a text, without line ends (`\r` dropped from their ends). */
export function textLines(text) {
  return text.split("\n").map((line) => line.replace(/\r+$/, ""));
}

/** Whether the input is a VCF: by its name, or by its first line that is not blank. */
export function isVcf(name, lines) {
  const first = lines.find((line) => strip(line)) ?? "";
  const columns = split(first).slice(0, 5).map((c) => c.toUpperCase());
  return (
    [".vcf", ".vcf.gz", ".vcf.bgz"].some((s) => name.toLowerCase().endsWith(s)) ||
    first.startsWith("##fileformat=VCF") ||
    columns.join("\t") === "#CHROM\tPOS\tID\tREF\tALT"
  );
}

/** A row from chrom, pos, ref and alt cells; unreadable when the position is not a 1-based integer. */
function fieldsRow(index, line, id, cells, genome) {
  const [chrom, pos, ref, alt] = cells.map(strip);
  const text = `${chrom}:${pos}:${ref || "."}:${alt}`;
  let problem = null;
  if (!chrom || !alt) problem = `line ${line}: the chromosome and the alternate allele are required`;
  else if (!isDigits(pos) || pos.length > MAX_POS_DIGITS || Number(pos) < 1) {
    problem = `line ${line}: position '${pos}' is not a 1-based integer`;
  }
  if (problem !== null) return inputRow(index, line, id, text, null, genome, problem);
  const payload = { chrom, pos: Number(pos), alt };
  if (ref && ref !== ".") payload.ref = ref;
  return inputRow(index, line, id, text, payload, genome);
}

/** Rows of a VCF and what an annotated VCF needs of it: header lines, records, malformed rows. */
export function parseVcf(lines) {
  const header = [];
  const records = [];
  const malformed = [];
  const rows = [];
  lines.forEach((text, i) => {
    const number = i + 1;
    if (!strip(text)) return;
    if (text.startsWith("#")) {
      if (!records.length && !malformed.length) header.push(text);
      return;
    }
    let fields = text.split("\t");
    if (fields.length < 5) fields = split(text);
    if (fields.length < 5) {
      const problem = `line ${number}: a VCF record needs CHROM, POS, ID, REF and ALT; found ${fields.length} fields`;
      malformed.push(rows.length);
      rows.push(inputRow(rows.length, number, "", head(text, 200), null, null, problem));
      return;
    }
    const [chrom, pos, rawId, ref, alts] = fields.slice(0, 5).map(strip);
    const id = rawId === "." ? "" : rawId;
    const first = rows.length;
    for (const alt of alts.split(",")) rows.push(fieldsRow(rows.length, number, id, [chrom, pos, ref, alt], null));
    const own = rows.slice(first).map((r) => r.index);
    if (isDigits(pos)) records.push({ line: number, fields, rows: own });
    else malformed.push(...own); // not a position: no VCF record can carry it
  });
  return { rows, vcf: { header, records, malformed } };
}

/** Column of each field a TSV header line names, or null when the line is data; throws an Error when
 * the line names some known column but not `variant` or `chrom`, `pos` and `alt`. */
export function headerColumns(line) {
  const cells = line.includes("\t") ? line.split("\t") : split(line);
  const found = {};
  cells.forEach((cell, i) => {
    const key = ALIAS.get(strip(strip(cell).replace(/^#+/, "")).toLowerCase());
    if (key !== undefined && !(key in found)) found[key] = i;
  });
  if (!Object.keys(found).length) return null;
  if (!("variant" in found) && !["chrom", "pos", "alt"].every((k) => k in found)) {
    throw new Error(
      "the TSV header needs a 'variant' column or 'chrom', 'pos', 'ref' and 'alt' columns " +
        `(positions 1-based); found: ${cells.map(strip).join(", ")}`,
    );
  }
  return found;
}

// `# note` and `##meta` lines; `#chrom\tpos...` may be a header.
function isComment(text) {
  return text.startsWith("##") || (text.startsWith("#") && (text.length === 1 || !strip(text[1])));
}

function tsvRow(index, number, text, columns, splitOnTabs) {
  if (columns === null) {
    const variant = strip(text.split("\t")[0]);
    return inputRow(index, number, "", variant, variant);
  }
  const cells = splitOnTabs ? text.split("\t") : split(text);
  const cell = (key) => (key in columns && columns[key] < cells.length ? strip(cells[columns[key]]) : "");
  const id = cell("id");
  const genome = cell("genome") || null;
  if ("variant" in columns) {
    const variant = cell("variant");
    if (!variant) return inputRow(index, number, id, head(text, 200), null, genome, `line ${number}: no variant`);
    return inputRow(index, number, id, variant, variant, genome);
  }
  return fieldsRow(index, number, id, ["chrom", "pos", "ref", "alt"].map(cell), genome);
}

/** Rows of a TSV with a header, or of one variant per line. */
export function parseTsv(lines) {
  let columns = null;
  let splitOnTabs = true;
  let started = false;
  const rows = [];
  lines.forEach((text, i) => {
    const number = i + 1;
    if (!strip(text) || isComment(text)) return;
    if (!started) {
      started = true;
      columns = headerColumns(text);
      if (columns !== null) {
        splitOnTabs = text.includes("\t");
        return;
      }
    }
    if (text.startsWith("#")) return;
    rows.push(tsvRow(rows.length, number, text, columns, splitOnTabs));
  });
  return { rows, vcf: null };
}

/** Every row of a file's (or the text box's) text, in order: `{rows, vcf}` (`vcf` null unless VCF). */
export function readVariants(text, name = "") {
  const lines = textLines(text);
  return isVcf(name, lines) ? parseVcf(lines) : parseTsv(lines);
}
