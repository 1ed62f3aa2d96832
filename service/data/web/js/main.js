// The page: one variant's check and card, its saturation heatmap, batch scoring, the API key.

import { ApiError, apiKey, call, setApiKey } from "./api.js";
import { scoreRows } from "./batch.js";
import { resultCard } from "./card.js";
import { download, el, grouped, signed } from "./dom.js";
import { parseInput, writeTsv, writeVcf } from "./formats.js";
import { heatmap } from "./heatmap.js";

const $ = (id) => document.getElementById(id);
const state = { info: null, retry: null, last: null, batch: null };

// --- status, errors and the key --------------------------------------------------------------------

const ERROR_TITLES = {
  ref_mismatch: "The reference base does not match the genome",
  unknown_chromosome: "Unknown chromosome",
  region_unavailable: "This region is not available here",
  invalid_variant: "The variant could not be read",
  unauthorized: "An API key is needed",
  rate_limited: "Too many requests",
  overloaded: "The model is busy",
  network_error: "The server could not be reached",
};

function showError(box, error) {
  box.replaceChildren();
  if (!error) {
    box.hidden = true;
    return;
  }
  const type = error.type || "error";
  box.append(
    el("strong", {}, ERROR_TITLES[type] || "The server refused this request"),
    el("p", {}, error.message),
    el("p", { class: "error-type" }, `${type}${error.status ? ` · HTTP ${error.status}` : ""}`),
  );
  box.hidden = false;
}

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
    const [result] = answer.results;
    state.last = { result, body };
    $("result").replaceChildren(resultCard(result, state.info, answer.window));
    $("saturation").replaceChildren();
    showError($("saturation-error"), null);
    $("saturation-status").textContent = "";
    $("saturation-panel").hidden = false;
    $("check-status").textContent = `Scored ${result.variant}: delta ${signed(result.delta_score)}.`;
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
  const { result, body } = state.last;
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

async function readFile(file) {
  if (!file.name.toLowerCase().endsWith(".gz")) return file.text();
  const stream = file.stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

function stem(name) {
  return (name || "variants").replace(/\.gz$/i, "").replace(/\.(vcf|tsv|txt)$/i, "");
}

function previewTable(records) {
  const shown = records.slice(0, 100);
  const rows = shown.map((r) =>
    el(
      "tr",
      { class: r.error ? "failed" : null },
      el("td", {}, r.row),
      el("td", {}, el("code", {}, r.variant || r.input)),
      el("td", { class: "num" }, r.error ? "" : signed(r.delta_score)),
      el("td", {}, r.error ? "" : r.label),
      el("td", {}, r.error ? `${r.error.type}: ${r.error.message}` : ""),
    ),
  );
  const caption = records.length > shown.length
    ? `The first ${shown.length} of ${grouped(records.length)} rows; the download has them all.`
    : `${grouped(records.length)} rows.`;
  return el(
    "div",
    { class: "scroll" },
    el(
      "table",
      { class: "results" },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, ...["row", "variant", "delta", "label", "error"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows),
    ),
  );
}

function finishBatch(records, parsed, name) {
  state.batch = { records, parsed, name };
  const failed = records.filter((r) => r.error).length;
  $("batch-status").textContent = `Done: ${grouped(records.length)} rows, ${grouped(failed)} with an error.`;
  $("batch-downloads").hidden = false;
  $("download-vcf").hidden = parsed.format !== "vcf";
  $("batch-table").replaceChildren(previewTable(records));
}

async function batch() {
  const file = $("batch-file").files[0];
  const text = file ? await readFile(file) : $("batch-text").value;
  const parsed = parseInput(text, file ? file.name : "");
  $("batch-downloads").hidden = true;
  $("batch-table").replaceChildren();
  if (!parsed.rows.length) {
    showError($("batch-error"), { type: "invalid_request", message: "no variants found: paste one per line or choose a file" });
    return;
  }
  const controller = new AbortController();
  const progress = $("batch-progress");
  const readable = parsed.rows.filter((r) => !r.error).length;
  progress.max = Math.max(1, readable);
  progress.value = 0;
  $("batch-progress-box").hidden = false;
  $("batch-stop").hidden = false;
  $("batch-stop").onclick = () => controller.abort();
  busy($("batch-button"), $("batch-status"), `Scoring ${grouped(readable)} variants…`);
  const run = () =>
    scoreRows(parsed.rows, options(), {
      batchSize: state.info?.limits.max_variants || 100,
      signal: controller.signal,
      onProgress: (done, total) => {
        progress.value = done;
        $("batch-status").textContent = `Scored ${grouped(done)} of ${grouped(total)} variants…`;
      },
      onWait: (seconds, error) => {
        $("batch-status").textContent = `${error.message} — waiting ${seconds} s before trying again…`;
      },
    });
  try {
    finishBatch(await withKey(run, $("batch-error"), batch), parsed, file?.name);
  } catch (error) {
    const records = error.records || [];
    $("batch-status").textContent = error.name === "AbortError" ? "Stopped." : "";
    if (records.length) finishBatch(records, parsed, file?.name);
    if (records.length) $("batch-status").textContent += ` Stopped after ${grouped(records.length)} rows.`;
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
  const { records, parsed, name } = state.batch;
  download(`${stem(name)}.evo2.vcf`, writeVcf(parsed.lines, records), "text/plain");
});

loadInfo().catch(() => {});
