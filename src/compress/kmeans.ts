// Weight sharing: one-dimensional k-means over a layer's non-zero weights, and the choice of each
// weight's code. Everything is deterministic (no random initialisation); arithmetic is float64.
//
// `linear`: Lloyd's algorithm from centroids spread linearly over [min, max], which Han, Mao and
// Dally (Deep Compression, ICLR 2016, section 3.1) found best *with retraining*: it keeps
// centroids on the rare large weights. Without retraining it stops at a poor local optimum when
// the weights are already a few hundred discrete values (the 8-bit .net): Lloyd's moves no
// centroid far from the evenly spaced start, which wastes codes on the sparse tails.
// `optimal`: the global optimum of the same objective (sum of squared differences), by dynamic
// programming over the sorted distinct values (Wang and Song, "Ckmeans.1d.dp", R Journal 2011),
// with their divide-and-conquer on the monotone split points.
// `entropy`: entropy-constrained clustering (Chou, Lookabaugh and Gray, "Entropy-constrained
// vector quantization", IEEE Trans. ASSP 1989), exact in one dimension by the same dynamic
// programming: it minimises squared error plus lambda times the bits the Huffman-coded codes will
// take, so it spends codes where they buy the most accuracy per byte.

/** Centroids ascending; `codeOf(v)` is the index of the centroid nearest to a clustered value. */
export interface KMeans {
  /** float32 centroids, ascending, no empty cluster, no duplicates. */
  readonly centroids: Float32Array;
  /** Lloyd iterations run (0 for `optimal`, or when there were no more distinct values than k). */
  readonly iterations: number;
  /** The index in `centroids` of a value that was clustered (its nearest centroid). */
  codeOf(value: number): number;
}

export type KMeansMethod = 'linear' | 'optimal' | 'entropy';

/** Above this many distinct values, `optimal` runs on as many equal-width bins, then Lloyd's on the values. */
export const OPTIMAL_MAX_POINTS = 4096;
/** Above this many distinct values, `entropy` runs on as many equal-width bins (its search is quadratic). */
export const ENTROPY_MAX_POINTS = 1024;

/** Sorted distinct values and how often each occurs. */
function distinct(values: ArrayLike<number>): { xs: Float64Array; ws: Float64Array } {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const xs: number[] = [];
  const ws: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`value ${v} is not finite`);
    if (xs.length > 0 && xs[xs.length - 1] === v) ws[ws.length - 1]!++;
    else {
      xs.push(v);
      ws.push(1);
    }
  }
  return { xs: Float64Array.from(xs), ws: Float64Array.from(ws) };
}

/**
 * Clusters `values` into at most `k` centroids, minimising the sum of squared differences
 * (`linear`, `optimal`), or that plus `lambda` times the bits of the coded values (`entropy`; see
 * {@link entropyConstrained}). With `linear` or `optimal`, when there are no more than `k`
 * distinct values, the centroids are those values (lossless).
 */
export function kmeans1d(values: ArrayLike<number>, k: number, method: KMeansMethod = 'linear', lambda = 0, maxIterations = 300): KMeans {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (method === 'entropy') return entropyConstrained(values, lambda, k);
  const { xs, ws } = distinct(values);
  if (xs.length <= k) return finish(Array.from(xs), xs, 0);
  if (method === 'optimal') {
    if (xs.length <= OPTIMAL_MAX_POINTS) return finish(optimal(xs, ws, k), xs, 0);
    const bins = binned(xs, ws, OPTIMAL_MAX_POINTS);
    const start = optimal(bins.xs, bins.ws, k);
    const { centres, iterations } = lloyd(xs, ws, Float64Array.from(start), maxIterations);
    return finish(centres, xs, iterations);
  }
  const c = new Float64Array(k);
  const min = xs[0]!;
  const max = xs[xs.length - 1]!;
  for (let j = 0; j < k; j++) c[j] = min + ((max - min) * j) / (k - 1);
  const { centres, iterations } = lloyd(xs, ws, c, maxIterations);
  return finish(centres, xs, iterations);
}

