// One /variant-delta entry as the page shows it: a result's card, or for an rsID with several alternate
// alleles in dbSNP (an entry with `alleles`) a sentence saying so and one card per allele, an allele
// the server could not score showing its error.

import { resultCard } from "./card.js";
import { el } from "./dom.js";
import { showError } from "./errors.js";

/** The sentence above an rsID's alleles. */
export function allelesSentence(entry) {
  const n = entry.alleles.length;
  return `${entry.rsid || entry.input} has ${n} alternate alleles in dbSNP; each is scored.`;
}

function failedAllele(entry, outcome, i) {
  const box = el("div", { class: "error allele-error" });
  showError(box, outcome.error);
  return el(
    "article",
    { class: "card failed", "aria-labelledby": `result-title-${i + 1}` },
    el("h3", { id: `result-title-${i + 1}` }, `Allele ${i + 1} of ${entry.alleles.length}: not scored`),
    box,
  );
}

/** What the result area shows for `entry`, and its scored results (for the heatmap), in order. */
export function answerView(entry, info, window) {
  if (!entry.alleles) return { node: resultCard(entry, info, window), scored: [entry] };
  const cards = entry.alleles.map((outcome, i) =>
    outcome.error ? failedAllele(entry, outcome, i) : resultCard(outcome, info, window, `result-title-${i + 1}`),
  );
  const node = el(
    "div",
    { class: "alleles" },
    el("p", { class: "alleles-said" }, allelesSentence(entry)),
    ...cards,
  );
  return { node, scored: entry.alleles.filter((outcome) => !outcome.error) };
}
