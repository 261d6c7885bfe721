// The fuzz harness for weight-file loaders (issue 8): bad bytes never crash, hang or lie.
//
// Give it a loader and a valid input; it feeds the loader the empty input, truncations (every
// length, or every length of the head plus a seeded sample), random bit flips, random byte
// writes, counts that lie (zero, one, huge, the file length, off by one: in each binary count,
// size or offset field you name), splices (bytes deleted or inserted), random bytes, and the valid
// head followed by random bytes. Each case must end in
//   - a decoded result, which `check` accepts (shapes, finiteness: "valid decoded weights"), or
//   - the expected typed error: by default a FormatError whose offset is a byte of the input
//     (0..length), whose message says `at byte <offset>`, and whose format is `format`;
// never a RangeError from a typed array, a TypeError, a wasm trap, a case slower than
// `maxCaseMs` (a hang, or an allocation sized by a count nobody checked), or the process growing
// 1 GiB past where it started. A truncated file must not decode (`prefixesFail`, default true:
// a file that ends early is never whole).
//
// Adding a format is one line (plus its imports) in a file test/fuzz.<format>.test.ts:
//
//   fuzzLoader({ name: 'safetensors', format: 'safetensors', load: readSafetensors, valid: () => validFile() });
//
// and, for binary count fields, `counts: [{ offset: 0, size: 8 }]` (uint64 LE header length).
// Counts: 10,000 fast-check cases per target by default (`runs`), plus the truncations. Seeds:
// FC_SEED (default 20160224), printed with every failure; fast-check shrinks a failing case to a
// small list of (position, value) edits that reproduce it.
//
// A synchronous infinite loop cannot be interrupted from inside the thread that runs it: a hang
// shows as the test never finishing (vitest's timeout then names it); a slow case is caught here.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../src/index.js';

/** The fast-check seed of every fuzz property: `FC_SEED=<n> npx vitest run test/fuzz.*` to change it. */
export const FUZZ_SEED: number = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20160224;
if (!Number.isSafeInteger(FUZZ_SEED)) throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);

/** A binary field holding a count, a size or an offset: where the harness writes lies. */
export interface CountField {
  readonly offset: number;
  /** Bytes: 4 (uint32, the default) or 8 (uint64). */
  readonly size?: 4 | 8;
  /** Default true. */
  readonly littleEndian?: boolean;
}

/** Truncations beyond the exhaustive: see {@link FuzzTarget.truncations}. */
export interface Truncations {
  readonly head: number;
  readonly sample: number;
  readonly boundaries?: (valid: Uint8Array) => readonly number[];
}

export interface FuzzTarget<T> {
  /** Shown in test names: `Deep Compression .net (the released file)`. */
  readonly name: string;
  /** The loader under test: bytes in, decoded weights (or a model) out. May return a promise. */
  readonly load: (bytes: Uint8Array) => T | Promise<T>;
  /** A valid input, or a function making one (called once, before the cases). */
  readonly valid: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
  /** The `format` a FormatError must carry (default: any). */
  readonly format?: string;
  /** Throws when a decoded result is not valid (wrong names, shapes, non-finite values). */
  readonly check?: (result: T, bytes: Uint8Array) => void;
  /**
   * Says what is wrong with an error, or undefined when it is the typed error expected
   * (default: a FormatError inside the input, see the header).
   */
  readonly rejects?: (error: unknown, bytes: Uint8Array) => string | undefined;
  /** The binary count / size / offset fields of the valid input (or a function of it). */
  readonly counts?: readonly CountField[] | ((valid: Uint8Array) => readonly CountField[]);
  /** fast-check cases over all mutation kinds (default 10,000). */
  readonly runs?: number;
  /**
   * Which truncations: `'all'` lengths 0..length-1, or every length below `head`, every length
   * within 32 bytes of each of `boundaries(valid)` (where sections start and end), the last 64,
   * and `sample` seeded lengths elsewhere (default: all up to 64 KiB, else head 4096, sample 2000).
   * FUZZ_TRUNCATIONS=all in the environment makes every target try every length.
   */
  readonly truncations?: 'all' | Truncations;
  /** Whether every strict prefix must be rejected (default true). */
  readonly prefixesFail?: boolean;
  /** The slowest a case may be (default: 1 s, or 50x the valid input's load if that is more). */
  readonly maxCaseMs?: number;
  /** Where mutations concentrate besides anywhere: the first `hotBytes` bytes (default 1024). */
  readonly hotBytes?: number;
  /**
   * Applied to each mutated input before the loader sees it: recompute checksums (a PNG chunk's
   * CRC, say) so the damage reaches the code behind them instead of stopping at the check.
   */
  readonly repair?: (bytes: Uint8Array) => Uint8Array;
}