// Lloyd's iterations from sorted centroids `c`; empty clusters keep their place and are dropped at the end.
function lloyd(xs: Float64Array, ws: Float64Array, c: Float64Array, maxIterations: number): { centres: number[]; iterations: number } {
  const n = xs.length;
  const k = c.length;
  const assign = new Int32Array(n).fill(-1);
  const sum = new Float64Array(k);
  const weight = new Float64Array(k);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    // Centroids stay sorted, so the nearest one never moves left as x grows: one sweep.
    let changed = false;
    let j = 0;
    sum.fill(0);
    weight.fill(0);
    for (let i = 0; i < n; i++) {
      const x = xs[i]!;
      while (j + 1 < k && Math.abs(x - c[j + 1]!) < Math.abs(x - c[j]!)) j++;
      if (assign[i] !== j) {
        assign[i] = j;
        changed = true;
      }
      sum[j]! += x * ws[i]!;
      weight[j]! += ws[i]!;
    }
    if (!changed) break;
    for (let t = 0; t < k; t++) if (weight[t]! > 0) c[t] = sum[t]! / weight[t]!;
  }
  const centres: number[] = [];
  for (let t = 0; t < k; t++) if (weight[t]! > 0) centres.push(c[t]!);
  return { centres, iterations };
}

// Equal-width bins over [min, max], each represented by the mean of its values.
function binned(xs: Float64Array, ws: Float64Array, count: number): { xs: Float64Array; ws: Float64Array } {
  const min = xs[0]!;
  const width = (xs[xs.length - 1]! - min) / count;
  const sum = new Float64Array(count);
  const weight = new Float64Array(count);
  for (let i = 0; i < xs.length; i++) {
    const b = Math.min(count - 1, Math.floor((xs[i]! - min) / width));
    sum[b]! += xs[i]! * ws[i]!;
    weight[b]! += ws[i]!;
  }
  const bx: number[] = [];
  const bw: number[] = [];
  for (let b = 0; b < count; b++) {
    if (weight[b]! === 0) continue;
    bx.push(sum[b]! / weight[b]!);
    bw.push(weight[b]!);
  }
  return { xs: Float64Array.from(bx), ws: Float64Array.from(bw) };
}

/**
 * Weighted prefix sums of sorted values, shifted by their mean so that the sums of squares keep
 * their precision: the squared error of a cluster of values i..j (inclusive) about its mean is
 * `sse(i, j)`, its weight `W[j + 1] - W[i]`, its mean `(S[j + 1] - S[i]) / weight + mean`.
 */
function prefixSums(xs: Float64Array, ws: Float64Array) {
  const n = xs.length;
  let mean = 0;
  let total = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    mean += xs[i]! * ws[i]!;
    total += ws[i]!;
    energy += ws[i]! * xs[i]! * xs[i]!;
  }
  mean /= total;
  const W = new Float64Array(n + 1);
  const S = new Float64Array(n + 1);
  const Q = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const x = xs[i]! - mean;
    W[i + 1] = W[i]! + ws[i]!;
    S[i + 1] = S[i]! + ws[i]! * x;
    Q[i + 1] = Q[i]! + ws[i]! * x * x;
  }
  const sse = (i: number, j: number): number => {
    const s = S[j + 1]! - S[i]!;
    return Math.max(0, Q[j + 1]! - Q[i]! - (s * s) / (W[j + 1]! - W[i]!));
  };
  return { mean, total, energy, W, S, sse };
}

// Exact weighted 1-D k-means: D[m][j] = min over i of D[m-1][i-1] + cost(i..j), the best split
// i non-decreasing in j, so each row is filled by divide and conquer in O(n log n).
function optimal(xs: Float64Array, ws: Float64Array, k: number): number[] {
  const n = xs.length;
  const { mean, W, S, sse: cost } = prefixSums(xs, ws);
  let prev = new Float64Array(n);
  for (let j = 0; j < n; j++) prev[j] = cost(0, j);
  const splits: Int32Array[] = [new Int32Array(n)];
  for (let m = 1; m < k; m++) {
    const cur = new Float64Array(n).fill(Infinity);
    const split = new Int32Array(n);
    const fill = (jlo: number, jhi: number, ilo: number, ihi: number): void => {
      if (jlo > jhi) return;
      const j = (jlo + jhi) >> 1;
      let best = Infinity;
      let bestI = Math.max(ilo, m);
      for (let i = Math.max(ilo, m); i <= Math.min(j, ihi); i++) {
        const c = prev[i - 1]! + cost(i, j);
        if (c < best) {
          best = c;
          bestI = i;
        }
      }
      cur[j] = best;
      split[j] = bestI;
      fill(jlo, j - 1, ilo, bestI);
      fill(j + 1, jhi, bestI, ihi);
    };
    fill(m, n - 1, m, n - 1);
    prev = cur;
    splits.push(split);
  }
  const centres: number[] = [];
  let j = n - 1;
  for (let m = k - 1; m >= 0; m--) {
    const i = m === 0 ? 0 : splits[m]![j]!;
    centres.push((S[j + 1]! - S[i]!) / (W[j + 1]! - W[i]!) + mean);
    j = i - 1;
  }
  return centres.reverse();
}

