// The body of every pool thread. It is shipped to the thread as source text (Function.prototype.toString),
// so it must not refer to anything outside itself. Control words (Int32 at ctl): 0 job sequence number,
// 1 threads still running the job, 2 kernel index (−1 = exit), 3 thread count, 4 argument count, 5 error flag.
/* `port` is Node's parentPort or a Web Worker's global scope, hence the loose typing. */
export function workerMain(port: any, inBrowser: boolean): void {
  const onFirstMessage = (fn: (msg: any) => void) => {
    if (inBrowser) port.addEventListener('message', (e: any) => fn(e.data), { once: true });
    else port.once('message', fn);
  };
  onFirstMessage((msg: any) => {
    const { module, memory, ctl, args, names, tid } = msg;
    let fns: ((...a: number[]) => void)[];
    try {
      const abort = () => { throw new Error('voxgrad wasm backend: a kernel aborted'); };
      const exports = new WebAssembly.Instance(module, { env: { memory, abort } }).exports as any;
      fns = names.map((n: string) => exports[n]);
    } catch (err) {
      port.postMessage(`error: ${(err as Error).message}`);
      return;
    }
    const c = new Int32Array(memory.buffer, ctl, 8);
    const a = new Float64Array(memory.buffer, args, 32);
    // read before saying ready: the first job may be posted the moment the pool hears it
    let seen = Atomics.load(c, 0);
    port.postMessage('ready');
    for (;;) {
      // a short spin catches back-to-back kernels without the cost of sleeping
      for (let i = 0; i < 4000 && Atomics.load(c, 0) === seen; i++);
      Atomics.wait(c, 0, seen);
      seen = Atomics.load(c, 0);
      const fn = c[2];
      if (fn < 0) return;
      const nt = c[3], argv: number[] = Array.from(a.subarray(0, c[4]));
      try {
        fns[fn](...argv, tid, nt);
      } catch {
        Atomics.store(c, 5, 1);
      }
      if (Atomics.sub(c, 1, 1) === 1) Atomics.notify(c, 1);
    }
  });
}
