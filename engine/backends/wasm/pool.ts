// A pool of threads over the shared heap. A call is cut into parts (a few per thread); the calling
// thread and whichever pool threads wake in time take parts from a shared counter until none are
// left, so a thread held up by other processes on the machine costs nothing. The calling thread then
// closes the call and waits only for the threads that joined it, so kernels stay synchronous, as the
// Backend interface wants. Each part computes fixed outputs the same way whoever runs it: results do
// not depend on timing.
import { kernelNames, type KernelArgs, type KernelName, type Kernels } from './kernels.ts';
import { workerMain } from './worker.ts';

// Control words (Int32 at ctl), shared with worker.ts: job sequence number; threads that joined the
// open job (−1 once closed); joined threads that finished; kernel index; argument count; parts; next
// free part; error flag.
const SEQ = 0, JOIN = 1, DONE = 2, FN = 3, NARGS = 4, PARTS = 5, NEXT = 6, ERROR = 7;
const PARTS_PER_THREAD = 8;
/** Most parts a call is cut into (the strided kernels keep 64 bytes of index scratch per part). */
export const MAX_PARTS = 256;

interface Thread {
  terminate(): unknown;
}

async function spawn(init: Record<string, unknown>): Promise<Thread> {
  if (typeof (globalThis as any).process?.versions?.node === 'string') {
    const { Worker } = await import('node:worker_threads');
    // import() works whether Node evaluates the source as a script or, under --input-type=module, as ESM
    const source = `import('node:worker_threads').then((m) => (${workerMain.toString()})(m.parentPort, false))`;
    const w = new Worker(source, { eval: true });
    w.unref(); // idle threads must not keep the process alive
    const reply = new Promise<string>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    w.postMessage(init);
    expectReady(await reply);
    return w;
  }
  const source = `(${workerMain.toString()})(self, true)`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const w = new Worker(url);
  const reply = new Promise<string>((resolve, reject) => {
    w.addEventListener('message', (e) => resolve(e.data), { once: true });
    w.addEventListener('error', (e) => reject(new Error(e.message)), { once: true });
  });
  w.postMessage(init);
  expectReady(await reply);
  URL.revokeObjectURL(url);
  return w;
}

function expectReady(reply: string) {
  if (reply !== 'ready') throw new Error(`voxgrad wasm backend (engine/backends/wasm/pool.ts): a thread failed to start: ${reply}`);
}

/** Whether this thread may block in Atomics.wait (browsers forbid it on the main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0);
    return true;
  } catch {
    return false;
  }
}

export class Pool {
  private readonly threads: Thread[] = [];
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly blocking = canBlock();
  private size = 1;

  constructor(private readonly kernels: Kernels, private readonly module: WebAssembly.Module,
              private readonly memory: WebAssembly.Memory | null, private readonly ctlPtr: number,
              private readonly argsPtr: number) {
    const buffer = memory?.buffer ?? new ArrayBuffer(64 + 8 * 32);
    this.ctl = new Int32Array(buffer, memory ? ctlPtr : 0, 16);
    this.args = new Float64Array(buffer, memory ? argsPtr : 64, 32);
    this.ctl[JOIN] = -1;
  }

  /** Threads that run each kernel (1 = only the calling thread). */
  get count() { return this.size; }

  /** Parts a parallel call is cut into: kernel part indices (tid) stay below this. */
  get parts() { return this.size === 1 ? 1 : this.size * PARTS_PER_THREAD; }

  /** Sets the thread count, starting threads as needed; needs shared memory beyond one thread. */
  async resize(n: number) {
    n = Math.max(1, Math.min(Math.floor(n), MAX_PARTS / PARTS_PER_THREAD));
    if (n > 1 && !this.memory) throw new Error('voxgrad wasm backend: threads need shared memory, unavailable here');
    if (this.threads.length > n - 1) this.stopAll();
    while (this.threads.length < n - 1) {
      this.threads.push(await spawn({ module: this.module, memory: this.memory, ctl: this.ctlPtr, args: this.argsPtr,
                                      names: kernelNames }));
    }
    this.size = n;
  }

  /** Runs one kernel; `parallel` false keeps small jobs on the calling thread. */
  run<K extends KernelName>(name: K, args: KernelArgs<K>, parallel: boolean) {
    const fn = this.kernels[name] as (...a: number[]) => void;
    if (!parallel || this.size === 1) {
      fn(...args, 0, 1);
      return;
    }
    const c = this.ctl, parts = this.size * PARTS_PER_THREAD;
    // open the job: every field is written before JOIN lets a thread in
    this.args.set(args);
    c[FN] = kernelNames.indexOf(name);
    c[NARGS] = args.length;
    c[PARTS] = parts;
    c[NEXT] = 0;
    c[DONE] = 0;
    c[ERROR] = 0;
    Atomics.store(c, JOIN, 0);
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    let failure: unknown = null;
    try {
      for (let p = Atomics.add(c, NEXT, 1); p < parts; p = Atomics.add(c, NEXT, 1)) fn(...args, p, parts);
    } catch (err) {
      failure = err;
      Atomics.store(c, NEXT, parts); // the joined threads stop taking parts
    }
    // close the job; late threads see −1 and go back to sleep without touching it
    let joined = Atomics.load(c, JOIN);
    for (let v; (v = Atomics.compareExchange(c, JOIN, joined, -1)) !== joined;) joined = v;
    for (let spins = 0, done; (done = Atomics.load(c, DONE)) < joined; spins++) {
      if (this.blocking && spins > 1000) Atomics.wait(c, DONE, done, 10);
    }
    if (failure) throw failure;
    if (c[ERROR]) throw new Error(`voxgrad wasm backend: kernel ${name} failed on a pool thread`);
  }

  private stopAll() {
    for (const t of this.threads) t.terminate();
    this.threads.length = 0;
  }

  dispose() {
    this.stopAll();
    this.size = 1;
  }
}
