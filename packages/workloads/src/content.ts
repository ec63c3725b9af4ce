/**
 * Page content sources: what an application writes into a page it maps or rewrites.
 *
 * A source is made once per application thread, `createContentSource(spec, pageSize, seed)`,
 * and then `fill(dst, off, pageSize, page, version)` writes one page at dst[off..off+pageSize).
 * Everything expensive happens at creation: a small pool of template pages is generated from
 * the seed (the same seed gives the same bytes on every thread and every run), and fill()
 * copies the template picked by a hash of (page, version), then stamps the page. fill()
 * allocates nothing and costs about one memcpy of a page (0.2 µs for 4 KiB here; a
 * same-filled page, built by doubling copies, 0.3 µs).
 *
 * The stamp: bytes 0..3 hold `page` and bytes 4..7 hold `version` (little-endian, both taken
 * modulo 2^32), so two different (page, version) pairs never produce the same bytes and a
 * page stored under the wrong index fails verification. Exceptions, which must stay
 * same-filled (every 8-byte word equal, the check zram and zswap run before any codec):
 *
 * - zero pages ('zero', and the `zero` share of 'mix') are all zeros;
 * - same-filled pages ('same-filled', the `same` share of 'mix', and same-filled pages of a
 *   'file') repeat one 8-byte word made from (page, version): low half fmix32(page ^ seed),
 *   high half fmix32(version ^ seed'). Each half is a bijection, so the word, and the page,
 *   is still unique per (page, version).
 *
 * Kinds:
 * - 'zero'         all zeros.
 * - 'same-filled'  a repeated 8-byte word, unique per (page, version).
 * - 'text'         pseudo-English (a Zipf-distributed vocabulary of made-up words and
 *                  recurring phrases): lz4 ratio about 2.3 on 4 KiB pages.
 * - 'random'       incompressible: lz4 ratio about 0.99.
 * - 'mix'          anonymous-memory-like pages: runs of random bytes (pointers, floats)
 *                  between runs of zeros or of one repeated 8-byte word (arrays, padding).
 *                  `ratio` is the aggregate lz4 ratio (bytes in / bytes out, lz4-napi) of
 *                  the pages that reach the codec, i.e. not counting the `same` and `zero`
 *                  shares; templates spread ±30 % around it in compressed size, like real
 *                  pages do. Calibrated at 4, 8, 16, 32 and 64 KiB pages (interpolated
 *                  between), from ratio 1 up to 36 on 4 KiB pages (mixRatioRange());
 *                  a ratio outside the range is clamped to it.
 * - 'file'         raw pages of a file (a memory dump, say), read once at creation and held
 *                  in memory (at most MAX_CONTENT_FILE_BYTES, 2 GiB). Arena
 *                  page p at version v gets file page (p + v) mod n, where n = ⌊size / pageSize⌋
 *                  (a trailing partial page is ignored): a first write of pages 0..n−1
 *                  replays the file in order, each rewrite moves one file page on, and past
 *                  the end of the file it wraps around. Stamped as above; a same-filled file
 *                  page (zero pages included) is served as a unique same-filled page.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type ContentSpec =
  | { kind: 'zero' }
  | { kind: 'same-filled' }
  | { kind: 'text' }
  | { kind: 'random' }
  | { kind: 'mix'; ratio: number; same?: number; zero?: number }
  | { kind: 'file'; path: string };

export interface ContentSource {
  /** Human-readable description, e.g. `mix(ratio=2.3,same=0.1,zero=0.05)`. */
  readonly name: string;
  /** Write the contents of `page` at `version` into dst[off .. off + pageSize). */
  fill(dst: Uint8Array, off: number, pageSize: number, page: number, version: number): void;
}

