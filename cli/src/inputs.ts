// What `classify` reads: files, the images inside directories (with --recursive, every level
// down), and `-` for one image on standard input.

import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { IMAGE_EXTENSIONS, MAX_IMAGE_FILE_BYTES } from './images.js';
import { CliError } from './load.js';

/** The name `-` is shown as in results and messages. */
export const STDIN = '-';

/** True when the name is an image by its extension (how directories are filtered). */
export const isImageName = (name: string): boolean => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());

/**
 * Expands the command line's IMAGE arguments in order: a directory gives its image files sorted by
 * name (its subdirectories too, depth first, with `recursive`), or itself when it has none;
 * anything else is kept as it is (a missing file is reported when it is read). `-` may appear once.
 * @throws CliError for a directory that cannot be listed, or `-` given twice.
 */
export function expandInputs(args: readonly string[], recursive: boolean): string[] {
  const out: string[] = [];
  let stdin = false;
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      throw new CliError(`${dir}: cannot list the directory (${(e as Error).message})`);
    }
    const names = entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of names) {
      const path = join(dir, d.name);
      if (d.isDirectory()) {
        if (recursive) walk(path);
      } else if (isImageName(d.name)) {
        out.push(path);
      }
    }
  };
  for (const arg of args) {
    if (arg === STDIN) {
      if (stdin) throw new CliError('- (standard input) is given twice');
      stdin = true;
      out.push(arg);
      continue;
    }
    let isDir = false;
    try {
      isDir = statSync(arg).isDirectory();
    } catch {
      // reported when read
    }
    const before = out.length;
    if (isDir) walk(arg);
    // A folder with no images is kept, to be reported (a folder with no image files) like any unreadable input.
    if (!isDir || out.length === before) out.push(arg);
  }
  return out;
}

/**
 * Why a folder given as an input gave no images, for its error line: `a folder with no image files
 * (.jpg, ...)`, and, when it has folders and `recursive` is off, that --recursive descends into them.
 */
export function emptyFolderReason(dir: string, recursive: boolean): string {
  let folders = 0;
  try {
    folders = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).length;
  } catch {
    // listed once already; if that changed, say no more than the rest
  }
  const why = `a folder with no image files (${IMAGE_EXTENSIONS.join(', ')})`;
  return recursive || folders === 0 ? why : `${why} at its top level; --recursive descends into its ${folders} folder${folders === 1 ? '' : 's'}`;
}

/** Reads all of standard input, refusing more than an image file may hold. */
export async function readStdin(maxBytes = MAX_IMAGE_FILE_BYTES): Promise<Uint8Array> {
  if (process.stdin.isTTY) throw new CliError('- reads an image from standard input, which is a terminal: pipe or redirect a file into it');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw new CliError(`standard input holds more than ${maxBytes.toLocaleString('en-US')} bytes, more than an image file may`);
    chunks.push(chunk);
  }
  if (total === 0) throw new CliError('standard input is empty');
  return Buffer.concat(chunks, total);
}