/** Why an error is not a well-formed FormatError for these bytes (undefined: it is). */
export function formatErrorProblem(e: unknown, bytes: Uint8Array, format?: string): string | undefined {
  if (!(e instanceof FormatError)) {
    const err = e as Error;
    return `expected a FormatError, got ${err?.name ?? typeof e}: ${err?.message ?? String(e)}`;
  }
  if (!Number.isSafeInteger(e.offset) || e.offset < 0 || e.offset > bytes.length) {
    return `FormatError offset ${e.offset} is not a byte of the ${bytes.length}-byte input: ${e.message}`;
  }
  if (format !== undefined && e.format !== format) return `FormatError format is ${JSON.stringify(e.format)}, not ${JSON.stringify(format)}`;
  if (!e.message.includes(`at byte ${e.offset}`)) return `FormatError message does not say its offset: ${e.message}`;
  if (/[\n\r]/.test(e.message)) return `FormatError message is more than one line: ${JSON.stringify(e.message)}`;
  return undefined;
}

interface Tally {
  cases: number;
  decoded: number;
  rejected: number;
  slowestMs: number;
}

const newTally = (): Tally => ({ cases: 0, decoded: 0, rejected: 0, slowestMs: 0 });

const isThenable = (v: unknown): v is Promise<unknown> => typeof (v as { then?: unknown })?.then === 'function';

// A lie about a count: named lies resolved against the field's true value and the input length.
const LIES = ['zero', 'one', 'max', 'signed-max', 'signed-min', 'length', 'length+1', 'true+1', 'true-1', 'true*2', 'true+length'] as const;
type Lie = (typeof LIES)[number] | number;

function readField(b: Uint8Array, f: CountField): bigint {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = f.littleEndian ?? true;
  return (f.size ?? 4) === 8 ? v.getBigUint64(f.offset, le) : BigInt(v.getUint32(f.offset, le));
}

function writeField(b: Uint8Array, f: CountField, value: bigint): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = f.littleEndian ?? true;
  const bits = (f.size ?? 4) * 8;
  const x = BigInt.asUintN(bits, value);
  if (bits === 64) v.setBigUint64(f.offset, x, le);
  else v.setUint32(f.offset, Number(x), le);
}

function lieValue(lie: Lie, truth: bigint, length: number, size: 4 | 8): bigint {
  const bits = BigInt(size * 8);
  if (typeof lie === 'number') return BigInt(lie);
  switch (lie) {
    case 'zero':
      return 0n;
    case 'one':
      return 1n;
    case 'max':
      return (1n << bits) - 1n;
    case 'signed-max':
      return (1n << (bits - 1n)) - 1n;
    case 'signed-min':
      return 1n << (bits - 1n);
    case 'length':
      return BigInt(length);
    case 'length+1':
      return BigInt(length) + 1n;
    case 'true+1':
      return truth + 1n;
    case 'true-1':
      return truth - 1n;
    case 'true*2':
      return truth * 2n;
    case 'true+length':
      return truth + BigInt(length);
  }
}

/** The truncation lengths to try, in increasing order. */
function truncationLengths(valid: Uint8Array, spec: FuzzTarget<unknown>['truncations'], seed: number): number[] {
  const length = valid.length;
  const mode = process.env.FUZZ_TRUNCATIONS === 'all' ? 'all' : (spec ?? (length <= 65536 ? 'all' : { head: 4096, sample: 2000 }));
  if (mode === 'all') return Array.from({ length }, (_, i) => i);
  const set = new Set<number>();
  const add = (from: number, to: number): void => {
    for (let i = Math.max(0, from); i < Math.min(to, length); i++) set.add(i);
  };
  add(0, mode.head);
  add(length - 64, length);
  for (const b of mode.boundaries?.(valid) ?? []) add(b - 32, b + 33);
  for (const n of fc.sample(fc.nat({ max: Math.max(0, length - 1) }), { numRuns: mode.sample, seed })) set.add(n);
  return [...set].sort((a, b) => a - b);
}

/**
 * Registers the fuzz suite of one loader: a `describe` with one test per kind of damage, each
 * printing its counts (cases, typed errors, valid decodes, slowest case).
 */
