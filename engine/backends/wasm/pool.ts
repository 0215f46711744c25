// A pool of threads over the shared heap. The calling thread takes part as thread 0 and blocks until
// the others finish, so kernels stay synchronous, as the Backend interface wants. Every job goes to
// every thread; each kernel splits its own index space by output ranges, never racing on a sum.
import { kernelNames, type KernelName, type Kernels } from './kernels.ts';
import { workerMain } from './worker.ts';

const SEQ = 0, PENDING = 1, FN = 2, NT = 3, NARGS = 4, ERROR = 5;

interface Thread {
  postMessage(msg: unknown): void;
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
    await expectReady(await reply);
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
  await expectReady(await reply);
  URL.revokeObjectURL(url);
  return w;
}

async function expectReady(reply: string) {
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
    const buffer = memory?.buffer ?? new ArrayBuffer(8 * 40);
    this.ctl = new Int32Array(buffer, memory ? ctlPtr : 0, 8);
    this.args = new Float64Array(buffer, memory ? argsPtr : 64, 32);
  }

  /** Threads that run each kernel (1 = only the calling thread). */
  get count() { return this.size; }

  /** Sets the thread count, starting threads as needed; needs shared memory beyond one thread. */
  async resize(n: number) {
    n = Math.max(1, Math.floor(n));
    if (n > 1 && !this.memory) throw new Error('voxgrad wasm backend: threads need shared memory, unavailable here');
    // every thread takes every job, so shrinking restarts the pool at the new size
    if (this.threads.length > n - 1) this.stopAll();
    while (this.threads.length < n - 1) {
      this.threads.push(await spawn({ module: this.module, memory: this.memory, ctl: this.ctlPtr, args: this.argsPtr,
                                      names: kernelNames, tid: this.threads.length + 1 }));
    }
    this.size = n;
  }

  /** Runs one kernel; `parallel` false keeps small jobs on the calling thread. */
  run(name: KernelName, args: number[], parallel: boolean) {
    const fn = this.kernels[name] as (...a: number[]) => void;
    const nt = parallel ? this.size : 1;
    if (nt === 1) {
      fn(...args, 0, 1);
      return;
    }
    const c = this.ctl;
    this.args.set(args);
    c[FN] = kernelNames.indexOf(name);
    c[NT] = nt;
    c[NARGS] = args.length;
    c[ERROR] = 0;
    Atomics.store(c, PENDING, nt - 1);
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    let failure: unknown = null;
    try {
      fn(...args, 0, nt);
    } catch (err) {
      failure = err;
    }
    for (let spins = 0, v; (v = Atomics.load(c, PENDING)) !== 0; spins++) {
      if (this.blocking && spins > 2000) Atomics.wait(c, PENDING, v, 100);
    }
    if (failure) throw failure;
    if (c[ERROR]) throw new Error(`voxgrad wasm backend: kernel ${name} failed on a pool thread`);
  }

  private stopAll() {
    const c = this.ctl;
    c[FN] = -1;
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    for (const t of this.threads) t.terminate();
    this.threads.length = 0;
  }

  dispose() {
    if (this.threads.length) this.stopAll();
    this.size = 1;
  }
}
