// Batch scoring from the browser, as the CLI scores a file (clients/batch.py score_rows): readable
// rows go to /variant-delta in requests that fit the server's limits, one request at a time, grouped by
// the rows' own genome column; unreadable rows are answered here without being sent; a busy server
// (429 or 503, with Retry-After) is waited for. One record per row (files/rows.js), in input order.

import { ApiError, call } from "./api.js";
import { errorRecord, readErrorRecord, scoredRecord } from "./files/rows.js";

const ATTEMPTS = 8;
const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("stopped", "AbortError"));
    });
  });

async function send(body, { signal, onWait }) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call("variant-delta", body, { signal });
    } catch (error) {
      const busy = error instanceof ApiError && (error.status === 429 || error.status === 503);
      if (!busy || attempt >= ATTEMPTS) throw error;
      const seconds = error.retryAfter || Math.min(60, 2 ** attempt);
      onWait?.(seconds, error);
      await sleep(seconds * 1000, signal);
    }
  }
}

/** Variants per request: /info's max_variants, and no more than the model-token price one request may
 * have (2 windows a variant × window length × strands). */
export function batchSize(info, options) {
  const limits = info?.limits || {};
  const window = options.window || info?.defaults?.window || 8192;
  const perVariant = 2 * window * (options.reverse_complement ? 2 : 1);
  const byTokens = limits.max_request_tokens ? Math.floor(limits.max_request_tokens / perVariant) : Infinity;
  return Math.max(1, Math.min(limits.max_variants || 100, byTokens));
}

/** A row's record from its entry of /variant-delta's answer. An rsID with several alternate alleles is
 * the CLI's `multiple_alleles` error (a file row holds one variant), its alleles kept for the preview. */
function outcomeRecord(row, outcome, genome) {
  if (outcome.alleles) {
    const scored = outcome.alleles.filter((a) => !a.error).map((a) => a.variant);
    const message =
      `${outcome.rsid} has ${outcome.alleles.length} alternate alleles (${scored.join(", ")}): a file row ` +
      "holds one variant, so give each as its own row (chrom pos ref alt)";
    return { ...errorRecord(row, genome, "multiple_alleles", message), alleles: outcome.alleles };
  }
  if (outcome.error) return errorRecord(row, genome, outcome.error.type, outcome.error.message);
  return { ...scoredRecord(row, outcome), resolution: outcome.resolution ?? null };
}

/** Whether `error` refuses a request only because its rsIDs mean more alleles than one request takes. */
function tooManyAlleles(error) {
  return error instanceof ApiError && error.type === "limit_exceeded" && typeof error.detail.variants === "number";
}

/** The records of `group` (rows of one genome column value), in one request; halved while its rsIDs
 * mean more alleles than a request takes (a single such row gets the refusal as its error). */
async function scoreGroup(group, asked, how, records) {
  let answer;
  try {
    answer = await send({ ...asked, variants: group.map((r) => r.payload) }, how);
  } catch (error) {
    if (!tooManyAlleles(error)) throw error;
    if (group.length === 1) {
      records.set(group[0].index, errorRecord(group[0], asked.genome, error.type, error.message));
      return;
    }
    const half = Math.ceil(group.length / 2);
    await scoreGroup(group.slice(0, half), asked, how, records);
    await scoreGroup(group.slice(half), asked, how, records);
    return;
  }
  answer.results.forEach((outcome, i) => records.set(group[i].index, outcomeRecord(group[i], outcome, answer.genome)));
}

/** The records of `rows` (all readable, one request's worth): one request per genome column value. */
async function scoreChunk(rows, options, how) {
  const records = new Map();
  const groups = new Map();
  for (const row of rows) {
    if (!groups.has(row.genome)) groups.set(row.genome, []);
    groups.get(row.genome).push(row);
  }
  for (const [genome, group] of groups) {
    const asked = genome === null ? options : { ...options, genome };
    try {
      await scoreGroup(group, asked, how, records);
    } catch (error) {
      const unknown = error instanceof ApiError && error.type === "unknown_genome";
      if (genome === null || !unknown) throw error;
      for (const r of group) records.set(r.index, errorRecord(r, genome, error.type, error.message));
    }
  }
  return records;
}

/**
 * Score `rows` (files/read.js) with `options` (genome, window, delta_method, reverse_complement), at
 * most `batchSize` variants a request. Calls `onProgress(done, total)` (rows answered) after each
 * request and `onWait(seconds, error)` before waiting for a busy server. Returns one record per row,
 * in input order. A request-level error stops the run: it is thrown with `.records` attached (the
 * records of the rows before the first one not answered, as the CLI's output holds after a stop).
 */
export async function scoreRows(rows, options, { batchSize, signal, onProgress, onWait }) {
  const records = new Map();
  for (const row of rows) if (row.payload === null) records.set(row.index, readErrorRecord(row, options.genome));
  const readable = rows.filter((r) => r.payload !== null);
  // The records of the rows up to the first one not answered yet (the CLI's output after a stop).
  const answered = () => {
    const done = [];
    for (const r of rows) {
      if (!records.has(r.index)) break;
      done.push(records.get(r.index));
    }
    return done;
  };
  onProgress?.(records.size, rows.length);
  for (let start = 0; start < readable.length; start += batchSize) {
    try {
      const chunk = await scoreChunk(readable.slice(start, start + batchSize), options, { signal, onWait });
      for (const [index, record] of chunk) records.set(index, record);
    } catch (error) {
      error.records = answered();
      throw error;
    }
    onProgress?.(records.size, rows.length);
  }
  return answered();
}
