// The result card of one variant, in words a person without a bioinformatics background can read.
// Everything it says comes from the /variant-delta result and /info's model and calibration.

import { el, fixed2, grouped, signed } from "./dom.js";

const BUILDS = { hg38: "hg38 (GRCh38)", hg19: "hg19 (GRCh37)" };
const KINDS = {
  snv: "a single-base change (SNV)",
  mnv: "a change of several adjacent bases (MNV)",
  insertion: "an insertion",
  deletion: "a deletion",
};
const LABELS = { likely_pathogenic: "Likely pathogenic", likely_benign: "Likely benign" };

function strands(both) {
  return both ? "both strands averaged" : "one strand";
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

/** Why a result has no label: the calibration is missing, too weak, or for other options. */
export function whyUncalibrated(result, calibration, window = result.window_length) {
  const model = result.model;
  if (!calibration || typeof calibration.threshold !== "number") {
    return `There is no calibration for ${model}.`;
  }
  if (!calibration.usable) {
    const measured = calibration.auroc?.overall?.value;
    const min = fixed2(calibration.min_auroc ?? 0.6);
    if (typeof measured === "number") {
      return (
        `${model}'s measured BRCA1 AUROC is ${fixed2(measured)}, and the service gives labels ` +
        `only for a model that reaches ${min} (with a 95% interval above 0.5). A model that cannot tell ` +
        "BRCA1's damaging changes from harmless ones should not label yours."
      );
    }
    return `${model} has no BRCA1 measurement of at least ${min}.`;
  }
  const options = calibration.options || {};
  const wanted = [];
  if (calibration.window && calibration.window !== window) {
    wanted.push(`a ${grouped(calibration.window)}-bp window`);
  }
  if (options.delta_method && options.delta_method !== result.delta_method) {
    wanted.push(`the “${options.delta_method}” delta`);
  }
  if (typeof options.reverse_complement === "boolean" && options.reverse_complement !== result.reverse_complement) {
    wanted.push(strands(options.reverse_complement));
  }
  if (wanted.length) {
    return `The calibration was fitted with ${wanted.join(", ")}; set the options back to get a label.`;
  }
  return "The calibration gives no label for this delta.";
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
  if (result.label === "uncalibrated") {
    return [el("strong", {}, "No label"), el("p", { class: "why" }, whyUncalibrated(result, calibration, window))];
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

function row(term, ...details) {
  return [el("dt", {}, term), el("dd", {}, ...details)];
}

/** The card for one result; `info` is /info's answer (model, calibration); `window` the requested one. */
export function resultCard(result, info, window) {
  const calibration = info?.calibration;
  const model = info?.model || {};
  const deltaClass = result.delta_score < 0 ? "neg" : result.delta_score > 0 ? "pos" : "zero";
  const modelWords = [model.kind, model.note].filter(Boolean).join("; ");
  return el(
    "article",
    { class: "card", "aria-labelledby": "result-title" },
    el("h3", { id: "result-title", tabindex: "-1" }, `${result.chrom}:${grouped(result.pos)} ${result.ref} → ${result.alt}`),
    el(
      "p",
      { class: "sub" },
      `${result.variant} is ${KINDS[result.kind] || result.kind} on ${BUILDS[result.genome] || result.genome}.`,
    ),
    el(
      "dl",
      {},
      row("DNA around it", ...sequences(result)),
      row(
        "Window scored",
        el("code", {}, result.region),
        ` (1-based, both ends included): ${grouped(result.window_length)} bp, the variant at base `,
        `${grouped(result.variant_index + 1)}; ${strands(result.reverse_complement)}, “${result.delta_method}” delta.`,
      ),
      row(
        "Delta score",
        el("strong", { class: `delta ${deltaClass}`, "data-value": result.delta_score }, signed(result.delta_score)),
        " change in log-likelihood per base (alternate − reference)",
        el("p", { class: "why" }, deltaSentence(result.delta_score)),
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
