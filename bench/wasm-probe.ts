// Watches what an engine does with WebAssembly: the bytes of each module it compiles and every
// WebAssembly.Memory it creates, imports or exports. Installed before an engine is imported (the
// cold-start child does this), it lets the benchmark report the .wasm each engine really loads and
// its memory, whatever the engine itself exposes. It only wraps the entry points; inference never
// goes through them.

export interface ProbedModule {
  readonly bytes: number;
}

const modules: ProbedModule[] = [];
const memories = new Set<WebAssembly.Memory>();
const sizes = new WeakMap<WebAssembly.Module, number>();
let installed = false;

function byteLength(source: unknown): number | undefined {
  if (source instanceof ArrayBuffer) return source.byteLength;
  if (ArrayBuffer.isView(source)) return source.byteLength;
  return undefined;
}

function noteModule(module: WebAssembly.Module, bytes: number | undefined): void {
  if (bytes !== undefined) sizes.set(module, bytes);
  modules.push({ bytes: sizes.get(module) ?? NaN });
}

function noteMemories(...objects: unknown[]): void {
  for (const o of objects) {
    if (o === null || typeof o !== 'object') continue;
    for (const v of Object.values(o as Record<string, unknown>)) {
      if (v instanceof WebAssembly.Memory) memories.add(v);
      else if (v !== null && typeof v === 'object' && !(v instanceof WebAssembly.Module)) {
        for (const w of Object.values(v as Record<string, unknown>)) if (w instanceof WebAssembly.Memory) memories.add(w);
      }
    }
  }
}

/** Wraps WebAssembly's compile and instantiate entry points and the Memory constructor (idempotent). */
export function installWasmProbe(): void {
  if (installed) return;
  installed = true;
  const W = WebAssembly as unknown as Record<string, unknown>;
  const compile = WebAssembly.compile;
  const instantiate = WebAssembly.instantiate as (s: unknown, i?: WebAssembly.Imports) => Promise<unknown>;
  const instantiateStreaming = WebAssembly.instantiateStreaming;
  const compileStreaming = WebAssembly.compileStreaming;
  const Module = WebAssembly.Module;
  const Memory = WebAssembly.Memory;

  W.compile = async (bytes: BufferSource): Promise<WebAssembly.Module> => {
    const m = await compile(bytes);
    sizes.set(m, byteLength(bytes) ?? NaN);
    return m;
  };
  W.instantiate = async (source: unknown, imports?: WebAssembly.Imports): Promise<unknown> => {
    const result = await instantiate(source, imports);
    if (source instanceof Module) {
      noteModule(source, undefined);
      noteMemories(imports, (result as WebAssembly.Instance).exports);
    } else {
      const r = result as WebAssembly.WebAssemblyInstantiatedSource;
      noteModule(r.module, byteLength(source));
      noteMemories(imports, r.instance.exports);
    }
    return result;
  };
  if (typeof instantiateStreaming === 'function') {
    W.instantiateStreaming = async (source: Response | PromiseLike<Response>, imports?: WebAssembly.Imports) => {
      const response = await source;
      const bytes = await response.clone().arrayBuffer();
      const r = await instantiateStreaming(response, imports);
      noteModule(r.module, bytes.byteLength);
      noteMemories(imports, r.instance.exports);
      return r;
    };
  }
  if (typeof compileStreaming === 'function') {
    W.compileStreaming = async (source: Response | PromiseLike<Response>) => {
      const response = await source;
      const bytes = await response.clone().arrayBuffer();
      const m = await compileStreaming(response);
      sizes.set(m, bytes.byteLength);
      return m;
    };
  }
  W.Module = new Proxy(Module, {
    construct(target, args, newTarget) {
      const m = Reflect.construct(target, args, newTarget === W.Module ? target : newTarget) as WebAssembly.Module;
      sizes.set(m, byteLength(args[0]) ?? NaN);
      return m;
    },
  });
  W.Instance = new Proxy(WebAssembly.Instance, {
    construct(target, args, newTarget) {
      const i = Reflect.construct(target, args, newTarget === W.Instance ? target : newTarget) as WebAssembly.Instance;
      noteModule(args[0] as WebAssembly.Module, undefined);
      noteMemories(args[1], i.exports);
      return i;
    },
  });
  W.Memory = new Proxy(Memory, {
    construct(target, args, newTarget) {
      const m = Reflect.construct(target, args, newTarget === W.Memory ? target : newTarget) as WebAssembly.Memory;
      memories.add(m);
      return m;
    },
  });
}

/** What the probe saw so far: module sizes in load order, and the current bytes of every memory. */
export function probed(): { modules: ProbedModule[]; memoryBytes: number[] } {
  return { modules: [...modules], memoryBytes: [...memories].map((m) => m.buffer.byteLength) };
}
