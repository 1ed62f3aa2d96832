// The saturation heatmap: four alternate bases (rows) along the positions (columns) of a short region,
// coloured by delta. Red = less likely under the model than the reference, blue = more likely; the
// reference base of each position is marked. Hover, click or arrow keys show a cell's value.

import { el, grouped, signed } from "./dom.js";

const NEUTRAL = [247, 247, 247];
const LESS = [178, 24, 43]; // delta < 0: less likely under the model
const MORE = [33, 102, 172]; // delta > 0: more likely

function mix(from, to, t) {
  const c = from.map((f, i) => Math.round(f + (to[i] - f) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** The cell colour of `value` on a scale symmetric around zero (`scale` = the largest |delta|). */
export function colour(value, scale) {
  const t = scale > 0 ? Math.max(-1, Math.min(1, value / scale)) : 0;
  return t < 0 ? mix(NEUTRAL, LESS, -t) : mix(NEUTRAL, MORE, t);
}

function darkText(value, scale) {
  return scale === 0 || Math.abs(value / scale) < 0.55;
}

function describe(data, i, j) {
  const where = `${data.chrom}:${grouped(data.positions[i])}`;
  const ref = data.ref[i];
  const alt = data.alleles[j];
  const value = data.deltas[i][j];
  if (alt === ref) return { text: `${where}: ${ref} is the reference base (no change).`, variant: null };
  if (value === null) return { text: `${where}: no score (the reference base is ${ref}).`, variant: null };
  const side = value < 0 ? "less" : value > 0 ? "more" : "neither more nor less";
  return {
    text: `${where} ${ref} → ${alt}: delta ${signed(value)}, ${side} likely under the model than the reference.`,
    variant: `${data.chrom}:${data.positions[i]}:${ref}:${alt}`,
  };
}

function headRows(data, centre) {
  const offsets = el("tr", { class: "offsets" }, el("th", { scope: "row" }, "offset"));
  const bases = el("tr", { class: "bases" }, el("th", { scope: "row" }, "reference"));
  data.positions.forEach((pos, i) => {
    const offset = pos - centre;
    const shown = offset === 0 || offset % 5 === 0;
    offsets.append(el("th", { scope: "col", class: offset === 0 ? "here" : null }, shown ? (offset > 0 ? `+${offset}` : `${offset}`) : ""));
    bases.append(el("th", { scope: "col", class: offset === 0 ? "here" : null, title: `${data.chrom}:${grouped(pos)}` }, data.ref[i]));
  });
  return el("thead", {}, offsets, bases);
}

function cell(data, i, j, scale, centre, chosenAlt) {
  const value = data.deltas[i][j];
  const isRef = data.alleles[j] === data.ref[i];
  const td = el("td", {
    role: "gridcell",
    tabindex: "-1",
    "data-i": i,
    "data-j": j,
    "data-value": value === null ? null : value,
    class: [isRef ? "ref" : "", data.positions[i] === centre ? "here" : "", data.positions[i] === centre && data.alleles[j] === chosenAlt ? "chosen" : ""]
      .filter(Boolean)
      .join(" ") || null,
    "aria-label": describe(data, i, j).text,
  });
  if (isRef) td.textContent = data.ref[i];
  else if (value !== null) {
    td.style.backgroundColor = colour(value, scale);
    if (!darkText(value, scale)) td.classList.add("strong");
  }
  return td;
}

function legend(scale) {
  return el(
    "div",
    { class: "legend" },
    el("span", { class: "end" }, `${signed(-scale)} less likely under the model`),
    el("span", { class: "ramp", "aria-hidden": "true" }),
    el("span", { class: "end" }, `${signed(scale)} more likely`),
    el("span", { class: "key-ref" }, el("span", { class: "swatch", "aria-hidden": "true" }), "letter: the reference base (no change)"),
  );
}

function moveFocus(table, td, key) {
  const i = Number(td.dataset.i);
  const j = Number(td.dataset.j);
  const moves = { ArrowLeft: [i - 1, j], ArrowRight: [i + 1, j], ArrowUp: [i, j - 1], ArrowDown: [i, j + 1] };
  const [ni, nj] = key === "Home" ? [0, j] : key === "End" ? [Infinity, j] : moves[key] || [i, j];
  const cells = table.querySelectorAll("td[data-i]");
  const last = Math.max(...[...cells].map((c) => Number(c.dataset.i)));
  const target = table.querySelector(`td[data-i="${Math.max(0, Math.min(last, ni))}"][data-j="${Math.max(0, Math.min(3, nj))}"]`);
  if (target) {
    td.tabIndex = -1;
    target.tabIndex = 0;
    target.focus();
  }
}

/**
 * The heatmap of a /saturation answer. `centre` is the variant's 1-based position, `chosenAlt` its
 * alternate base; `onPick(variant)` is called when a person asks to check one cell's change.
 */
export function heatmap(data, centre, chosenAlt, onPick) {
  const values = data.deltas.flat().filter((v) => v !== null);
  const scale = values.length ? Math.max(...values.map(Math.abs)) : 0;
  const body = el("tbody");
  data.alleles.forEach((alt, j) => {
    const tr = el("tr", {}, el("th", { scope: "row" }, `to ${alt}`));
    data.positions.forEach((_, i) => tr.append(cell(data, i, j, scale, centre, chosenAlt)));
    body.append(tr);
  });
  const table = el(
    "table",
    { class: "heatmap", role: "grid", "aria-label": `Delta of every possible single-base change in ${data.region}` },
    headRows(data, centre),
    body,
  );
  const first = table.querySelector("td.chosen") || table.querySelector("td[data-i]");
  if (first) first.tabIndex = 0;
  const hint = "Point at, click or use the arrow keys on a square to see its value.";
  const text = el("p", { "aria-live": "polite" }, hint);
  // The button sits above the changing text, so pointing at squares on the way never moves it.
  const pick = el("button", { type: "button", class: "secondary", hidden: true }, "Check this change");
  const readout = el("div", { class: "readout" }, pick, text);
  let selected = null;
  let picked = null;
  const words = (td) => describe(data, Number(td.dataset.i), Number(td.dataset.j));
  // Pointing shows a value for as long as the pointer is there; a click or the keyboard selects a
  // square, and the button below checks the selected square's change (not the last one passed over).
  const point = (td) => {
    if (td && td.dataset.i !== undefined) text.textContent = words(td).text;
  };
  const select = (td) => {
    if (!td || td.dataset.i === undefined) return;
    selected?.classList.remove("selected");
    selected = td;
    td.classList.add("selected");
    const { text: said, variant } = words(td);
    text.textContent = said;
    picked = variant;
    pick.hidden = !variant;
    if (variant) pick.textContent = `Check ${variant}`;
  };
  table.addEventListener("mouseover", (e) => point(e.target.closest("td")));
  table.addEventListener("mouseleave", () => {
    text.textContent = selected ? words(selected).text : hint;
  });
  table.addEventListener("click", (e) => select(e.target.closest("td")));
  table.addEventListener("focusin", (e) => select(e.target.closest("td")));
  table.addEventListener("keydown", (e) => {
    const td = e.target.closest("td");
    if (!td) return;
    if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(e.key)) {
      e.preventDefault();
      moveFocus(table, td, e.key);
    } else if (e.key === "Enter" && picked) {
      onPick(picked);
    }
  });
  pick.addEventListener("click", () => picked && onPick(picked));
  const scroller = el("div", { class: "scroll" }, table);
  // Where the region is wider than the screen, start with the variant's column in the middle.
  requestAnimationFrame(() => {
    const here = table.querySelector("thead th.here");
    if (!here) return;
    const box = scroller.getBoundingClientRect();
    const column = here.getBoundingClientRect();
    scroller.scrollLeft += column.left - box.left - (box.width - column.width) / 2;
  });
  return el("div", { class: "saturation" }, legend(scale), scroller, readout);
}
