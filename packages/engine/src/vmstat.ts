/**
 * Every counter and latency histogram, declared once, by the names users read in
 * /proc/vmstat, zram's mm_stat/io_stat and zswap's debugfs. Reports read these lists.
 */
/** /proc/vmstat: the reclaim and swap events. */
export const PROC_VMSTAT = [
  'pgscan_kswapd',
  'pgscan_direct',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgsteal_anon',
  'pswpout',
  'pswpin',
  'allocstall',
  'pgmajfault',
  'workingset_refault_anon',
  'pgactivate',
  'pgalloc_normal',
  'pageoutrun',
] as const;

/** zram mm_stat fields kept as counters (gauges: they go down as well as up). */
export const ZRAM_MM_STAT_GAUGES = ['orig_data_size', 'compr_data_size', 'same_pages', 'huge_pages', 'pages_compacted'] as const;

export const VMSTAT = [
  ...PROC_VMSTAT,
  ...ZRAM_MM_STAT_GAUGES,
  // zram io_stat: slots freed because their page was unmapped (swap_slot_free_notify)
  'notify_free',
  // zswap debugfs
  'reject_compress_poor',
  'reject_compress_fail',
  'reject_alloc_fail',
  'written_back_pages',
  // pipeline
  'kcompressd_enqueued',
  'kcompressd_fifo_full',
  'batch_count',
  // zram GC worker
  'gc_slots_queued',
  'gc_bytes_pending',
  'gc_slots_freed',
] as const;
export type VmstatName = (typeof VMSTAT)[number];

/**
 * The counters that go down as well as up: published at once by every thread, never through
 * a compression worker's diff block (CounterSet's gauges), so no reader sees one below 0.
 */
export const VMSTAT_GAUGES: readonly VmstatName[] = [...ZRAM_MM_STAT_GAUGES, 'gc_bytes_pending'];

/** Latency histograms, all in nanoseconds. */
export const LATENCIES = [
  'alloc_stall', // an allocation that had to reclaim directly
  'compress', // one page through the codec
  'compress_batch', // one batch request (batch pipelines)
  'ring_wait', // enqueue to dequeue
  'swapin', // a fault that read the page back (do_swap_page)
  'unmap', // one unmap call
  'writeback_wait', // an application waiting on a page reclaim holds (folio lock)
  'zswap_writeback', // one zswap entry written back to the backing file (decompress + pwrite)
  'gc_free', // one bulk free of queued slots by the GC worker
] as const;
export type LatencyName = (typeof LATENCIES)[number];
