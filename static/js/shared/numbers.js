// How numbers are shown: short labels, the inspector's longer form, full precision for the
// test hooks, thousands separators. Reading numbers off the wire is wire-numbers.js.

/** Full precision, as the test hooks carry it: the shortest string that reads back the same. */
export const full = (x) => String(x);

/** A short label for a node or an edge: 4 significant digits, "NaN", "∞", "−∞". */
export function short(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '∞';
  if (x === -Infinity) return '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  let s;
  if (a >= 1e5 || a < 1e-3) s = x.toExponential(2).replace('e+', 'e');
  else s = String(Number(x.toPrecision(4)));
  return s.replace('-', '−');
}

/** A longer form for the inspector: up to 10 significant digits. */
export function long(x) {
  if (!Number.isFinite(x)) return short(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  const s = a >= 1e9 || a < 1e-6 ? x.toExponential(8) : String(Number(x.toPrecision(10)));
  return s.replace('-', '−');
}

/** 12345 → "12,345" (not toLocaleString: its first call loads locale data, ~20 ms). */
export function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
