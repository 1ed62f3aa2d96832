// The page: one variant's check and card, its saturation heatmap, batch scoring, the API key.

import { answerView } from "./alleles.js";
import { ApiError, apiKey, call, setApiKey } from "./api.js";
import { batchSize, scoreRows } from "./batch.js";
import { labelWords } from "./card.js";
import { download, el, grouped, signed } from "./dom.js";
import { showError } from "./errors.js";
import { fileText, readVariants } from "./files/read.js";
import { writeTsv } from "./files/rows.js";
import { runInfo, writeVcf } from "./files/vcf.js";
import { heatmap } from "./heatmap.js";

const $ = (id) => document.getElementById(id);
const state = { info: null, retry: null, last: null, batch: null };

// --- status, errors and the key --------------------------------------------------------------------

function askForKey(message, retry) {
  state.retry = retry;
  $("key-message").textContent = message;
  $("key-form").hidden = false;
  $("key-input").focus();
}

/** Run `action`; on a 401 ask for the key, then run `again` (the person's whole action). */
async function withKey(action, errorBox, again) {
  try {
    showError(errorBox, null);
    return await action();
  } catch (error) {
    if (error.name === "AbortError") throw error;
    if (error instanceof ApiError && error.status === 401) {
      const message = apiKey()
        ? `The server refused this key (${error.message}). Enter another one.`
        : `${error.message}. It is kept only in this browser tab.`;
      askForKey(message, again);
    }
    showError(errorBox, error);
    throw error;
  }
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setApiKey($("key-input").value.trim());
  $("key-input").value = "";
  $("key-form").hidden = true;
  const retry = state.retry;
  state.retry = null;
  const reload = state.info ? Promise.resolve() : loadInfo();
  reload.then(() => retry && retry !== loadInfo && retry()).catch(() => {});
});

// --- /info ------------------------------------------------------------------------------------------

function fillWindows(info) {
  const select = $("window-select");
  const { min_window: min, max_window: max } = info.limits;
  const fallback = info.defaults.window;
  const sizes = [];
  for (let w = 128; w <= max; w *= 2) if (w >= min) sizes.push(w);
  if (!sizes.includes(fallback)) sizes.push(fallback);
  sizes.sort((a, b) => a - b);
  select.replaceChildren(
    ...sizes.map((w) => el("option", { value: w, selected: w === fallback }, `${grouped(w)} bp`)),
  );
  const calibrated = info.calibration?.window;
  if (calibrated) $("window-hint").textContent = `DNA scored around the variant. Labels are calibrated at ${grouped(calibrated)} bp.`;
}

async function loadInfo() {
  const info = await withKey(() => call("info"), $("check-error"), loadInfo);
  state.info = info;
  $("genome-select").value = info.defaults.genome;
  document.querySelector(`input[name=delta_method][value="${info.defaults.delta_method}"]`).checked = true;
  $("strands-input").checked = info.defaults.reverse_complement;
  fillWindows(info);
  const badge = $("model-badge");
  badge.textContent = `model: ${info.model.name}`;
  badge.hidden = false;
  $("version").textContent = `Service ${info.version}.`;
  const widest = Math.floor((info.limits.max_saturation_bp - 1) / 2);
  for (const option of $("saturation-width").options) option.disabled = Number(option.value) > widest;
  if (info.auth.api_key_required && !apiKey()) {
    askForKey("This server needs an API key. It is kept only in this browser tab.", null);
  }
  return info;
}

function options() {
  return {
    genome: $("genome-select").value,
    window: Number($("window-select").value) || null,
    delta_method: document.querySelector("input[name=delta_method]:checked").value,
    reverse_complement: $("strands-input").checked,
  };
}

// --- one variant --------------------------------------------------------------------------------------

/** Disable `button` and say `text` while a request runs. */
function busy(button, status, text) {
  button.disabled = true;
  status.textContent = text;
  status.closest(".panel").setAttribute("aria-busy", "true");
}

/** The request is over: `button` works again (the status keeps what was said last). */
function idle(button, status) {
  button.disabled = false;
  status.closest(".panel").setAttribute("aria-busy", "false");
}

/** The saturation panel, reset, around the first of `scored` (a select offers the others). */
function offerSaturation(scored, body) {
  state.last = { scored, body };
  const select = $("saturation-allele");
  select.replaceChildren(
    ...scored.map((r, i) => el("option", { value: i }, `${r.variant}${r.resolution?.alleles > 1 ? ` (allele ${r.resolution.allele})` : ""}`)),
  );
  $("saturation-allele-box").hidden = scored.length < 2;
  $("saturation").replaceChildren();
  showError($("saturation-error"), null);
  $("saturation-status").textContent = "";
  $("saturation-panel").hidden = !scored.length;
}

