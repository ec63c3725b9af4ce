/** Number formatting for the human tables: plain integers (as /proc prints them), IEC bytes, µs. */

export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toString() : String(n);
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 || Number.isInteger(v) ? `${v} ${units[i]}` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** A rate or ratio: more digits for small values. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** Nanoseconds → microseconds. */
export function us(ns: number): string {
  return num(ns / 1000);
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}