/** What went wrong, as named values (the message says which file and how to fix it). */
export const ContentErrorCode = {
  FILE_MISSING: 'CONTENT_FILE_MISSING',
  FILE_NOT_REGULAR: 'CONTENT_FILE_NOT_REGULAR',
  FILE_UNREADABLE: 'CONTENT_FILE_UNREADABLE',
  FILE_EMPTY: 'CONTENT_FILE_EMPTY',
  FILE_SHORT: 'CONTENT_FILE_SHORT',
  FILE_TOO_LARGE: 'CONTENT_FILE_TOO_LARGE',
  BAD_SPEC: 'CONTENT_BAD_SPEC',
} as const;
export type ContentErrorCode = (typeof ContentErrorCode)[keyof typeof ContentErrorCode];

export class ContentSourceError extends Error {
  override readonly name = 'ContentSourceError';
  constructor(
    readonly code: ContentErrorCode,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

/** Largest file the 'file' source loads (it is held in memory whole). */
export const MAX_CONTENT_FILE_BYTES = 2 ** 31;

export function createContentSource(spec: ContentSpec, pageSize: number, seed: number): ContentSource {
  if (!Number.isInteger(pageSize) || pageSize < 64 || (pageSize & (pageSize - 1)) !== 0) {
    throw new ContentSourceError(ContentErrorCode.BAD_SPEC, `page size must be a power of two ≥ 64, got ${pageSize}`);
  }
  const s = seed32(seed);
  switch (spec.kind) {
    case 'zero':
      return new ZeroSource(pageSize);
    case 'same-filled':
      return new SameFilledSource(pageSize, s);
    case 'text':
      return new TemplateSource('text', pageSize, s, makeTemplates(pageSize, s, textTemplates));
    case 'random':
      return new TemplateSource('random', pageSize, s, makeTemplates(pageSize, s, randomTemplates));
    case 'mix':
      return createMix(spec, pageSize, s);
    case 'file':
      return new FileSource(spec.path, pageSize, s);
    default:
      throw new ContentSourceError(
        ContentErrorCode.BAD_SPEC,
        `unknown content kind ${JSON.stringify((spec as { kind: unknown }).kind)}: expected zero, same-filled, text, random, mix or file`,
      );
  }
}

// ---------------------------------------------------------------------------------------
// Hashing and the seeded generator (creation time only, except fmix32 and pageHash).

/** murmur3's finalizer: a bijection of 32-bit integers. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function seed32(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(Math.abs(seed) / 4294967296) >>> 0;
  return fmix32(lo ^ fmix32(hi ^ 0x5bd1e995));
}

/** Hash of (page, version) under a seed, uniform over 32 bits. */
function pageHash(page: number, version: number, seed: number): number {
  return fmix32(Math.imul(page, 0x9e3779b1) ^ fmix32((version ^ seed) >>> 0));
}

/** mulberry32: small, fast, good enough for test data. */
class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  u32(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

// ---------------------------------------------------------------------------------------
// Writers shared by the sources (allocation-free).

function stamp(dst: Uint8Array, off: number, page: number, version: number): void {
  dst[off] = page;
  dst[off + 1] = page >>> 8;
  dst[off + 2] = page >>> 16;
  dst[off + 3] = page >>> 24;
  dst[off + 4] = version;
  dst[off + 5] = version >>> 8;
  dst[off + 6] = version >>> 16;
  dst[off + 7] = version >>> 24;
}

/** A same-filled page whose 8-byte word is unique per (page, version). */
function fillSame(dst: Uint8Array, off: number, pageSize: number, page: number, version: number, seed: number): void {
  const lo = fmix32((page ^ seed) >>> 0);
  const hi = fmix32((version ^ Math.imul(seed, 0x9e3779b1)) >>> 0);
  stamp(dst, off, lo, hi);
  // Double the filled prefix until the page is full: log2(pageSize / 8) copies.
  for (let n = 8; n < pageSize; n *= 2) dst.copyWithin(off + n, off, off + n);
}

function checkSize(expected: number, got: number): void {
  if (got !== expected) {
    throw new RangeError(`content source made for ${expected}-byte pages, asked to fill ${got} bytes`);
  }
}

// ---------------------------------------------------------------------------------------
// Sources.

// Zero pages are copied from a zero template: TypedArray fill() on a shared buffer runs
// about 5× slower than set() here.
class ZeroSource implements ContentSource {
  readonly name = 'zero';
  private readonly zeros: Uint8Array;
  constructor(private readonly pageSize: number) {
    this.zeros = new Uint8Array(pageSize);
  }
  fill(dst: Uint8Array, off: number, pageSize: number): void {
    checkSize(this.pageSize, pageSize);
    dst.set(this.zeros, off);
  }
}

class SameFilledSource implements ContentSource {
  readonly name = 'same-filled';
  constructor(
    private readonly pageSize: number,
    private readonly seed: number,
  ) {}
  fill(dst: Uint8Array, off: number, pageSize: number, page: number, version: number): void {
    checkSize(this.pageSize, pageSize);
    fillSame(dst, off, pageSize, page, version, this.seed);
  }
}

/** Copies one of a pool of templates, chosen by hash(page, version), and stamps it. */
class TemplateSource implements ContentSource {
  private readonly mask: number;
  constructor(
    readonly name: string,
    private readonly pageSize: number,
    private readonly seed: number,
    private readonly templates: Uint8Array[],
  ) {
    this.mask = templates.length - 1; // a power of two
  }
  fill(dst: Uint8Array, off: number, pageSize: number, page: number, version: number): void {
    checkSize(this.pageSize, pageSize);
    dst.set(this.templates[pageHash(page, version, this.seed) & this.mask], off);
    stamp(dst, off, page, version);
  }
}

/** 'mix': a share of zero pages, a share of same-filled pages, the rest from templates. */
class MixSource implements ContentSource {
  private readonly mask: number;
  /** Thresholds on a 32-bit hash: below zeroCut → zero page, below sameCut → same-filled. */
  private readonly zeroCut: number;
  private readonly sameCut: number;
  private readonly zeros: Uint8Array;
  constructor(
    readonly name: string,
    private readonly pageSize: number,
    private readonly seed: number,
    private readonly templates: Uint8Array[],
    zero: number,
    same: number,
  ) {
    this.mask = templates.length - 1;
    this.zeros = new Uint8Array(pageSize);
    this.zeroCut = zero * 4294967296;
    this.sameCut = (zero + same) * 4294967296;
  }
  fill(dst: Uint8Array, off: number, pageSize: number, page: number, version: number): void {
    checkSize(this.pageSize, pageSize);
    const h = pageHash(page, version, this.seed);
    const u = fmix32(h ^ 0x2545f491); // independent of the template choice below
    if (u < this.zeroCut) {
      dst.set(this.zeros, off);
    } else if (u < this.sameCut) {
      fillSame(dst, off, pageSize, page, version, this.seed);
    } else {
      dst.set(this.templates[h & this.mask], off);
      stamp(dst, off, page, version);
    }
  }
}

class FileSource implements ContentSource {
  readonly name: string;
  /** One view per file page, made once (fill() must not make a subarray per call). */
  private readonly views: Uint8Array[] = [];
  /** 1 where the file page is same-filled (served as a unique same-filled page). */
  private readonly same: Uint8Array;

  constructor(
    path: string,
    private readonly pageSize: number,
    private readonly seed: number,
  ) {
    this.name = `file:${path}`;
    const data = readPages(path, pageSize);
    const pages = data.length / pageSize;
    this.same = new Uint8Array(pages);
    const words = new Int32Array(data.buffer, 0, data.length >> 2);
    for (let p = 0; p < pages; p++) {
      this.views.push(data.subarray(p * pageSize, (p + 1) * pageSize));
      this.same[p] = isSameFilled(words, (p * pageSize) >> 2, pageSize >> 2) ? 1 : 0;
    }
  }

  fill(dst: Uint8Array, off: number, pageSize: number, page: number, version: number): void {
    checkSize(this.pageSize, pageSize);
    const fp = (page + version) % this.views.length;
    if (this.same[fp] === 1) {
      fillSame(dst, off, pageSize, page, version, this.seed);
      return;
    }
    dst.set(this.views[fp], off);
    stamp(dst, off, page, version);
  }
}

function isSameFilled(words: Int32Array, w0: number, n: number): boolean {
  const a = words[w0];
  const b = words[w0 + 1];
  for (let i = 2; i < n; i += 2) if (words[w0 + i] !== a || words[w0 + i + 1] !== b) return false;
  return true;
}

function readPages(path: string, pageSize: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ContentSourceError(
        ContentErrorCode.FILE_MISSING,
        `content file not found: ${path} (point content.path at an existing file, such as a memory dump, or choose another content kind)`,
        path,
      );
    }
    throw new ContentSourceError(
      ContentErrorCode.FILE_UNREADABLE,
      `cannot open content file ${path}: ${(e as Error).message} (check the path and its permissions)`,
      path,
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new ContentSourceError(
        ContentErrorCode.FILE_NOT_REGULAR,
        `content file ${path} is not a regular file (point content.path at a file, not a directory or device)`,
        path,
      );
    }
    if (st.size === 0) {
      throw new ContentSourceError(
        ContentErrorCode.FILE_EMPTY,
        `content file ${path} is empty (it must hold at least one page of ${pageSize} bytes)`,
        path,
      );
    }
    if (st.size < pageSize) {
      throw new ContentSourceError(
        ContentErrorCode.FILE_SHORT,
        `content file ${path} is ${st.size} bytes, shorter than one page of ${pageSize} bytes (use a file of at least ${pageSize} bytes or a smaller page size)`,
        path,
      );
    }
    if (st.size > MAX_CONTENT_FILE_BYTES) {
      throw new ContentSourceError(
        ContentErrorCode.FILE_TOO_LARGE,
        `content file ${path} is ${st.size} bytes, more than the ${MAX_CONTENT_FILE_BYTES} bytes the file source holds in memory (cut a smaller sample, e.g. with dd)`,
        path,
      );
    }
    const bytes = Math.floor(st.size / pageSize) * pageSize;
    const data = new Uint8Array(bytes);
    let done = 0;
    while (done < bytes) {
      const n = readSync(fd, data, done, bytes - done, done);
      if (n === 0) {
        throw new ContentSourceError(
          ContentErrorCode.FILE_UNREADABLE,
          `content file ${path} shrank while it was read (${done} of ${bytes} bytes): use a file nothing else is writing`,
          path,
        );
      }
      done += n;
    }
    return data;
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------
// Templates.

/** Pool size: 64 templates, fewer for big pages (at most 1 MiB of templates, at least 8). */
function poolSize(pageSize: number): number {
  let k = 64;
  while (k > 8 && k * pageSize > 1 << 20) k >>= 1;
  return k;
}

/** `setup` gets the pool's generator once and returns the maker of template i of k. */
function makeTemplates(
  pageSize: number,
  seed: number,
  setup: (rng: Rng) => (t: Uint8Array, i: number, k: number) => void,
): Uint8Array[] {
  const k = poolSize(pageSize);
  const rng = new Rng(seed ^ 0x1b873593);
  const make = setup(rng);
  const out: Uint8Array[] = [];
  for (let i = 0; i < k; i++) {
    const t = new Uint8Array(pageSize);
    make(t, i, k);
    out.push(t);
  }
  return out;
}

function randomBytes(t: Uint8Array, from: number, to: number, rng: Rng): void {
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const x = rng.u32();
    t[i] = x;
    t[i + 1] = x >>> 8;
    t[i + 2] = x >>> 16;
    t[i + 3] = x >>> 24;
  }
  for (; i < to; i++) t[i] = rng.u32();
}

function randomTemplates(rng: Rng): (t: Uint8Array) => void {
  return (t) => randomBytes(t, 0, t.length, rng);
}

// Text: a vocabulary of made-up words drawn with Zipf weights (rank r has weight 1/r),
// and half of the time one of 64 recurring phrases, so that lz4 finds repeats the way it
// does in English (matches of whole words and phrases, not only of letters).
const ONSETS = ['', 'b', 'c', 'd', 'f', 'g', 'h', 'l', 'm', 'n', 'p', 'r', 's', 't', 'w', 'th', 'st', 'ch', 'br', 'pr', 'tr', 'sh'];
const NUCLEI = ['a', 'e', 'i', 'o', 'u', 'ea', 'ou', 'ai', 'io'];
const CODAS = ['', '', 'n', 'r', 's', 't', 'l', 'nd', 'st', 'ng', 'rt', 'm'];
const COMMON = ['the', 'of', 'and', 'to', 'a', 'in', 'is', 'that', 'for', 'it', 'as', 'with', 'was', 'on', 'be', 'by', 'are', 'this', 'at', 'from'];
const VOCABULARY = 500;
const PHRASES = 64;
const PHRASE_SHARE = 0.6;

class Zipf {
  private readonly cum: Float64Array;
  constructor(n: number) {
    this.cum = new Float64Array(n);
    let t = 0;
    for (let i = 0; i < n; i++) this.cum[i] = t += 1 / (i + 1);
  }
  pick(rng: Rng): number {
    const x = rng.next() * this.cum[this.cum.length - 1];
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.cum[m] < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  }
}

/** The language is made once per pool, from the pool's own generator. */
function textTemplates(rng: Rng): (t: Uint8Array) => void {
  const lang = makeLanguage(rng);
  return (t) => textPage(t, rng, lang);
}

function textPage(t: Uint8Array, rng: Rng, lang: Language): void {
  const { vocab, phrases, words, phraseZipf } = lang;
  let pos = 0;
  const put = (s: string): void => {
    for (let j = 0; j < s.length && pos < t.length; j++) t[pos++] = s.charCodeAt(j);
  };
  while (pos < t.length) {
    const n = 4 + rng.int(14);
    for (let w = 0; w < n; w++) {
      let s = rng.next() < PHRASE_SHARE ? phrases[phraseZipf.pick(rng)] : vocab[words.pick(rng)];
      if (w === 0) s = s[0].toUpperCase() + s.slice(1);
      put(s);
      if (w < n - 1) put(rng.next() < 0.08 ? ', ' : ' ');
    }
    put(rng.next() < 0.1 ? '?' : '.');
    put(rng.next() < 0.15 ? '\n\n' : ' ');
  }
}

interface Language {
  vocab: string[];
  phrases: string[];
  words: Zipf;
  phraseZipf: Zipf;
}
function makeLanguage(rng: Rng): Language {
  const vocab = [...COMMON];
  while (vocab.length < VOCABULARY) {
    const syllables = 1 + Math.floor(rng.next() * rng.next() * 3);
    let w = '';
    for (let j = 0; j < syllables; j++) {
      w += ONSETS[rng.int(ONSETS.length)] + NUCLEI[rng.int(NUCLEI.length)] + CODAS[rng.int(CODAS.length)];
    }
    vocab.push(w);
  }
  const words = new Zipf(VOCABULARY);
  const phrases: string[] = [];
  for (let p = 0; p < PHRASES; p++) {
    const n = 2 + rng.int(4);
    const ws: string[] = [];
    for (let j = 0; j < n; j++) ws.push(vocab[words.pick(rng)]);
    phrases.push(ws.join(' '));
  }
  return { vocab, phrases, words, phraseZipf: new Zipf(PHRASES) };
}

// Mix: runs of random bytes (mean RANDOM_RUN, uniform in [½, 1½]× the mean) alternate with
// fill runs (mean b, same spread) of zeros or of one repeated random 8-byte word, half each.
// lz4 stores a random run as literals and a fill run as one match, so the ratio grows about
// linearly with b: ratio ≈ (48 + b) / (48 + c), c ≈ 10 bytes of overhead per run pair.
// MIX_CURVES holds, per page size, the measured aggregate ratio at each b (lz4-napi 2.10.0
// compressSync; re-measure with the 'mix calibration' test in content.test.ts, which prints
// the table). A target ratio becomes b by linear interpolation along a curve, and between
// the curves of the calibrated page sizes around the page size (on a log2 scale).
const RANDOM_RUN = 48;
type Curve = readonly (readonly [b: number, ratio: number])[];
/** @internal Exported for the calibration test only. */
export const MIX_CURVES: readonly (readonly [pageSize: number, curve: Curve])[] = [
  // @calibration-begin
  [4096, [[0, 0.995], [8, 1.017], [12, 1.059], [16, 1.117], [24, 1.245], [32, 1.373], [48, 1.633], [64, 1.897], [96, 2.424], [128, 2.945], [192, 3.971], [256, 4.949], [384, 6.829], [512, 8.599], [768, 11.946], [1024, 14.890], [1536, 19.942], [2048, 24.343], [3072, 30.653], [4096, 36.381]]],
  [8192, [[0, 0.995], [8, 1.018], [12, 1.061], [16, 1.119], [24, 1.249], [32, 1.378], [48, 1.641], [64, 1.910], [96, 2.444], [128, 2.976], [192, 4.033], [256, 5.064], [384, 7.080], [512, 9.010], [768, 12.635], [1024, 15.958], [1536, 22.325], [2048, 27.738], [3072, 36.726], [4096, 44.283]]],
  [16384, [[0, 0.996], [8, 1.018], [12, 1.061], [16, 1.119], [24, 1.249], [32, 1.380], [48, 1.644], [64, 1.914], [96, 2.453], [128, 2.993], [192, 4.063], [256, 5.111], [384, 7.184], [512, 9.185], [768, 13.029], [1024, 16.723], [1536, 23.367], [2048, 29.487], [3072, 40.574], [4096, 49.972]]],
  [32768, [[0, 0.996], [8, 1.019], [12, 1.062], [16, 1.120], [24, 1.250], [32, 1.381], [48, 1.646], [64, 1.915], [96, 2.459], [128, 3.005], [192, 4.086], [256, 5.138], [384, 7.233], [512, 9.240], [768, 13.218], [1024, 17.010], [1536, 24.073], [2048, 30.689], [3072, 42.182], [4096, 52.542]]],
  [65536, [[0, 0.996], [8, 1.020], [12, 1.061], [16, 1.119], [24, 1.250], [32, 1.382], [48, 1.649], [64, 1.921], [96, 2.466], [128, 3.013], [192, 4.102], [256, 5.180], [384, 7.289], [512, 9.335], [768, 13.369], [1024, 17.261], [1536, 24.771], [2048, 31.590], [3072, 44.336], [4096, 55.112]]],
  // @calibration-end
];

/** The calibrated curves around a page size and the weight of the upper one (log2 scale). */
function curvesAround(pageSize: number): [lower: Curve, upper: Curve, t: number] {
  const first = MIX_CURVES[0];
  const last = MIX_CURVES[MIX_CURVES.length - 1];
  if (pageSize <= first[0]) return [first[1], first[1], 0];
  for (let i = 1; i < MIX_CURVES.length; i++) {
    const [p1, c1] = MIX_CURVES[i];
    if (pageSize === p1) return [c1, c1, 0];
    if (pageSize < p1) {
      const [p0, c0] = MIX_CURVES[i - 1];
      return [c0, c1, Math.log2(pageSize / p0) / Math.log2(p1 / p0)];
    }
  }
  return [last[1], last[1], 0];
}

/** The least and most compressible 'mix' the generator makes for a page size. */
export function mixRatioRange(pageSize: number): readonly [min: number, max: number] {
  const [c0, c1] = curvesAround(pageSize);
  return [Math.max(c0[0][1], c1[0][1]), Math.min(c0[c0.length - 1][1], c1[c1.length - 1][1])];
}

/** Fill-run mean b that gives an lz4 ratio of `ratio` on pages of `pageSize`. */
function fillRunFor(pageSize: number, ratio: number): number {
  const [c0, c1, t] = curvesAround(pageSize);
  const b0 = fillRunOn(c0, ratio);
  return t === 0 ? b0 : b0 + t * (fillRunOn(c1, ratio) - b0);
}

/** Linear interpolation of b along one curve (clamped to its ends). */
function fillRunOn(curve: Curve, ratio: number): number {
  if (ratio <= curve[0][1]) return curve[0][0];
  for (let i = 1; i < curve.length; i++) {
    const [b1, r1] = curve[i];
    if (ratio <= r1) {
      const [b0, r0] = curve[i - 1];
      return b0 + ((ratio - r0) / (r1 - r0)) * (b1 - b0);
    }
  }
  return curve[curve.length - 1][0];
}

/**
 * One 'mix' page with fill-run mean `b`, for re-measuring MIX_CURVES (tests only).
 * @internal
 */
export function mixCalibrationPage(pageSize: number, b: number, seed: number): Uint8Array {
  const t = new Uint8Array(pageSize);
  mixTemplate(t, new Rng(seed32(seed)), b);
  return t;
}

function mixTemplate(t: Uint8Array, rng: Rng, b: number): void {
  let pos = 0;
  const P = t.length;
  while (pos < P) {
    const a = Math.min(P - pos, Math.round(RANDOM_RUN * (0.5 + rng.next())));
    randomBytes(t, pos, pos + a, rng);
    pos += a;
    const f = Math.min(P - pos, Math.round(b * (0.5 + rng.next())));
    const zero = rng.next() < 0.5;
    const w0 = zero ? 0 : rng.u32();
    const w1 = zero ? 0 : rng.u32();
    for (let i = 0; i < f; i++) {
      const w = (i & 4) === 0 ? w0 : w1;
      t[pos + i] = w >>> ((i & 3) * 8);
    }
    pos += f;
  }
}

function createMix(spec: Extract<ContentSpec, { kind: 'mix' }>, pageSize: number, seed: number): ContentSource {
  const same = spec.same ?? 0;
  const zero = spec.zero ?? 0;
  const bad = (why: string): never => {
    throw new ContentSourceError(ContentErrorCode.BAD_SPEC, `content mix: ${why}`);
  };
  if (!Number.isFinite(spec.ratio) || spec.ratio < 1) bad(`ratio must be a number ≥ 1, got ${spec.ratio}`);
  if (!(same >= 0 && same <= 1)) bad(`same must be a fraction in [0, 1], got ${same}`);
  if (!(zero >= 0 && zero <= 1)) bad(`zero must be a fraction in [0, 1], got ${zero}`);
  if (same + zero > 1) bad(`same + zero must be at most 1, got ${same} + ${zero}`);
  // Spread the templates' compressed sizes evenly over ±30 % of the target's, so the
  // aggregate (total in / total out) stays on target while single pages vary.
  // Near the ends of the curve the spread narrows, so it stays symmetric.
  const [lo, hi] = mixRatioRange(pageSize);
  const target = pageSize / Math.min(Math.max(spec.ratio, lo), hi);
  const width = Math.max(0, Math.min(0.3, pageSize / lo / target - 1, 1 - pageSize / hi / target));
  const templates = makeTemplates(pageSize, seed, (rng) => (t, i, k) => {
    const size = target * (1 + (k === 1 ? 0 : width * ((2 * i) / (k - 1) - 1)));
    mixTemplate(t, rng, fillRunFor(pageSize, pageSize / size));
  });
  // Template i's share of the spread must not line up with the hash: shuffle the pool.
  const rng = new Rng(seed ^ 0x68e31da4);
  for (let i = templates.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [templates[i], templates[j]] = [templates[j], templates[i]];
  }
  const name = `mix(ratio=${spec.ratio}${same ? `,same=${same}` : ''}${zero ? `,zero=${zero}` : ''})`;
  return new MixSource(name, pageSize, seed, templates, zero, same);
}