/**
 * Entropy-constrained clustering: the partition of the sorted values into contiguous clusters
 * (each represented by its mean) that minimises
 *
 *   sum (v - centroid)^2 / mean(v^2)  +  lambda * sum over clusters of n_c log2(N / n_c)
 *
 * i.e. relative squared error plus lambda times the bits of the ideally entropy-coded codes.
 * The codebook's own bytes are left out on purpose: counting them merges the rare large weights
 * of the tails, which costs more accuracy than their squared error says. Exact by dynamic programming over the distinct values (over
 * {@link OPTIMAL_MAX_POINTS} equal-width bins when there are more). When the optimum has more
 * than `k` clusters, lambda is raised by half until it has at most `k`.
 */
export function entropyConstrained(values: ArrayLike<number>, lambda: number, k: number): KMeans {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new RangeError(`lambda must be a finite number >= 0, got ${lambda}`);
  const all = distinct(values);
  if (all.xs.length === 0) return finish([], all.xs, 0);
  const { xs, ws } = all.xs.length <= ENTROPY_MAX_POINTS ? all : binned(all.xs, all.ws, ENTROPY_MAX_POINTS);
  const n = xs.length;
  const { mean, total, energy, W, S, sse } = prefixSums(xs, ws);
  const scale = energy > 0 ? total / energy : 1; // 1 / mean(v^2)
  let l = lambda;
  for (;;) {
    const D = new Float64Array(n + 1);
    const from = new Int32Array(n + 1);
    for (let j = 1; j <= n; j++) {
      let best = Infinity;
      let bestI = 1;
      for (let i = 1; i <= j; i++) {
        const w = W[j]! - W[i - 1]!;
        const c = D[i - 1]! + sse(i - 1, j - 1) * scale + l * w * Math.log2(total / w);
        if (c < best) {
          best = c;
          bestI = i;
        }
      }
      D[j] = best;
      from[j] = bestI;
    }
    const centres: number[] = [];
    for (let j = n; j > 0; j = from[j]! - 1) centres.push((S[j]! - S[from[j]! - 1]!) / (W[j]! - W[from[j]! - 1]!) + mean);
    if (centres.length <= k) return finish(centres.reverse(), all.xs, 0);
    l = l === 0 ? 1e-9 : l * 1.5;
  }
}

// Rounds the centroids to float32 (what the file stores), then gives each distinct value its
// nearest stored centroid, so a code always names the closest value the decoder will produce.
function finish(centres: readonly number[], xs: Float64Array, iterations: number): KMeans {
  const centroids = Float32Array.from(new Set(centres.map(Math.fround))).sort();
  const code = new Map<number, number>();
  let j = 0;
  for (const x of xs) {
    while (j + 1 < centroids.length && Math.abs(x - centroids[j + 1]!) < Math.abs(x - centroids[j]!)) j++;
    code.set(x, j);
  }
  return {
    centroids,
    iterations,
    codeOf(value: number): number {
      const c = code.get(value);
      if (c === undefined) throw new RangeError(`${value} was not among the clustered values`);
      return c;
    },
  };
}

/**
 * Balanced rounding: within each group of weights (a filter), moves some weights from their
 * nearest centroid to the next one, cheapest first (least added squared error per unit of
 * correction), so that the group's rounding errors sum to as near zero as single moves allow.
 * A filter's response to a constant input, and so the mean of its output, is then kept: what a
 * post-ReLU activation map, positive with a large mean, is most sensitive to.
 *
 * `codes[i]` is the index into `centroids` of `values[i]` (nearest, as `codeOf` gives), updated in
 * place; `groups` lists, for each group, the indices of its values.
 */
export function balanceRounding(values: ArrayLike<number>, codes: Int32Array, centroids: Float32Array, groups: readonly (readonly number[])[]): void {
  for (const group of groups) {
    let s = 0;
    for (const i of group) s += values[i]! - centroids[codes[i]!]!;
    if (s === 0) continue;
    const dir = s > 0 ? 1 : -1;
    const moves: { i: number; step: number; score: number }[] = [];
    for (const i of group) {
      const next = codes[i]! + dir;
      if (next < 0 || next >= centroids.length) continue;
      const v = values[i]!;
      const step = Math.abs(centroids[next]! - centroids[codes[i]!]!);
      const added = (v - centroids[next]!) ** 2 - (v - centroids[codes[i]!]!) ** 2;
      moves.push({ i, step, score: added / step });
    }
    moves.sort((a, b) => a.score - b.score || a.i - b.i);
    for (const m of moves) {
      const after = s - dir * m.step;
      if (Math.abs(after) >= Math.abs(s)) continue;
      codes[m.i]! += dir;
      s = after;
    }
  }
}
