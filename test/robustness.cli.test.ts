// The command line on bad files (issue 8): each gives one line naming the file and the problem,
// the rest of the batch still runs, the exit code is 1, and nothing hangs or blows up memory. The
// files are scripts/robustness-table.mjs's (the table in docs/ROBUSTNESS.md lists what each says);
// here the properties every one of them must have. Also: the awkward-but-valid image variants of
// test/data/robustness (scripts/make-robustness-images.py) decode as PIL decodes them.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, without types
import { cli, imageCases, writeImageCases } from '../scripts/robustness-table.mjs';
import { checkImageFile, ImageDecodeError } from '../cli/src/images.js';
import { assertBuilt } from './built.js';
import { diffAgainstPil } from './pil-compare.js';
import { IMAGES, ROOT, shared } from './shared.js';

type Case = [name: string, what: string, bytes: unknown];
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}
const run = cli as (args: string[], o: { cwd: string; timeout?: number }) => Run;

/** The files that must classify: valid, if awkward (or damaged in a way no decoder can see). */
const GOOD = new Set([
  'photo.jpg',
  'scan-damage.jpg',
  'trailing.jpg',
  // Damaged in ways libjpeg and libpng only warn about: PIL decodes these too.
  'no-iend.png',
  'bomb-1000.jpg',
  'arithmetic.jpg',
  'inflate-bomb.png',
  'jpeg-adobe-rgb-transform0.jpg',
  'jpeg-exif-orientation-6.jpg',
  'png-rgba-hidden-colour-under-alpha0.png',
  'png-trailing-bytes-after-iend.png',
  'cmyk.jpg',
  'cmyk-no-adobe.jpg',
  'ycck.jpg',
  'rgb-adobe-transform0.jpg',
  'progressive-420.jpg',
  'grey.jpg',
  'grey16.png',
  'grey-alpha.png',
  'rgba.png',
  'palette.png',
  'palette-trns.png',
  'lossy.webp',
  'lossless.webp',
  'two-frames.gif',
  'lzw.tiff',
  'orientation-6.jpg',
  'rgb16.png',
  'rgba16.png',
  'interlaced.png',
  'bilevel.png',
  'one-pixel.png',
  'one-pixel.jpg',
  'strip-300x2.png',
  'cmyk-progressive.jpg',
  'grey-progressive.jpg',
  'restart.jpg',
]);

