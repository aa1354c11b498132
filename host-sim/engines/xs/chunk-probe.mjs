// The chunk probe: chunk-heap bytes (string and buffer contents) that an operation
// allocates inside a real XS engine, measured through an XsWorker (harness.mjs). Runs
// only XS code through the worker; starts and closes nothing itself.
//
// How it measures, and the facts it relies on (XS sources as @agoric/xsnap 0.15.0 builds
// them, under moddable/xs/sources):
// - Strings and buffer contents live in XS's chunk heap, not in slots, so 0 slots does not
//   mean 0 chunks: a string held in a local takes no slot. No meter shows chunks: xsnap's
//   `allocate` is the space reserved, block by block, not what is in use.
// - Chunks are bump-allocated in the heap's free room; when one does not fit, XS collects
//   (and compacts), then retries (xsMemory.c fxFindChunk). So the room left after gc() can
//   be found by making chunks until a collection runs.
// - Each probe run (XsWorker.probeFits, one `?` delivery) is: gc(), the harness's
//   FinalizationRegistry sentinel, `run` ops, then `coarse` strings of COARSE_LENGTH
//   characters and `fine` strings of FINE_LENGTH, each a fresh chunk (a concatenation)
//   held only in a local. The sentinel tells whether a collection ran, i.e. whether it all
//   fitted. A bisection over `coarse`, then over `fine`, finds the room left after `run`
//   ops to within one fine string (CHUNK_RESOLUTION: 24 bytes with its chunk header).
// - The room after 0 ops less the room after n ops, divided by n, is the chunk bytes per
//   op, XS's 16-byte chunk headers and 8-byte rounding included (chunkFootprint). The op
//   runs n times once first (lazily made state is not per-op cost), and its steady state
//   must repeat: every probe run after n ops runs n more. XS is deterministic, so the same
//   probe run gives the same answer each time.
// - A WeakRef cannot show the collection synchronously: xsnap (built with mxSnapshot) marks
//   WeakRef targets strongly in the collections XS starts itself (xsMemory.c fxMarkValue,
//   XS_WEAK_REF_KIND), and FinalizationRegistry.prototype.cleanupSome is compiled out. The
//   sentinel's callback runs at the end of the delivery, which is why each probe run is
//   one delivery and the search takes some 45 of them.
// - What the measurement found on the device code: in XS a string literal makes a new
//   chunk each time it runs (xsRun.c XS_CODE_STRING: fxNewChunk, then a copy), comparisons
//   such as `typeof x === "number"` and `state === "connected"` included. Moddable's
//   linker points a literal at flash only in modules that are not preloaded (Moddable SDK
//   xs/tools/xslBase.c fxMapCode), so a preloaded board makes the same chunks. A
//   module-level const holding the string makes none: the device's hot paths use those.

/** Characters of a coarse probe string: 32,768 bytes with its terminating NUL. */
const COARSE_LENGTH = 32767;
/** Characters of a fine probe string: 8 bytes with its NUL, XS's chunk granularity. */
const FINE_LENGTH = 7;
/** Most coarse probe strings a probe run makes (4 GiB): past that, no collection is coming. */
const PROBE_MOST = 1 << 17;

/**
 * Bytes a string of `length` one-byte characters takes from XS's chunk heap: its bytes and
 * a NUL, rounded up to a multiple of 8, behind a 16-byte chunk header (xsMemory.c
 * fxAdjustChunkSize, xsAll.h struct sxChunk, on a 64-bit host).
 * @param {number} length
 */
export function chunkFootprint(length) {
  return ((length + 1 + 7) & ~7) + 16;
}

/** How far from exact a chunkBytesPerOp reading can be, in bytes over its whole run. */
export const CHUNK_RESOLUTION = chunkFootprint(FINE_LENGTH);

/**
 * Chunk-heap bytes allocated per execution of `opSource` (see the header comment), exact
 * to within CHUNK_RESOLUTION / iterations. Each probe run after `iterations` ops runs them
 * again: give it a worker of its own, with the code under test imported and nothing else.
 * @param {import("./harness.mjs").XsWorker} worker
 * @param {string} setupSource as XsWorker.slotsPerOp's
 * @param {string} opSource as XsWorker.slotsPerOp's
 * @param {number} iterations
 * @returns {Promise<number>}
 */
export async function chunkBytesPerOp(worker, setupSource, opSource, iterations) {
  await worker.prepareChunkProbe(setupSource, opSource, iterations, COARSE_LENGTH, FINE_LENGTH);
  const coarseSize = chunkFootprint(COARSE_LENGTH);
  const fineSize = chunkFootprint(FINE_LENGTH);
  /**
   * The largest count below `above` for which `fit` holds (it holds for 0, not for `above`).
   * @param {(count: number) => Promise<boolean>} fit @param {number} above
   */
  const largest = async (fit, above) => {
    let low = 0;
    let high = above;
    while (high - low > 1) {
      const middle = (low + high) >> 1;
      if (await fit(middle)) low = middle;
      else high = middle;
    }
    return low;
  };
  /** @param {number} run the chunk room left after `run` ops, less under one fine string */
  const room = async (run) => {
    if (!await worker.probeFits(run, 0, 0)) {
      throw new Error(`chunkBytesPerOp: a collection ran inside ${run} ops; the op allocates too much for ${iterations} iterations: use fewer`);
    }
    let above = 1024;
    while (await worker.probeFits(run, above, 0)) {
      if (above >= PROBE_MOST) throw new Error(`chunkBytesPerOp: ${above} coarse strings fitted without a collection`);
      above *= 2;
    }
    const coarse = await largest((count) => worker.probeFits(run, count, 0), above);
    const fineAbove = Math.ceil(coarseSize / fineSize) + 1;
    if (await worker.probeFits(run, coarse, fineAbove)) {
      throw new Error("chunkBytesPerOp: the fine strings did not find the room the coarse ones left");
    }
    const fine = await largest((count) => worker.probeFits(run, coarse, count), fineAbove);
    return coarse * coarseSize + fine * fineSize;
  };
  const idle = await room(0);
  const ran = await room(iterations);
  return (idle - ran) / iterations;
}
