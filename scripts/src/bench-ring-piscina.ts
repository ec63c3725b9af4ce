/** piscina task for bench-ring: one call per page index, as a per-page dispatch would be. */
export default function pageTask(index: number): number {
  return index;
}