export function fuzzLoader<T>(target: FuzzTarget<T>): void {
  const runs = target.runs ?? 10_000;
  describe(`fuzz: ${target.name}`, () => {
    let valid: Uint8Array;
    let counts: readonly CountField[] = [];
    let maxCaseMs = target.maxCaseMs ?? 1000;
    // The RSS a suite may reach: 1 GiB above where it started (sampled every 256 cases).
    let rssLimit = Infinity;
    let hot = 1024;
    const total = newTally();
    let totalMs = 0;

    // Runs one case: returns whether it decoded; throws, saying why, when the outcome is not allowed.
    const judge = (bytes: Uint8Array, tally: Tally, outcome: { ok: true; result: T } | { ok: false; error: unknown }, ms: number): boolean => {
      tally.cases++;
      tally.slowestMs = Math.max(tally.slowestMs, ms);
      if (ms > maxCaseMs) throw new Error(`a ${bytes.length}-byte case took ${ms.toFixed(0)} ms, over the ${maxCaseMs} ms allowed (a hang, or an allocation sized by an unchecked count?)`);
      if (tally.cases % 256 === 0) {
        const rss = process.memoryUsage.rss();
        if (rss > rssLimit) throw new Error(`the process holds ${(rss / 2 ** 20).toFixed(0)} MiB after ${tally.cases} cases, over the ${(rssLimit / 2 ** 20).toFixed(0)} MiB allowed (allocations sized by unchecked counts?)`);
      }
      if (outcome.ok) {
        target.check?.(outcome.result, bytes);
        tally.decoded++;
        return true;
      }
      const problem = target.rejects ? target.rejects(outcome.error, bytes) : formatErrorProblem(outcome.error, bytes, target.format);
      if (problem !== undefined) throw new Error(problem);
      tally.rejected++;
      return false;
    };

    // Sync loaders stay sync (the truncation sweep runs hundreds of thousands of cases).
    const attempt = (bytes: Uint8Array, tally: Tally): boolean | Promise<boolean> => {
      const t0 = performance.now();
      let r: T | Promise<T>;
      try {
        r = target.load(bytes);
      } catch (error) {
        return judge(bytes, tally, { ok: false, error }, performance.now() - t0);
      }
      if (!isThenable(r)) return judge(bytes, tally, { ok: true, result: r }, performance.now() - t0);
      return (r as Promise<T>).then(
        (result) => judge(bytes, tally, { ok: true, result }, performance.now() - t0),
        (error: unknown) => judge(bytes, tally, { ok: false, error }, performance.now() - t0),
      );
    };

    const report = (what: string, tally: Tally, ms: number): void => {
      total.cases += tally.cases;
      total.decoded += tally.decoded;
      total.rejected += tally.rejected;
      total.slowestMs = Math.max(total.slowestMs, tally.slowestMs);
      totalMs += ms;
      console.log(
        `${target.name}: ${what}: ${tally.cases.toLocaleString('en-US')} cases in ${(ms / 1000).toFixed(2)} s, ` +
          `${tally.rejected.toLocaleString('en-US')} typed errors, ${tally.decoded.toLocaleString('en-US')} valid decodes, ` +
          `slowest ${tally.slowestMs.toFixed(1)} ms (seed ${FUZZ_SEED})`,
      );
    };

    // One fast-check property over mutations of the valid input.
    const property = async <M>(what: string, numRuns: number, arb: fc.Arbitrary<M>, apply: (m: M) => Uint8Array): Promise<void> => {
      if (numRuns <= 0) return;
      const tally = newTally();
      const t0 = performance.now();
      const repair = target.repair ?? ((b: Uint8Array) => b);
      const run = (m: M): boolean | Promise<boolean> => attempt(repair(apply(m)), tally);
      try {
        await fc.assert(fc.asyncProperty(arb, async (m) => void (await run(m))), { seed: FUZZ_SEED, numRuns });
      } catch (e) {
        throw new Error(`${target.name}, ${what}: failed with FC_SEED=${FUZZ_SEED} (rerun: FC_SEED=${FUZZ_SEED} npx vitest run test/fuzz.*)\n${(e as Error).message}`);
      }
      report(what, tally, performance.now() - t0);
      expect(tally.cases).toBeGreaterThanOrEqual(numRuns);
    };

    beforeAll(async () => {
      valid = typeof target.valid === 'function' ? await target.valid() : target.valid;
      counts = typeof target.counts === 'function' ? target.counts(valid) : (target.counts ?? []);
      hot = Math.min(valid.length, target.hotBytes ?? 1024);
      const t0 = performance.now();
      const out = await target.load(valid.slice());
      const ms = performance.now() - t0;
      target.check?.(out, valid);
      if (target.maxCaseMs === undefined) maxCaseMs = Math.max(1000, Math.ceil(50 * ms));
      rssLimit = process.memoryUsage.rss() + 2 ** 30;
    });

    afterAll(() => {
      console.log(
        `${target.name}: ${total.cases.toLocaleString('en-US')} cases in all, ${(totalMs / 1000).toFixed(1)} s ` +
          `(${total.rejected.toLocaleString('en-US')} typed errors, ${total.decoded.toLocaleString('en-US')} valid decodes, slowest ${total.slowestMs.toFixed(1)} ms)`,
      );
    });

    it('the valid input decodes, and so does a copy at an odd byte offset', async () => {
      const tally = newTally();
      expect(await attempt(valid.slice(), tally)).toBe(true);
      const odd = new Uint8Array(valid.length + 3);
      odd.set(valid, 3);
      expect(await attempt(odd.subarray(3), tally)).toBe(true);
    });

    it('empty input', async () => {
      const tally = newTally();
      expect(await attempt(new Uint8Array(0), tally)).toBe(false);
    });

    it('truncations', async () => {
      const lengths = truncationLengths(valid, target.truncations, FUZZ_SEED);
      const tally = newTally();
      const t0 = performance.now();
      // Stack traces are most of the cost of a thrown error; the cases need only the message.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        for (const n of lengths) {
          let decoded: boolean;
          try {
            const r = attempt(valid.subarray(0, n), tally);
            decoded = isThenable(r) ? await r : r;
          } catch (e) {
            throw new Error(`${target.name} truncated to ${n} of ${valid.length} bytes: ${(e as Error).message}`);
          }
          if (decoded && target.prefixesFail !== false) {
            throw new Error(`${target.name} truncated to ${n} of ${valid.length} bytes decoded without an error: a truncated file must be rejected`);
          }
        }
      } finally {
        Error.stackTraceLimit = limit;
      }
      const how =
        lengths.length === valid.length
          ? 'every length'
          : `${lengths.length.toLocaleString('en-US')} of ${valid.length.toLocaleString('en-US')} lengths: the head, around each section boundary, the last 64, and a seeded sample`;
      report(`truncations (${how})`, tally, performance.now() - t0);
    });

    // Positions: anywhere, or (one time in four) in the head, where the counts and headers are.
    const position = (max: number): fc.Arbitrary<number> =>
      fc.oneof({ arbitrary: fc.nat({ max }), weight: 3 }, { arbitrary: fc.nat({ max: Math.min(max, Math.max(hot - 1, 0)) }), weight: 1 });
    const share = (part: number): number => Math.round(runs * part);

    const flipShare = target.counts !== undefined ? 0.3 : 0.5;
    it(`random bit flips (${share(flipShare).toLocaleString('en-US')} cases)`, async () => {
      await property('bit flips', share(flipShare), fc.array(fc.tuple(position(valid.length - 1), fc.nat({ max: 7 })), { minLength: 1, maxLength: 8 }), (flips) => {
        const b = valid.slice();
        for (const [at, bit] of flips) b[at] = b[at]! ^ (1 << bit);
        return b;
      });
    });

    it(`random byte writes (${share(0.2).toLocaleString('en-US')} cases)`, async () => {
      const value = fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80), fc.nat({ max: 255 }));
      await property('byte writes', share(0.2), fc.array(fc.tuple(position(valid.length - 1), value), { minLength: 1, maxLength: 8 }), (writes) => {
        const b = valid.slice();
        for (const [at, v] of writes) b[at] = v;
        return b;
      });
    });

    if (target.counts !== undefined) {
      it(`counts that lie: zero, one, huge, the length, off by one (${share(0.2).toLocaleString('en-US')} cases)`, async () => {
        expect(counts.length).toBeGreaterThan(0);
        const lie: fc.Arbitrary<Lie> = fc.oneof({ arbitrary: fc.constantFrom(...LIES), weight: 3 }, { arbitrary: fc.nat(), weight: 1 });
        await property('lying counts', share(0.2), fc.array(fc.tuple(fc.nat({ max: counts.length - 1 }), lie), { minLength: 1, maxLength: 3 }), (lies) => {
          const b = valid.slice();
          for (const [i, l] of lies) {
            const f = counts[i]!;
            writeField(b, f, lieValue(l, readField(valid, f), valid.length, f.size ?? 4));
          }
          return b;
        });
      });
    }

    it(`splices: bytes deleted or inserted (${share(0.15).toLocaleString('en-US')} cases)`, async () => {
      const arb = fc.tuple(position(valid.length), fc.nat({ max: 300 }), fc.uint8Array({ maxLength: 64 }));
      await property('splices', share(0.15), arb, ([at, del, insert]) => {
        const head = valid.subarray(0, at);
        const tail = valid.subarray(Math.min(valid.length, at + del));
        const b = new Uint8Array(head.length + insert.length + tail.length);
        b.set(head);
        b.set(insert, head.length);
        b.set(tail, head.length + insert.length);
        return b;
      });
    });

    it(`random bytes, and the valid head with random bytes after it (${share(0.15).toLocaleString('en-US')} cases)`, async () => {
      const arb = fc.tuple(fc.oneof(fc.constant(0), position(valid.length)), fc.uint8Array({ maxLength: 2048 }));
      await property('random bytes', share(0.15), arb, ([keep, tail]) => {
        const b = new Uint8Array(keep + tail.length);
        b.set(valid.subarray(0, keep));
        b.set(tail, keep);
        return b;
      });
    });
  });
}
