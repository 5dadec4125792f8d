// What travels on the wire and how numbers are shown: the protocol sends non-finite numbers as
// the strings "NaN", "Infinity" and "-Infinity"; everything else is a JSON number.

const NON_FINITE = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** One wire number (a JSON number or one of the three strings) as a JS number. */
export function num(x) {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && x in NON_FINITE) return NON_FINITE[x];
  return Number(x);
}

/** An array of wire numbers as a Float64Array. */
export function nums(array) {
  const out = new Float64Array(array.length);
  for (let i = 0; i < array.length; i++) out[i] = num(array[i]);
  return out;
}

/**
 * A trace's bulk array as a typed array: binary attachments (ArrayBuffer, little-endian, the
 * protocol's `values`, `grads`, `edges.*`), or a JSON array of wire numbers.
 */
export function f64(x) {
  if (x instanceof ArrayBuffer) return new Float64Array(x);
  if (ArrayBuffer.isView(x)) return new Float64Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  return nums(x || []);
}

export function i32(x) {
  if (x instanceof ArrayBuffer) return new Int32Array(x);
  if (ArrayBuffer.isView(x)) return new Int32Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  return Int32Array.from(x || []);
}

/** A number for the wire: finite numbers as they are, the others as their strings. */
export function toWire(x) {
  return Number.isFinite(x) ? x : String(x);
}

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
