// The command line behaves like one: --version, help everywhere, folders and standard input as
// arguments, a closed pipe ends quietly, output folders are created.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from './built.js';
import { IMAGES, MODEL, ROOT, shared } from './shared.js';

const CLI = join(ROOT, 'cli', 'dist', 'main.js');

function cli(args: string[], input?: Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SQUEEZENET_WEIGHTS: '' },
    timeout: 120_000,
    ...(input === undefined ? {} : { input }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
const sample = (name: string): string => shared(join(IMAGES, name));
const TENCH = '000_n01440764_tench.JPEG';
const ZEBRA = '340_n02391049_zebra.JPEG';
const BRAMBLING = '010_n01530575_brambling.JPEG';

beforeAll(() => {
  assertBuilt(CLI);
  tmp = mkdtempSync(join(tmpdir(), 'squeezenet-cli-behaviour-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// What classify, eval and compress always say first on stderr: the weights and the recipe (and why).
const MODEL_REPORT =
  'squeezenet classify: sqz weights, SqueezeNet v1.0-caffe, 1000 classes\n' +
  'squeezenet classify: recipe caffe (227x227, BGR, 0..255 minus the means 104/117/123), because the network is v1.0 in its Caffe form (conv10 padding 1, as the released Caffe model)\n';

const top1 = (stdout: string): { file: string; label: string }[] =>
  stdout.trim().split('\n').map((l) => {
    const o = JSON.parse(l) as { file: string; top: { label: string }[] };
    return { file: o.file, label: o.top[0]!.label };
  });

describe('squeezenet', () => {
  it('--version names the command and the library, each as its package.json says', () => {
    const own = JSON.parse(readFileSync(join(ROOT, 'cli', 'package.json'), 'utf8')) as { version: string };
    const lib = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = cli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`squeezenet-wasm-cli ${own.version} (library squeezenet-wasm ${lib.version}, Node ${process.version})`);
    }
  });

  it('-h and --help on every command; `help COMMAND` is that command\'s help', () => {
    for (const command of ['classify', 'eval', 'summary', 'design', 'compress', 'trace', 'compare']) {
      const long = cli([command, '--help']);
      expect(long.code, command).toBe(0);
      expect(long.stdout, command).toMatch(new RegExp(`^Usage: squeezenet ${command}`));
      // A user has this project's ../shared folder neither beside them nor in mind.
      expect(long.stdout, command).not.toMatch(/\.\.\/shared|SQUEEZENET_SHARED/);
      expect(cli([command, '-h']).stdout).toBe(long.stdout);
      expect(cli(['help', command]).stdout).toBe(long.stdout);
    }
    const unknown = cli(['classify', '--nope', 'x.jpg']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^squeezenet classify: Unknown option '--nope'/);
  });

  it('a usage error: the error, the usage lines and where the options are, not the whole help', () => {
    for (const command of ['classify', 'eval', 'summary', 'design', 'trace', 'compare', 'compress']) {
      const r = cli([command, '--nope']);
      expect(r.code, command).toBe(2);
      expect(r.stderr, command).toMatch(new RegExp(`^squeezenet ${command}: Unknown option '--nope'\n\nUsage: squeezenet ${command} [^\n]*\n(?: {7}[^\n]*\n)*Run \`squeezenet ${command} --help\` for the options\.\n$`));
      expect(r.stderr, command).not.toContain('Options:');
    }
  });
});

describe('squeezenet classify: what it reads', () => {
  it('a folder: its images sorted by name; its subfolders only with -r/--recursive', () => {
    const dir = join(tmp, 'photos');
    mkdirSync(join(dir, 'birds'), { recursive: true });
    copyFileSync(sample(ZEBRA), join(dir, 'b-zebra.JPEG'));
    copyFileSync(sample(TENCH), join(dir, 'a-tench.jpg'));
    copyFileSync(sample(BRAMBLING), join(dir, 'birds', 'brambling.jpeg'));
    mkdirSync(join(dir, 'birds', 'notes.jpg')); // a folder named like an image is still a folder
    const flat = cli(['classify', '--json', '--top', '1', dir]);
    expect(flat.code).toBe(0);
    expect(top1(flat.stdout)).toEqual([
      { file: join(dir, 'a-tench.jpg'), label: 'tench' },
      { file: join(dir, 'b-zebra.JPEG'), label: 'zebra' },
    ]);
    for (const flag of ['-r', '--recursive']) {
      const deep = cli(['classify', '--json', '--top', '1', flag, dir]);
      expect(deep.code).toBe(0);
      expect(top1(deep.stdout).map((t) => t.file)).toEqual([join(dir, 'a-tench.jpg'), join(dir, 'b-zebra.JPEG'), join(dir, 'birds', 'brambling.jpeg')]);
    }
    const onlyFolders = cli(['classify', join(dir, 'birds', 'notes.jpg')]);
    expect(onlyFolders.code).toBe(1);
    expect(onlyFolders.stderr).toContain('notes.jpg: a folder with no image files (.jpg, .jpeg, .png, .webp, .gif, .tif, .tiff, .avif)\n');
    // A folder whose images are all a level down: one line for it, saying how to reach them.
    const above = join(tmp, 'above');
    mkdirSync(join(above, 'photos'), { recursive: true });
    copyFileSync(sample(TENCH), join(above, 'photos', 'tench.jpg'));
    const shallow = cli(['classify', above]);
    expect(shallow.code).toBe(1);
    const lines = shallow.stderr.split('\n').filter((l) => l.includes(above));
    expect(lines).toEqual([`squeezenet classify: ${above}: a folder with no image files (.jpg, .jpeg, .png, .webp, .gif, .tif, .tiff, .avif) at its top level; --recursive descends into its 1 folder`]);
    expect(top1(cli(['classify', '--json', '--top', '1', '-r', above]).stdout)).toEqual([{ file: join(above, 'photos', 'tench.jpg'), label: 'tench' }]);
  });

  it('a URL: not fetched, and said so with how to pipe it in', () => {
    const url = cli(['classify', 'https://example.com/cat.jpg']);
    expect(url.code).toBe(1);
    expect(url.stderr).toContain('squeezenet classify: https://example.com/cat.jpg: no such file: URLs are not fetched; download the image, or pipe it in: curl -sL URL | squeezenet classify -\n');
  });

  it('- reads one image from standard input', () => {
    const r = cli(['classify', '--json', '--top', '1', '-'], readFileSync(sample(ZEBRA)));
    expect(r.stderr).toBe(MODEL_REPORT);
    expect(r.code).toBe(0);
    expect(top1(r.stdout)).toEqual([{ file: '-', label: 'zebra' }]);
    const empty = cli(['classify', '-'], Buffer.alloc(0));
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('-: standard input is empty');
    const twice = cli(['classify', '-', '-'], readFileSync(sample(ZEBRA)));
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('- (standard input) is given twice');
  });

  it('a closed pipe (| head -1) ends quietly: exit 0, nothing on stderr but what was loaded', () => {
    const files = Array.from({ length: 8 }, () => sample(TENCH));
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${CLI}" classify --json "$@" | head -c 100 >/dev/null`, 'sh', ...files], {
      encoding: 'utf8',
      env: { ...process.env, SQUEEZENET_WEIGHTS: '' },
      timeout: 120_000,
    });
    expect(r.stderr).toBe(MODEL_REPORT);
    expect(r.status).toBe(0);
  });
});

describe('output folders are created', () => {
  it('compress OUT and design --svg FILE into folders that do not exist yet', () => {
    const out = join(tmp, 'new', 'deeper', 'model.sqz');
    const c = cli(['compress', '--json', shared(MODEL), out]);
    expect(c.stderr).toBe(`squeezenet compress: ${shared(MODEL)} (deepcompression, SqueezeNet v1.0-caffe): recipe caffe, because a Deep Compression .net holds the released Caffe model (v1.0-caffe), trained in Caffe; written into ${out}'s metadata\n`);
    expect(c.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    const svg = join(tmp, 'figures', 'design.svg');
    const d = cli(['design', '--svg', svg]);
    expect(d.code).toBe(0);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/);
  });
});
