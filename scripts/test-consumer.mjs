#!/usr/bin/env node
// `npm run test:consumer`: the packages as a user gets them. `npm pack` of the library (the root)
// and of the command line (cli/), both tarballs installed into a fresh project under the system's
// temporary folder (no ../shared beside it, no SQUEEZENET_* variables, no PATH into this
// repository), then, as a user would:
//   npx squeezenet --version; npx squeezenet classify on the committed test image, whose top-1
//   must be PyTorch's (fixtures/test-data-top5.json); an ES module that imports the library and
//   classifies with loadDefault(); `tsc --strict` on a small .ts file under module nodenext and
//   under moduleResolution bundler; the library's package.json has no dependencies and installing
//   it alone installs nothing else; publint and @arethetypeswrong/cli on the library report
//   nothing. The same ES module also runs in Bun and Deno when npm can install them
//   (@oven/bun-linux-x64, @deno/linux-x64-glibc, pinned), and is skipped, saying so, otherwise.
// Prints a transcript (each command and its output) and the tarballs' sizes. The type checkers
// and linters are this repository's devDependencies (the lockfile's versions), run by path.
// KEEP_TMP=1 keeps the project.

import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import {
  checker, deadline, freshDir, npmInstall, pack, PROB_TOLERANCE, pytorchTop1, removeDir, requireBuild, ROOT, run,
  summary, TEST_IMAGE, userEnv,
} from './packaging-common.mjs';

const DEADLINE_MS = 300_000;
const BIN = (name) => join(ROOT, 'node_modules/.bin', name);
// The README's lines for them ("Bundlers"); Deno without read access must say what it lacks.
const RUNTIMES = [
  { name: 'Bun', package: '@oven/bun-linux-x64@1.4.5', bin: 'node_modules/@oven/bun-linux-x64/bin/bun', runs: [['classify-png.mjs', 'picture.png']] },
  {
    name: 'Deno',
    package: '@deno/linux-x64-glibc@2.9.6',
    bin: 'node_modules/@deno/linux-x64-glibc/deno',
    runs: [['run', '--allow-read', 'classify-png.mjs', 'picture.png'], ['run', '--allow-read=node_modules,picture.png', 'classify-png.mjs', 'picture.png']],
    refused: [['run', 'classify-png.mjs', 'picture.png'], /InputError: could not read the default model .*Requires read access/],
  },
];

// The README's module for Bun and Deno (and Node): the library alone, the PNG decoded by pngjs.
const CLASSIFY_MJS = readFileSync(join(ROOT, 'examples/node/classify-png.mjs'), 'utf8');

// Type-checked, not run. The @ts-expect-error lines fail the check if the types were \`any\`.
const CHECK_TS = `import { loadDefault, classify, InputError, type Prediction, type SqueezeNet } from 'squeezenet-wasm';

const model: SqueezeNet = await loadDefault();
const pixels = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 255, 0]) };
const top: Prediction[] = classify(model, pixels);
const label: string = top[0]?.label ?? '';
const error: Error = new InputError(label);
// @ts-expect-error: classify needs pixels
classify(model);
// @ts-expect-error: a label is a string
const wrong: number = top[0]?.label;
export { error, wrong };
`;

let tmp;
const cancel = deadline(DEADLINE_MS, 'test:consumer', async () => removeDir(tmp));

