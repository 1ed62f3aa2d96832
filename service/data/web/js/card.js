// The result card of one variant, in words a person without a bioinformatics background can read.
// Everything it says comes from the /variant-delta answer and /info's model and calibration.

import { el, fixed2, grouped, signed } from "./dom.js";

const BUILDS = { hg38: "hg38 (GRCh38)", hg19: "hg19 (GRCh37)" };
const KINDS = {
  snv: "a single-base change (SNV)",
  mnv: "a change of several adjacent bases (MNV)",
  insertion: "an insertion",
  deletion: "a deletion",
};
const KIND_PLURALS = {
  snv: "single-base changes (SNVs)",
  mnv: "changes of several adjacent bases (MNVs)",
  insertion: "insertions",
  deletion: "deletions",
};
const LABELS = { likely_pathogenic: "Likely pathogenic", likely_benign: "Likely benign" };
// A few words for each label_reason, where a table has no room for the card's sentences.
const SHORT_REASONS = {
  no_calibration: "no calibration",
  model_not_validated: "model not validated on BRCA1",
  non_finite_delta: "no finite delta",
  options_outside_calibration: "other options than calibrated",
  calibration_scope_unknown: "calibration scope unknown",
  kind_outside_calibration: "kind not calibrated",
  window_length_outside_calibration: "window cut short",
  window_has_n: "unknown bases (N) in the window",
};

/** The label in words, or "none" and why in a few words (a results table's cell). */
export function labelWords(label, reason) {
  if (label) return LABELS[label] || label;
  return `none: ${SHORT_REASONS[reason] || reason || "no reason given"}`;
}

function strands(both) {
  return both ? "both strands averaged" : "one strand";
}

function percent(fraction) {
  return `${(100 * fraction).toFixed(1)}%`;
}

function list(words) {
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}` : words[0] || "";
}

/** What the sign of the delta means, in one or two sentences. */
export function deltaSentence(delta) {
  if (delta < 0) {
    return (
      "Negative: the model finds the DNA with the alternate base less likely than the reference DNA. " +
      "Changes that damage a gene tend to score negative; the further below zero, the bigger the surprise."
    );
  }
  if (delta > 0) {
    return (
      "Positive: the model finds the DNA with the alternate base slightly more likely than the reference " +
      "DNA, which is what harmless changes tend to do."
    );
  }
  return "Zero: the model sees no difference between the reference and the alternate DNA.";
}

/** The measured BRCA1 AUROC of the calibration, or what stands in for it, as a sentence. */
export function aurocSentence(calibration) {
  const overall = calibration?.auroc?.overall;
  if (overall && typeof overall.value === "number") {
    const ci = Array.isArray(overall.ci95) ? `95% CI ${fixed2(overall.ci95[0])}–${fixed2(overall.ci95[1])}; ` : "";
    const n = overall.n ? `${grouped(overall.n)} SNVs` : "";
    return (
      `Measured BRCA1 AUROC ${fixed2(overall.value)} (${ci}${n} of Findlay et al. 2018; ` +
      "0.5 is chance, 1.0 is perfect)."
    );
  }
  const published = calibration?.published_auroc;
  const value = typeof published === "number" ? published : published?.value;
  if (typeof value === "number") {
    return `BRCA1 AUROC ${fixed2(value)} as published, not re-measured by this service.`;
  }
  return "No BRCA1 measurement for this model.";
}

/** The options the calibration was fitted with that this result differs in, as words. */
function otherOptions(result, calibration, window) {
  const options = calibration?.options || {};
  const wanted = [];
  if (calibration?.window && calibration.window !== window) wanted.push(`${grouped(calibration.window)}-bp windows`);
  if (options.delta_method && options.delta_method !== result.delta_method) wanted.push(`the “${options.delta_method}” delta`);
  if (typeof options.reverse_complement === "boolean" && options.reverse_complement !== result.reverse_complement) {
    wanted.push(strands(options.reverse_complement));
  }
  return wanted;
}

function notValidated(model, calibration) {
  const measured = calibration?.auroc?.overall?.value;
  const min = fixed2(calibration?.min_auroc ?? 0.6);
  if (typeof measured === "number") {
    return (
      `${model}'s measured BRCA1 AUROC is ${fixed2(measured)}, and the service gives labels only for a ` +
      `model that reaches ${min} (with a 95% interval above 0.5). A model that cannot tell BRCA1's ` +
      "damaging changes from harmless ones should not label yours."
    );
  }
  return `${model} has no BRCA1 measurement of at least ${min}, so the service gives it no labels.`;
}

