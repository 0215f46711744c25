// The body of every pool thread. It is shipped to the thread as source text (Function.prototype.toString),
// so it must not refer to anything outside itself; the control words are those of pool.ts.
/* `port` is Node's parentPort or a Web Worker's global scope, hence the loose typing. */
export function workerMain(port: any, inBrowser: boolean): void {
  const SEQ = 0, JOIN = 1, DONE = 2, FN = 3, NARGS = 4, PARTS = 5, NEXT = 6, ERROR = 7;
  const onFirstMessage = (fn: (msg: any) => void) => {
    if (inBrowser) port.addEventListener('message', (e: any) => fn(e.data), { once: true });
    else port.once('message', fn);
  };
  onFirstMessage((msg: any) => {
    const { module, memory, ctl, args, names } = msg;
    let fns: ((...a: number[]) => void)[];
    try {
      const abort = () => { throw new Error('voxgrad wasm backend: a kernel aborted'); };
      const exports = new WebAssembly.Instance(module, { env: { memory, abort } }).exports as any;
      fns = names.map((n: string) => exports[n]);
    } catch (err) {
      port.postMessage(`error: ${(err as Error).message}`);
      return;
    }
    const c = new Int32Array(memory.buffer, ctl, 16);
    const a = new Float64Array(memory.buffer, args, 32);
    // read before saying ready: the first job may be posted the moment the pool hears it
    let seen = Atomics.load(c, SEQ);
    port.postMessage('ready');
    for (;;) {
      // a short spin catches back-to-back kernels without the cost of sleeping
      for (let i = 0; i < 20000 && Atomics.load(c, SEQ) === seen; i++);
      Atomics.wait(c, SEQ, seen);
      seen = Atomics.load(c, SEQ);
      // join the open job, unless the calling thread has already finished and closed it
      let joined = false;
      for (let v = Atomics.load(c, JOIN); v >= 0; v = Atomics.load(c, JOIN)) {
        if (Atomics.compareExchange(c, JOIN, v, v + 1) === v) { joined = true; break; }
      }
      if (!joined) continue;
      const fn = fns[c[FN]], parts = c[PARTS], argv: number[] = Array.from(a.subarray(0, c[NARGS]));
      try {
        for (let p = Atomics.add(c, NEXT, 1); p < parts; p = Atomics.add(c, NEXT, 1)) fn(...argv, p, parts);
      } catch {
        Atomics.store(c, ERROR, 1);
      }
      Atomics.add(c, DONE, 1);
      Atomics.notify(c, DONE);
    }
  });
}