function scoredWords(entry, scored) {
  if (!entry.alleles) return `Scored ${entry.variant}: delta ${signed(entry.delta_score)}.`;
  return `Scored ${entry.rsid || entry.input}: ${scored.length} of ${entry.alleles.length} alternate alleles scored.`;
}

async function check() {
  const text = $("variant-input").value.trim();
  $("result").replaceChildren();
  $("saturation-panel").hidden = true;
  if (!text) {
    showError($("check-error"), { type: "invalid_variant", message: "type a variant first, e.g. chr17:43119628:T:G" });
    return;
  }
  const body = { variant: text, ...options() };
  busy($("check-button"), $("check-status"), "Scoring…");
  try {
    const answer = await withKey(() => call("variant-delta", body), $("check-error"), check);
    const [entry] = answer.results;
    const { node, scored } = answerView(entry, state.info, answer.window);
    $("result").replaceChildren(node);
    offerSaturation(scored, body);
    $("check-status").textContent = scoredWords(entry, scored);
  } catch (error) {
    $("check-status").textContent = "";
  } finally {
    idle($("check-button"), $("check-status"));
  }
}

$("check-form").addEventListener("submit", (event) => {
  event.preventDefault();
  check();
});

for (const button of document.querySelectorAll("button.example")) {
  button.addEventListener("click", () => {
    $("variant-input").value = button.dataset.variant;
    $("genome-select").value = button.dataset.genome;
    check();
  });
}

function checkVariant(variant) {
  $("variant-input").value = variant;
  $("variant-input").scrollIntoView({ block: "center" });
  check();
}

// --- saturation ---------------------------------------------------------------------------------------

async function saturation() {
  const { scored, body } = state.last;
  const result = scored[Number($("saturation-allele").value) || 0];
  const half = Number($("saturation-width").value);
  const start = Math.max(1, result.pos - half);
  const region = `${result.chrom}:${start}-${result.pos + half}`;
  const request = { region, genome: body.genome, window: body.window, delta_method: body.delta_method, reverse_complement: body.reverse_complement };
  const cells = (result.pos + half - start + 1) * 3;
  busy($("saturation-button"), $("saturation-status"), `Scoring ${grouped(cells)} changes in ${region}…`);
  try {
    const data = await withKey(() => call("saturation", request), $("saturation-error"), saturation);
    $("saturation").replaceChildren(heatmap(data, result.pos, result.alt.length === 1 ? result.alt : null, checkVariant));
    $("saturation-status").textContent = `${data.region}: ${grouped(data.positions.length)} positions × 3 changes, scored by ${data.model}.`;
  } catch {
    $("saturation-status").textContent = "";
  } finally {
    idle($("saturation-button"), $("saturation-status"));
  }
}

$("saturation-button").addEventListener("click", () => saturation());

// --- batch --------------------------------------------------------------------------------------------

function stem(name) {
  return (name || "variants").replace(/\.(gz|bgz)$/i, "").replace(/\.(vcf|tsv|txt)$/i, "");
}

/** What the preview says of a record's label: the label, or why there is none (the code on hover). */
function labelCell(record) {
  if (record.status !== "ok") return el("td", {});
  const code = record.label || record.label_reason;
  return el("td", { title: code }, labelWords(record.label, record.label_reason));
}

/** The variant cell: what was written, and what an rsID or HGVS was resolved to. */
function variantCell(input, variant) {
  const resolved = variant && variant !== input ? [" → ", el("code", {}, variant)] : [];
  return el("td", {}, input instanceof Node ? input : el("code", {}, input || variant), ...resolved);
}

function resultRow(number, input, r) {
  const ok = r.status === "ok";
  return el(
    "tr",
    { class: ok ? null : "failed" },
    el("td", {}, number),
    variantCell(input, r.variant),
    el("td", { class: "num" }, ok ? signed(r.delta_score) : ""),
    labelCell(r),
    el("td", {}, ok ? r.warnings.join("; ") : `${r.error_type}: ${r.error_message}`),
  );
}

/** Rows under an rsID's `multiple_alleles` row: each allele the server scored (or its error). */
function alleleRows(record) {
  const n = record.alleles.length;
  return record.alleles.map((a, i) => {
    const shown = a.error
      ? { status: "error", error_type: a.error.type, error_message: a.error.message }
      : { ...a, status: "ok", warnings: (a.warnings || []).map((w) => w.message || String(w)) };
    const row = resultRow(`${record.row}.${i + 1}`, el("span", {}, `allele ${i + 1} of ${n}`), shown);
    row.classList.add("allele");
    return row;
  });
}