function unknownBases(result) {
  const ref = result.non_acgt_ref || 0;
  const alt = result.non_acgt_alt || 0;
  const counts = ref === alt ? `${grouped(ref)} bases` : `${grouped(ref)} bases (reference) and ${grouped(alt)} (alternate)`;
  return `The window holds ${counts} that are not A, C, G or T (N marks unknown sequence)`;
}

/** Why a result has no label (its `label_reason`), in plain language; `window` is the requested one. */
export function whyNoLabel(result, calibration, window = result.window_length) {
  const kinds = calibration?.variant_kinds || ["snv"];
  const lengths = (calibration?.window_lengths || []).map((w) => `${grouped(w)}-bp`);
  const wanted = otherOptions(result, calibration, window);
  const reasons = {
    no_calibration: () => `There is no BRCA1 calibration for ${result.model}, so the service gives no label.`,
    model_not_validated: () => notValidated(result.model, calibration),
    non_finite_delta: () => "The delta is not a finite number, so there is nothing to label.",
    options_outside_calibration: () =>
      `The calibration was fitted with ${list(wanted) || "other options"}; deltas with other options are on another scale. ` +
      "Set the options back to get a label.",
    calibration_scope_unknown: () =>
      "The calibration file does not say which kinds of variants and window lengths it was fitted on, so it labels nothing.",
    kind_outside_calibration: () =>
      `The BRCA1 calibration was fitted on ${list(kinds.map((k) => KIND_PLURALS[k] || k))} only; ` +
      `${KINDS[result.kind] || result.kind} is outside what it has seen, so there is no label.`,
    window_length_outside_calibration: () =>
      `The window is ${grouped(result.window_length)} bp (shortened at a chromosome end); ` +
      `the calibration was fitted on ${list(lengths) || "other"} windows only, so there is no label.`,
    window_has_n: () => "A window with unknown bases gets no label: the calibration was fitted on windows without any.",
  };
  const code = result.label_reason;
  if (reasons[code]) return reasons[code]();
  return calibration?.label_reasons?.[code] || `No label (${code || "no reason given"}).`;
}

/** Where the delta falls among the BRCA1 benchmark's deltas, or why that cannot be said. */
export function contextSentences(result, calibration, window = result.window_length) {
  const c = result.context;
  if (c) {
    const n = (c.n_lof || 0) + (c.n_func || 0);
    return [
      `${c.percentile.toFixed(1)}% of the ${grouped(n)} BRCA1 variants of the benchmark scored at or below this ` +
        `delta: ${percent(c.lof_fraction)} of the ${grouped(c.n_lof)} that broke BRCA1 in the experiment, ` +
        `${percent(c.func_fraction)} of the ${grouped(c.n_func)} that did not.`,
      "Relative to BRCA1 SGE variants under this model (Findlay et al. 2018), not a clinical probability.",
    ];
  }
  const wanted = otherOptions(result, calibration, window);
  const reasons = {
    no_distribution: "The calibration keeps no BRCA1 benchmark deltas for this model to compare with.",
    non_finite_delta: "The delta is not a finite number, so it cannot be compared.",
    options_outside_calibration: `The benchmark's deltas were computed with ${list(wanted) || "other options"}; this delta is on another scale.`,
    window_length_outside_calibration: `The benchmark's deltas were computed on windows of another length than this ${grouped(result.window_length)}-bp one.`,
  };
  const code = result.context_reason;
  return [reasons[code] || calibration?.context_reasons?.[code] || "No comparison with the BRCA1 benchmark."];
}

/** The sequence the windows were read from, in words. */
export function sourceSentence(source) {
  if (!source) return "";
  if (source.name === "ucsc") return `UCSC’s ${source.assembly} assembly: ${source.version}.`;
  if (source.name === "fasta") return `A local FASTA of ${source.assembly} (${source.version}).`;
  return `${source.name}, ${source.assembly} (${source.version}).`;
}

function sequenceLine(name, before, allele, after, cls) {
  return el(
    "div",
    { class: "seq-line" },
    el("span", { class: "seq-name" }, name),
    el(
      "code",
      { class: "seq" },
      before ? `…${before}` : "",
      el("mark", { class: cls }, allele || "–"),
      after ? `${after}…` : "",
    ),
  );
}

function sequences(result) {
  const before = result.context_before || "";
  const after = result.context_after || "";
  return [
    sequenceLine("Reference", before, result.ref, after, "ref"),
    sequenceLine("Alternate", before, result.alt, after, "alt"),
  ];
}

