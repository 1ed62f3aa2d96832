// Small DOM and number helpers. Server text always goes in as text, never as markup.

/** `el("p", {class: "x"}, "text", child)`: an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const MINUS = "\u2212";

/** A signed number with `digits` significant digits and a real minus sign: "−0.000224", "+0.0012". */
export function signed(value, digits = 3) {
  if (value === 0) return "0";
  const text = Math.abs(value).toLocaleString("en-US", { maximumSignificantDigits: digits });
  return (value < 0 ? MINUS : "+") + text;
}

/** A plain number with grouping: 8192 → "8,192". */
export function grouped(value) {
  return Number(value).toLocaleString("en-US");
}

/** A probability or AUROC with two decimals. */
export function fixed2(value) {
  return Number(value).toFixed(2);
}

/** Offer `text` as a download named `name`. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
