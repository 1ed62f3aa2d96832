// An error as the page shows it: a title a person can read, the server's own message, its type.

import { el, grouped } from "./dom.js";

const ERROR_TITLES = {
  ref_mismatch: "The reference base does not match the genome",
  unknown_chromosome: "Unknown chromosome",
  unknown_transcript: "Unknown transcript or gene",
  unknown_rsid: "Unknown rsID",
  region_unavailable: "This region is not available here",
  ambiguous_window: "Too many unknown bases (N) around the variant",
  limit_exceeded: "Beyond this server's limits",
  invalid_variant: "The variant could not be read",
  unauthorized: "An API key is needed",
  rate_limited: "Too many requests",
  overloaded: "The model is busy",
  network_error: "The server could not be reached",
  no_variants: "Nothing to score",
  unreadable_input: "The file could not be read",
};

/** Fill `box` with `error` ({type, message, status?, retryAfter?}), or empty and hide it (null). */
export function showError(box, error) {
  box.replaceChildren();
  if (!error) {
    box.hidden = true;
    return;
  }
  const type = error.type || "error";
  const wait = error.retryAfter ? `Try again in ${grouped(error.retryAfter)} s.` : null;
  box.append(
    el("strong", {}, ERROR_TITLES[type] || "The server refused this request"),
    el("p", {}, error.message),
    wait && el("p", {}, wait),
    el("p", { class: "error-type" }, `${type}${error.status ? ` · HTTP ${error.status}` : ""}`),
  );
  box.hidden = false;
}
