// The annotated VCF, by clients/files/vcf.py: the input's header and records, with the EVO2_* INFO
// fields of INFO_FIELDS (one value per ALT allele, "." where an allele was not scored) declared in
// ##INFO lines, and one ##evo2_variant_service=<...> line naming the model and the options. Lines
// that cannot be VCF records are left out (the TSV keeps them).

import { pyFloat, SPACE_CLASS } from "./text.js";

/** ID, Number, Type, Description of the INFO fields written (clients/files/vcf.py INFO_FIELDS). */
export const INFO_FIELDS = [
  ["EVO2_STATUS", "A", "String", "ok when the allele was scored, error when not (see EVO2_ERROR)"],
  ["EVO2_DELTA", "A", "Float", "Evo 2 variant service: delta log-likelihood alt - ref (mean per base; negative: less likely under the model)"],
  ["EVO2_REF_SCORE", "A", "Float", "Score of the reference window (mean log-likelihood per base)"],
  ["EVO2_ALT_SCORE", "A", "Float", "Score of the alternate window (mean log-likelihood per base)"],
  ["EVO2_LABEL", "A", "String", "likely_pathogenic or likely_benign from the model's BRCA1 calibration, . where it gives none (the TSV's label_reason says why); a research score, not a clinical call"],
  ["EVO2_P_LOF", "A", "Float", "Calibrated probability of loss of function (BRCA1-trained)"],
  ["EVO2_WINDOW", "A", "Integer", "Window length in bp"],
  ["EVO2_ERROR", "A", "String", "Error type of an allele that was not scored"],
  ["EVO2_MODEL", "1", "String", "Model that scored the alleles"],
];
const KEYS = new Set(INFO_FIELDS.map(([key]) => key));
// INFO field → the record column of each allele's value.
const PER_ALLELE = {
  EVO2_STATUS: "status",
  EVO2_DELTA: "delta_score",
  EVO2_REF_SCORE: "ref_score",
  EVO2_ALT_SCORE: "alt_score",
  EVO2_LABEL: "label",
  EVO2_P_LOF: "probability_lof",
  EVO2_WINDOW: "window_length",
  EVO2_ERROR: "error_type",
};
const FLOATS = new Set(["EVO2_DELTA", "EVO2_REF_SCORE", "EVO2_ALT_SCORE", "EVO2_P_LOF"]);
const RUN_LINE = "##evo2_variant_service=";
const STANDARD = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"];
const UNSAFE = new RegExp(`${SPACE_CLASS}|[;=,]`, "g");

/** What produced the output (clients/batch.py run_info): /info's model and defaults, overridden by
 * the options sent. */
export function runInfo(info, options) {
  const pick = (key) => options[key] ?? info.defaults?.[key] ?? null;
  return {
    Model: info.model?.name ?? null,
    Revision: info.model?.revision ?? null,
    Genome: pick("genome"),
    Window: pick("window"),
    DeltaMethod: pick("delta_method"),
    ReverseComplement: pick("reverse_complement"),
    Version: info.version ?? null,
  };
}

function quoted(value) {
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  return `"${String(value).replaceAll('"', "'").replaceAll("\\", "/")}"`;
}

function runLine(run) {
  const given = Object.entries(run).filter(([, v]) => v !== null && v !== undefined);
  return `${RUN_LINE}<${["ID=scores", ...given.map(([k, v]) => `${k}=${quoted(v)}`)].join(",")}>`;
}

function value(field, v) {
  if (v === null || v === undefined) return ".";
  if (FLOATS.has(field) && typeof v === "number") return Number.isFinite(v) ? pyFloat(v) : ".";
  return String(v).replace(UNSAFE, "_") || ".";
}

function ours(line) {
  return line.startsWith(RUN_LINE) || [...KEYS].some((key) => line.startsWith(`##INFO=<ID=${key},`));
}

function header(source, run) {
  const lines = source.header.filter((h) => !ours(h) && !h.startsWith("#CHROM"));
  if (!lines.length || !lines[0].startsWith("##fileformat=VCF")) lines.unshift("##fileformat=VCFv4.2");
  const declared = new Set(lines.map((h) => /^##contig=<ID=([^,>]+)/.exec(h)?.[1]).filter(Boolean));
  for (const chrom of new Set(source.records.map((r) => r.fields[0]))) {
    if (!declared.has(chrom)) lines.push(`##contig=<ID=${chrom}>`);
  }
  for (const [key, number, kind, description] of INFO_FIELDS) {
    lines.push(`##INFO=<ID=${key},Number=${number},Type=${kind},Description="${description}">`);
  }
  lines.push(runLine(run));
  const given = source.header.find((h) => h.startsWith("#CHROM")) ?? "";
  lines.push([...STANDARD, ...(given ? given.split("\t") : []).slice(STANDARD.length)].join("\t"));
  return lines;
}

function render(record, alleles) {
  const fields = [...record.fields];
  while (fields.length < 8) fields.push(".");
  const kept = fields[7].split(";").filter((kv) => kv && kv !== "." && !KEYS.has(kv.split("=")[0]));
  const added = Object.entries(PER_ALLELE).map(
    ([key, column]) => `${key}=${alleles.map((r) => value(key, r[column])).join(",")}`,
  );
  const model = alleles.find((r) => r.model)?.model;
  if (model) added.push(`EVO2_MODEL=${value("EVO2_MODEL", model)}`);
  fields[7] = [...kept, ...added].join(";");
  return fields.join("\t");
}

/** The annotated VCF of `source` (read.js parseVcf's `vcf`) from `records` (the records of its first
 * rows, in row order: a stopped run's VCF ends before the first record not fully scored); `run` from
 * runInfo. */
export function writeVcf(source, records, run) {
  const lines = header(source, run);
  for (const record of source.records) {
    if (!record.rows.every((i) => i < records.length)) break;
    lines.push(render(record, record.rows.map((i) => records[i])));
  }
  return lines.map((line) => line + "\n").join("");
}
