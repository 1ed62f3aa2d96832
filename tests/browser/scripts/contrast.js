// Text whose colour has less than WCAG AA's 4.5:1 contrast with its background (solid backgrounds
// only: text on a gradient is left to the eye). Run by execute_script: returns a list of strings.
function lum(rgb) {
  const c = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
const parse = (s) => (s.match(/[\d.]+/g) || []).map(Number);
function background(node) {
  for (; node; node = node.parentElement) {
    const s = getComputedStyle(node);
    if (s.backgroundImage !== "none") return null;  // a gradient: judged by eye, not here
    const c = parse(s.backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
  }
  return [255, 255, 255];
}
const low = [];
for (const node of document.querySelectorAll("body *")) {
  const own = [...node.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !node.offsetParent || node.closest("[hidden]")) continue;
  const bg = background(node);
  if (!bg) continue;
  const fg = parse(getComputedStyle(node).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  const ratio = (a + 0.05) / (b + 0.05);
  if (ratio < 4.5) low.push(`${node.tagName}.${node.className} "${node.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
}
return low;