/** What each kind of bad file must say (beyond naming itself). */
const SAYS: Record<string, RegExp> = {
  'missing.jpg': /^no such file$/,
  'folder.jpg': /^a folder with no image files \(\.jpg, /,
  'empty.jpg': /^empty file$/,
  'magic-only.jpg': /^JPEG could not be decoded: no frame header/,
  'half.jpg': /truncated/,
  'no-eoi.jpg': /truncated/,
  'half.png': /truncated/,
  'huge-65535.jpg': /more than 64 megapixels/,
  'bomb-8000.jpg': /decompression bomb/,
  'huge-100000.png': /more than 64 megapixels/,
  'bomb-1048637x47.png': /truncated/,
  '10000x10000.png': /^PNG is 10000x10000, more than 64 megapixels$/,
  'progressive-4000x4000-4000-scans.jpg': /^JPEG has more than 100 scans/,
  'old.bmp': /^BMP images are not supported: JPEG, PNG, WebP, GIF, TIFF and AVIF are decoded$/,
  'drawing.svg': /^SVG images are not supported/,
  'phone.heic': /^HEIC images are not supported/,
  '/dev/zero': /^not a regular file \(a character device\)$/,
  'fifo.jpg': /^not a regular file \(a FIFO\)$/,
};

let tmp: string;
beforeAll(() => {
  assertBuilt(join(ROOT, 'cli', 'dist', 'main.js'));
  tmp = mkdtempSync(join(tmpdir(), 'squeezenet-robust-cli-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('squeezenet classify on every bad file at once', () => {
  let cases: Case[];
  let args: string[];
  let r: Run;
  let ms: number;
  beforeAll(() => {
    cases = imageCases() as Case[];
    const dir = join(tmp, 'batch');
    mkdirSync(dir);
    args = writeImageCases(dir, cases) as string[];
    const t0 = performance.now();
    r = run(['classify', '--json', '--top', '1', '--no-progress', ...args], { cwd: dir, timeout: 120_000 });
    ms = performance.now() - t0;
  });

  it('finishes (no hang: the FIFO, /dev/zero and the bombs are refused up front), exit 1', () => {
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    console.log(`${args.length} files, ${cases.filter(([n]) => !GOOD.has(n)).length} bad, in ${(ms / 1000).toFixed(1)} s`);
    expect(ms).toBeLessThan(60_000);
  });

  it('every good file classified on stdout, every bad one named in exactly one line on stderr', () => {
    const classified = new Set(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file));
    // The first two lines say what was loaded and which recipe (see cli.test.ts); then one per bad file.
    const all = r.stderr.trim().split('\n');
    expect(all[0]).toMatch(/^squeezenet classify: deepcompression weights, SqueezeNet v1\.0-caffe, 1000 classes$/);
    expect(all[1]).toMatch(/^squeezenet classify: recipe caffe \(227x227/);
    const errors = all.slice(2);
    const bad = args.filter((a, i) => !GOOD.has(cases[i]![0]));
    for (const [i, arg] of args.entries()) {
      const lines = errors.filter((l) => l.startsWith(`squeezenet classify: ${arg}: `));
      if (GOOD.has(cases[i]![0])) {
        expect(classified.has(arg), `${arg} classified`).toBe(true);
        expect(lines, arg).toEqual([]);
      } else {
        expect(classified.has(arg), `${arg} not classified`).toBe(false);
        expect(lines.length, `${arg}: one line on stderr`).toBe(1);
        const message = lines[0]!.slice(`squeezenet classify: ${arg}: `.length);
        expect(message.length, arg).toBeGreaterThan(5);
        const want = SAYS[arg];
        if (want) expect(message, arg).toMatch(want);
      }
    }
    expect(errors.at(-1)).toBe(`squeezenet classify: ${bad.length} of ${args.length} images failed`);
    expect(errors.length).toBe(bad.length + 1);
  });
});

describe('squeezenet eval with bad files in the folder', () => {
  it('reports each, counts the rest, exit 1', () => {
    const dir = join(tmp, 'eval');
    mkdirSync(dir);
    writeFileSync(join(dir, '000_tench.jpg'), readFileSync(shared(join(IMAGES, '000_n01440764_tench.JPEG'))));
    const cases = (imageCases() as Case[]).filter(([n]) => ['fifo.jpg', 'half.jpg', 'bomb-8000.jpg', 'progressive-4000x4000-4000-scans.jpg', 'empty.jpg'].includes(n));
    writeImageCases(dir, cases.map(([n, w, b]) => [`001_${n}`, w, b]));
    const r = run(['eval', '--json', dir], { cwd: dir, timeout: 120_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as { images: number; top1: number; failed: { file: string; error: string }[] };
    expect([s.images, s.top1]).toEqual([1, 1]);
    expect(s.failed.map((f) => f.file).sort()).toEqual(cases.map(([n]) => `001_${n}`).sort());
    expect(s.failed.find((f) => f.file === '001_fifo.jpg')!.error).toBe('not a regular file (a FIFO)');
    expect(r.stderr.trim().split('\n').length).toBe(cases.length + 2); // + what was loaded, and the recipe
  });
});

describe('checkImageFile', () => {
  it('names what is not a regular file before anything reads it', () => {
    const say = (path: string, max?: number): string => {
      try {
        checkImageFile(path, max);
      } catch (e) {
        expect(e).toBeInstanceOf(ImageDecodeError);
        expect([(e as ImageDecodeError).file, (e as Error).message]).toEqual([path, `${path}: ${(e as ImageDecodeError).reason}`]);
        return (e as ImageDecodeError).reason;
      }
      return 'ok';
    };
    expect(say(join(tmp, 'nothing.jpg'))).toBe('no such file');
    expect(say(tmp)).toBe('is a directory');
    expect(say('/dev/null')).toBe('not a regular file (a character device)');
    const file = join(tmp, 'ten.jpg');
    writeFileSync(file, new Uint8Array(10));
    expect(say(file)).toBe('ok');
    expect(say(file, 9)).toBe('is 10 bytes, more than the 9 an image file may have');
    expect(say(join(file, 'inside.jpg'))).toBe('no such file (a parent is not a directory)');
  });
});

describe('awkward but valid images (test/data/robustness) decode as PIL decodes them', () => {
  const dir = join(ROOT, 'test', 'data', 'robustness');
  const meta = JSON.parse(readFileSync(join(dir, 'images.json'), 'utf8')) as Record<string, { mode: string; size: [number, number] }>;
  // sharp (libjpeg-turbo, libpng: 16-bit samples keep their high byte, as PIL's): exactly.
  for (const [name, m] of Object.entries(meta)) {
    it(`${name} (${m.mode}, ${m.size.join('x')}): PIL's bytes exactly`, async () => {
      const { max, mean } = await diffAgainstPil(dir, name, m.size);
      expect([max, mean]).toEqual([0, 0]);
    });
  }
});
