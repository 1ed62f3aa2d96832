// Batch scoring from the browser: the readable rows go to /variant-delta in requests of at most
// /info's max_variants, one request at a time; a busy server (429, 503 with Retry-After) is waited for.

import { ApiError, call } from "./api.js";
import { resultRecord } from "./formats.js";

const RETRIES = 5;
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
      if (!busy || attempt >= RETRIES) throw error;
      const seconds = error.retryAfter || 2 ** attempt;
      onWait?.(seconds, error);
      await sleep(seconds * 1000, signal);
    }
  }
}

/**
 * Score `rows` (from formats.parseInput) with `options` (genome, window, delta_method,
 * reverse_complement). Calls `onProgress(records, done, total)` after each request; returns the
 * records in input order. A request-level error stops the run: it is thrown with `.records` (the
 * records finished so far) attached.
 */
export async function scoreRows(rows, options, { batchSize, signal, onProgress, onWait }) {
  const records = [];
  const readable = rows.filter((r) => !r.error);
  let done = 0;
  const byKey = new Map();
  for (const r of rows) if (r.error) byKey.set(r.key, resultRecord(r, null));
  for (let start = 0; start < readable.length; start += batchSize) {
    const chunk = readable.slice(start, start + batchSize);
    try {
      const answer = await send({ ...options, variants: chunk.map((r) => r.payload) }, { signal, onWait });
      answer.results.forEach((outcome, i) => byKey.set(chunk[i].key, resultRecord(chunk[i], outcome)));
    } catch (error) {
      error.records = rows.filter((r) => byKey.has(r.key)).map((r) => byKey.get(r.key));
      throw error;
    }
    done += chunk.length;
    onProgress?.(done, readable.length);
  }
  for (const r of rows) records.push(byKey.get(r.key));
  return records;
}