function previewTable(records) {
  const shown = records.slice(0, 100);
  const rows = shown.flatMap((r) => [resultRow(r.row, r.input, r), ...(r.alleles ? alleleRows(r) : [])]);
  const caption = records.length > shown.length
    ? `The first ${shown.length} of ${grouped(records.length)} rows; the download has them all.`
    : `${grouped(records.length)} rows.`;
  const alleles = shown.some((r) => r.alleles)
    ? " An rsID with several alternate alleles in dbSNP is one row of the download (multiple_alleles, as the " +
      "CLI writes it); each of its alleles is scored, and shown under it here."
    : "";
  return el(
    "div",
    { class: "scroll" },
    el(
      "table",
      { class: "results" },
      el("caption", {}, caption + alleles),
      el("thead", {}, el("tr", {}, ...["row", "variant", "delta", "label", "note or error"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows),
    ),
  );
}

function finishBatch(records, parsed, name, asked) {
  state.batch = { records, parsed, name, run: runInfo(state.info || {}, asked) };
  const failed = records.filter((r) => r.status !== "ok").length;
  $("batch-status").textContent = `Done: ${grouped(records.length)} rows, ${grouped(failed)} with an error.`;
  $("batch-downloads").hidden = false;
  $("download-vcf").hidden = parsed.vcf === null;
  $("batch-table").replaceChildren(previewTable(records));
}

/** The rows of the chosen file, else of the text box; an error (shown) when it cannot be read. */
async function readInput() {
  const file = $("batch-file").files[0];
  try {
    const parsed = readVariants(file ? await fileText(file) : $("batch-text").value, file ? file.name : "");
    if (parsed.rows.length) return { parsed, name: file?.name };
    showError($("batch-error"), { type: "no_variants", message: "no variants found: paste one per line or choose a file" });
  } catch (error) {
    showError($("batch-error"), { type: "unreadable_input", message: `${file ? file.name : "the text"}: ${error.message}` });
  }
  return null;
}

async function batch() {
  $("batch-downloads").hidden = true;
  $("batch-table").replaceChildren();
  showError($("batch-error"), null);
  const input = await readInput();
  if (!input) return;
  const { parsed, name } = input;
  const asked = options();
  const controller = new AbortController();
  const progress = $("batch-progress");
  progress.max = Math.max(1, parsed.rows.length);
  progress.value = 0;
  $("batch-progress-box").hidden = false;
  $("batch-stop").hidden = false;
  $("batch-stop").onclick = () => controller.abort();
  busy($("batch-button"), $("batch-status"), `Scoring ${grouped(parsed.rows.length)} rows…`);
  const run = () =>
    scoreRows(parsed.rows, asked, {
      batchSize: batchSize(state.info, asked),
      signal: controller.signal,
      onProgress: (done, total) => {
        progress.value = done;
        $("batch-status").textContent = `Scored ${grouped(done)} of ${grouped(total)} rows…`;
      },
      onWait: (seconds, error) => {
        $("batch-status").textContent = `${error.message} — waiting ${seconds} s before trying again…`;
      },
    });
  try {
    finishBatch(await withKey(run, $("batch-error"), batch), parsed, name, asked);
  } catch (error) {
    const records = error.records || [];
    $("batch-status").textContent = error.name === "AbortError" ? "Stopped." : "";
    if (records.length) finishBatch(records, parsed, name, asked);
    if (records.length) $("batch-status").textContent = `Stopped after ${grouped(records.length)} of ${grouped(parsed.rows.length)} rows.`;
  } finally {
    idle($("batch-button"), $("batch-status"));
    $("batch-stop").hidden = true;
  }
}

$("batch-form").addEventListener("submit", (event) => {
  event.preventDefault();
  batch();
});

$("batch-file").addEventListener("change", () => {
  const file = $("batch-file").files[0];
  $("file-name").textContent = file ? `${file.name} (${grouped(file.size)} bytes) will be scored instead of the text box.` : "";
  $("file-clear").hidden = !file;
});
$("file-clear").addEventListener("click", () => {
  $("batch-file").value = "";
  $("batch-file").dispatchEvent(new Event("change"));
  $("batch-text").focus();
});

const drop = $("drop-zone");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  if (event.dataTransfer.files.length) {
    $("batch-file").files = event.dataTransfer.files;
    $("batch-file").dispatchEvent(new Event("change"));
  }
});

$("download-tsv").addEventListener("click", () => {
  const { records, name } = state.batch;
  download(`${stem(name)}.evo2.tsv`, writeTsv(records), "text/tab-separated-values");
});
$("download-vcf").addEventListener("click", () => {
  const { records, parsed, name, run } = state.batch;
  download(`${stem(name)}.evo2.vcf`, writeVcf(parsed.vcf, records, run), "text/plain");
});

loadInfo().catch(() => {});
