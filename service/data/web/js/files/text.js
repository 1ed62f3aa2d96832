// Python's string and number rules, where clients/files depends on them: what `str.split()` and
// `str.strip()` count as white space, `repr(float)`, slicing by code points. With them the page's rows
// and cells are the CLI's to the byte.

// The characters for which Python's str.isspace() is true (JavaScript's \s differs: it lacks
// \x1c-\x1f and \x85, and has \ufeff).
const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
export const SPACE_CLASS = `[${SPACE}]`;
const RUNS = new RegExp(`${SPACE_CLASS}+`);
const EDGES = new RegExp(`^${SPACE_CLASS}+|${SPACE_CLASS}+$`, "g");

/** `text.split()`: the words between runs of white space. */
export function split(text) {
  return text.split(RUNS).filter(Boolean);
}

/** `text.strip()`. */
export function strip(text) {
  return text.replace(EDGES, "");
}

/** `" ".join(text.split())`: on one line, single spaces. */
export function oneLine(text) {
  return split(text).join(" ");
}

/** `text[:n]`, counted in code points as Python counts. */
export function head(text, n) {
  return Array.from(text).slice(0, n).join("");
}

/** `text.isdigit()` for the ASCII digits VCF and TSV positions are written in. */
export function isDigits(text) {
  return /^[0-9]+$/.test(text);
}

/** The shortest digits that give back `x` (> 0) and the power of ten of the first one. */
function decimal(x) {
  const [mantissa, power = "0"] = String(x).split("e");
  const [whole, fraction = ""] = mantissa.split(".");
  const all = whole + fraction;
  const zeros = all.length - all.replace(/^0+/, "").length;
  return { digits: all.slice(zeros).replace(/0+$/, ""), exp: whole.length - 1 - zeros + Number(power) };
}

/** `repr(x)` of a Python float: 0.1 → "0.1", 5 → "5.0", 1e-5 → "1e-05", 1e16 → "1e+16". */
export function pyFloat(x) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  if (x === 0) return `${sign}0.0`;
  const { digits, exp } = decimal(Math.abs(x));
  if (exp < -4 || exp >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, "0")}.${digits.slice(exp + 1) || "0"}`;
}