function labelPart(result, calibration, window) {
  if (!result.label) {
    return [el("strong", {}, "No label"), el("p", { class: "why" }, whyNoLabel(result, calibration, window))];
  }
  const extra = [];
  if (typeof result.probability_lof === "number") {
    extra.push(`probability of loss of function ${fixed2(result.probability_lof)}`);
  }
  if (typeof result.confidence === "number") extra.push(`confidence ${fixed2(result.confidence)}`);
  const cut = typeof calibration?.threshold === "number" ? ` below ${signed(calibration.threshold)}` : "";
  return [
    el("strong", { class: `label ${result.label}` }, LABELS[result.label] || result.label),
    extra.length ? ` (${extra.join(", ")})` : "",
    el(
      "p",
      { class: "why" },
      `The BRCA1 calibration calls a delta${cut} likely pathogenic. A research score, not a clinical call.`,
    ),
  ];
}

/** Things to know before reading the card: unknown bases in the windows, the server's warnings. */
function notices(result) {
  const said = (result.warnings || []).map((w) => w.message || String(w));
  if (result.non_acgt_ref || result.non_acgt_alt) {
    said.unshift(`${unknownBases(result)}: the delta says less than it would over known DNA.`);
  }
  if (!said.length) return null;
  return el("ul", { class: "notices", "aria-label": "Warnings" }, said.map((text) => el("li", {}, text)));
}

/** Which transcript placed an HGVS input, in words: " (BRCA1, transcript given)", or for a gene symbol
 * " on NM_007294.4 (BRCA1's MANE Select transcript)". */
function transcriptWords(r) {
  if (!r.transcript) return [];
  if (r.selection === "given") return [` (${[r.gene, "transcript given"].filter(Boolean).join(", ")})`];
  const how = r.selection === "MANE Select" ? `${r.gene ? `${r.gene}'s` : "the gene's"} MANE Select transcript` : r.selection;
  return [" on ", el("code", {}, r.transcript), how ? ` (${how})` : ""];
}

/** What an rsID or HGVS input was resolved to (the result's `resolution`), in plain words; null for a
 * genomic input (it has none). */
export function resolutionParagraph(input, r) {
  if (!r) return null;
  const build = BUILDS[r.genome] || r.genome;
  const said = [el("code", {}, input)];
  if (r.notation === "rsid" && r.alleles > 1) said.push(`, dbSNP's alternate allele ${r.allele} of ${r.alleles},`);
  said.push(...transcriptWords(r), " is ", el("code", {}, r.variant), ` on ${build}.`);
  const normalised = [r.hgvs_c, r.hgvs_g].filter(Boolean);
  if (normalised.length) said.push(" Normalised: ", ...normalised.flatMap((h, i) => [i ? ", " : "", el("code", {}, h)]), ".");
  if (r.record_source) said.push(` Record from ${r.record_source}.`);
  return el("p", { class: "resolved" }, ...said);
}

function row(term, ...details) {
  return [el("dt", {}, term), el("dd", {}, ...details)];
}

/** The card for one result; `info` is /info's answer (model, calibration); `window` the requested one;
 * `id` its heading's (unique on the page). */
export function resultCard(result, info, window, id = "result-title") {
  const calibration = info?.calibration;
  const model = info?.model || {};
  const deltaClass = result.delta_score < 0 ? "neg" : result.delta_score > 0 ? "pos" : "zero";
  const modelWords = [model.kind, model.note].filter(Boolean).join("; ");
  const context = contextSentences(result, calibration, window);
  return el(
    "article",
    { class: "card", "aria-labelledby": id },
    el("h3", { id, tabindex: "-1" }, `${result.chrom}:${grouped(result.pos)} ${result.ref} → ${result.alt}`),
    el(
      "p",
      { class: "sub" },
      `${result.variant} is ${KINDS[result.kind] || result.kind} on ${BUILDS[result.genome] || result.genome}.`,
    ),
    resolutionParagraph(result.input, result.resolution),
    notices(result),
    el(
      "dl",
      {},
      row("DNA around it", ...sequences(result)),
      row(
        "Window scored",
        el("code", {}, result.region),
        ` (1-based, both ends included): ${grouped(result.window_length)} bp, the variant at base `,
        `${grouped(result.variant_index + 1)}; ${strands(result.reverse_complement)}, “${result.delta_method}” delta.`,
        el("p", { class: "why source" }, `Bases from ${sourceSentence(result.source)}`),
      ),
      row(
        "Delta score",
        el("strong", { class: `delta ${deltaClass}`, "data-value": result.delta_score }, signed(result.delta_score)),
        " change in log-likelihood per base (alternate − reference)",
        el("p", { class: "why" }, deltaSentence(result.delta_score)),
      ),
      row(
        "Compared with BRCA1",
        el("p", { class: "context" }, context[0]),
        context[1] ? el("p", { class: "why" }, context[1]) : null,
      ),
      row("Label", ...labelPart(result, calibration, window)),
      row(
        "Model",
        el("strong", {}, result.model),
        modelWords ? ` (${modelWords})` : "",
        el("p", { class: "why" }, aurocSentence(calibration)),
      ),
    ),
  );
}
