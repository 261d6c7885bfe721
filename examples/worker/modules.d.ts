// What the Workers runtime hands a module for each imported file type.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*.sqz' {
  const data: ArrayBuffer;
  export default data;
}