async function main() {
  requireBuild('dist/src/index.js', 'dist/build/squeezenet.wasm', 'dist/models/squeezenet1_0-deep-compression.sqz', 'cli/dist/main.js');
  const { check, counts } = checker();
  const expected = pytorchTop1();
  const cliVersion = JSON.parse(readFileSync(join(ROOT, 'cli/package.json'), 'utf8')).version;
  tmp = freshDir('squeezenet-consumer-');
  // A user's shell: no SQUEEZENET_* variables, and nothing of this repository on PATH (npm run
  // puts its node_modules/.bin there, where `squeezenet` is the workspace's).
  const PATH = (process.env.PATH ?? '').split(delimiter).filter((p) => p && !(p === ROOT || p.startsWith(ROOT + sep))).join(delimiter);
  const env = userEnv({ PATH });
  check(!existsSync(join(tmp, '..', 'shared')) && !Object.keys(env).some((k) => k.startsWith('SQUEEZENET_')), `a fresh project in ${tmp}: no ../shared beside it, no SQUEEZENET_* variables`);

  console.log('\n--- the tarballs');
  const packs = join(tmp, 'packs');
  mkdirSync(packs);
  const lib = await pack(ROOT, packs);
  const cli = await pack(join(ROOT, 'cli'), packs);
  const holds = (record, paths) => {
    const missing = paths.filter((path) => !record.files.some((f) => f.path === path));
    check(missing.length === 0, `${record.filename} holds ${paths.join(', ')}${missing.length ? `; missing: ${missing.join(', ')}` : ''}`);
  };
  holds(lib, ['LICENSE', 'dist/build/squeezenet.wasm', 'dist/models/squeezenet1_0-deep-compression.sqz', 'dist/models/LICENSE']);
  // The README's links to files resolve in the installed package too; bench/ belongs to the repository (its README says so).
  const links = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/\]\(([\w.-]+\/[\w./-]+)\)/g)].map((m) => m[1]).filter((l) => !l.startsWith('bench/'));
  holds(lib, [...new Set(links)]);
  holds(cli, ['LICENSE', 'README.md', 'dist/main.js']);

  console.log('\n--- the library alone installs nothing else');
  const alone = join(tmp, 'library-alone');
  mkdirSync(alone);
  await npmInstall(alone, { dependencies: { 'squeezenet-wasm': `file:${lib.path}` } });
  const installed = JSON.parse(readFileSync(join(alone, 'node_modules/squeezenet-wasm/package.json'), 'utf8'));
  const fields = ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies'].filter((k) => installed[k] !== undefined && Object.keys(installed[k]).length > 0);
  check(fields.length === 0, `the library's package.json has no dependencies${fields.length ? `: it has ${fields.map((k) => `${k} ${JSON.stringify(installed[k])}`).join(', ')}` : ''}`);
  const hooks = ['preinstall', 'install', 'postinstall', 'prepare'].filter((k) => installed.scripts?.[k] !== undefined);
  check(hooks.length === 0, `the library's package.json runs nothing at a consumer's install${hooks.length ? `: it has ${hooks.join(', ')}` : ''}`);
  const tree = Object.keys(JSON.parse(readFileSync(join(alone, 'package-lock.json'), 'utf8')).packages).filter((k) => k !== '');
  check(tree.length === 1 && tree[0] === 'node_modules/squeezenet-wasm', `installing it installs ${tree.length} package${tree.length === 1 ? '' : 's'}: ${tree.join(', ')}`);

  console.log('\n--- the library and the command line');
  const app = join(tmp, 'app');
  mkdirSync(app);
  // The library-only module below decodes its PNG with pngjs (the command line decodes with sharp, its dependency).
  const pngjs = '7.0.0';
  await npmInstall(app, { dependencies: { 'squeezenet-wasm': `file:${lib.path}`, 'squeezenet-wasm-cli': `file:${cli.path}`, pngjs } });
  const copies = Object.entries(JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')).packages).filter(([k]) => k.endsWith('node_modules/squeezenet-wasm'));
  check(copies.length === 1 && String(copies[0][1].resolved).endsWith(`/${lib.filename}`),
    `one squeezenet-wasm in the tree, the packed one: ${copies.map(([k, v]) => `${k} <- ${v.resolved}`).join(', ')}`);
  copyFileSync(join(ROOT, TEST_IMAGE), join(app, 'picture.png'));
  console.log(`(picture.png is ${TEST_IMAGE}; PyTorch's top-1 for it: ${expected.index} ${expected.synset} ${expected.label}, ${(100 * expected.prob).toFixed(2)} %)`);

  let r = await run('npx', ['squeezenet', '--version'], { cwd: app, env });
  check(r.code === 0 && r.stdout.includes(cliVersion), `npx squeezenet --version exits 0 and prints ${cliVersion}`);

  r = await run('npx', ['squeezenet', 'classify', 'picture.png'], { cwd: app, env });
  const row = /^\s*1\s+([\d.]+)%\s+(\d+)\s+(n\d{8})\s+(.+?)\s*$/m.exec(r.stdout);
  check(r.code === 0 && row !== null && Number(row[2]) === expected.index && row[4] === expected.label && Math.abs(Number(row[1]) / 100 - expected.prob) <= 0.00005 + PROB_TOLERANCE,
    `npx squeezenet classify: top-1 ${row ? `${row[2]} ${row[4]} ${row[1]} %` : '(none)'} | PyTorch ${expected.index} ${expected.label} ${(100 * expected.prob).toFixed(2)} %`);

  r = await run('npx', ['squeezenet', 'classify', '--json', '--top', '1', 'picture.png'], { cwd: app, env });
  const json = r.code === 0 ? JSON.parse(r.stdout.trim().split('\n')[0]) : undefined;
  const cliTop = json?.top?.[0];
  check(cliTop?.index === expected.index && cliTop?.synset === expected.synset && Math.abs(cliTop.prob - expected.prob) <= PROB_TOLERANCE,
    `npx squeezenet classify --json: top-1 ${cliTop?.index} p ${cliTop?.prob} | PyTorch ${expected.index} p ${expected.prob}`);

  writeFileSync(join(app, 'classify-png.mjs'), CLASSIFY_MJS);
  console.log(`classify-png.mjs:\n${CLASSIFY_MJS.replace(/^/gm, '  ')}`);
  const esm = async (what, cmd, args) => {
    const out = await run(cmd, args, { cwd: app, env, timeout: 120_000, show: `${what} ${args.join(' ')}` });
    let top;
    try {
      top = JSON.parse(out.stdout.trim());
    } catch {
      top = undefined;
    }
    check(out.code === 0 && top?.index === expected.index && Math.abs(top.prob - expected.prob) <= PROB_TOLERANCE,
      `${[what, ...args.slice(0, -2)].join(' ')}: an ES module with loadDefault() and classify(): top-1 ${top?.index} ${top?.label} p ${top?.prob} | PyTorch ${expected.index} ${expected.label} p ${expected.prob}`);
  };
  await esm('node', process.execPath, ['classify-png.mjs', 'picture.png']);

  writeFileSync(join(app, 'check.ts'), CHECK_TS);
  console.log(`check.ts:\n${CHECK_TS.replace(/^/gm, '  ')}`);
  for (const flags of [
    ['--module', 'nodenext'],
    ['--module', 'esnext', '--moduleResolution', 'bundler'],
  ]) {
    const args = ['--strict', '--noEmit', '--target', 'es2022', ...flags, 'check.ts'];
    r = await run(BIN('tsc'), args, { cwd: app, env, show: `tsc ${args.join(' ')}` });
    check(r.code === 0 && r.stdout.trim() === '', `tsc --strict ${flags.join(' ')}: no errors`);
  }

  console.log('\n--- lint the package');
  // publint on the installed copy: exactly the tarball's files.
  r = await run(BIN('publint'), ['run', '--strict', '--pack', 'false', 'node_modules/squeezenet-wasm'], { cwd: app, env, show: 'publint run --strict --pack false node_modules/squeezenet-wasm' });
  check(r.code === 0 && /All good!/.test(r.stdout) && !/suggestion|warning|error/i.test(r.stdout.replace(/All good!/, '')), 'publint (library): all good, no suggestions');
  r = await run(BIN('publint'), ['run', '--strict', '--pack', 'false', 'node_modules/squeezenet-wasm-cli'], { cwd: app, env, show: 'publint run --strict --pack false node_modules/squeezenet-wasm-cli' });
  check(r.code === 0 && /All good!/.test(r.stdout) && !/suggestion|warning|error/i.test(r.stdout.replace(/All good!/, '')), 'publint (command line): all good, no suggestions');
  // attw on the tarball. The library is ESM only (type: module, no require entry), which the
  // esm-only profile states; the .wasm and .sqz subpaths (every one package.json exports) are
  // files for bundlers and Workers to import as assets, not modules with types.
  const assets = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports).filter((k) => /\.(wasm|sqz)$/.test(k));
  const attwArgs = ['--profile', 'esm-only', '--exclude-entrypoints', ...assets, '--format', 'table-flipped', '--no-color', join('packs', lib.filename)];
  r = await run(BIN('attw'), attwArgs, { cwd: tmp, env, show: `attw ${attwArgs.join(' ')}` });
  // Every problem line attw prints links to its docs; each must be one the profile ignores.
  const problems = r.stdout.split('\n').filter((l) => l.includes('arethetypeswrong.github.io/blob/main/docs/problems/') && !l.trim().startsWith('(ignored per resolution)'));
  check(r.code === 0 && r.stdout.includes('squeezenet-wasm v') && problems.length === 0,
    `@arethetypeswrong/cli: no problems for node16 (from ESM) and bundler${problems.length ? `: ${problems.join(' | ')}` : ''}`);

  console.log('\n--- the same ES module in Bun and Deno');
  for (const runtime of RUNTIMES) {
    if (platform() !== 'linux' || arch() !== 'x64') {
      console.log(`skip  ${runtime.name}: only the linux-x64 build is pinned here`);
      continue;
    }
    const dir = join(tmp, runtime.name.toLowerCase());
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), '{"private": true}\n');
    const got = await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', runtime.package], { cwd: dir, env, timeout: 180_000 });
    const bin = join(dir, runtime.bin);
    if (got.code !== 0 || !existsSync(bin)) {
      console.log(`skip  ${runtime.name}: npm could not install ${runtime.package}`);
      continue;
    }
    const name = runtime.name.toLowerCase();
    await run(bin, ['--version'], { cwd: app, env, show: `${name} --version` });
    for (const args of runtime.runs) await esm(name, bin, args);
    if (runtime.refused) {
      const [args, message] = runtime.refused;
      r = await run(bin, args, { cwd: app, env: { ...env, NO_COLOR: '1' }, show: `${name} ${args.join(' ')}` });
      check(r.code !== 0 && message.test(r.stderr), `${name} without --allow-read: exits ${r.code} with ${message}`);
    }
  }

  console.log(`\ntarballs: ${lib.filename} ${lib.size.toLocaleString('en-US')} bytes (${lib.unpackedSize.toLocaleString('en-US')} unpacked, ${lib.entryCount} files); ` +
    `${cli.filename} ${cli.size.toLocaleString('en-US')} bytes (${cli.unpackedSize.toLocaleString('en-US')} unpacked, ${cli.entryCount} files)`);
  summary('test:consumer', counts);
}

try {
  await main();
} catch (e) {
  console.error(`test:consumer: FAILED: ${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  removeDir(tmp);
  cancel();
}
