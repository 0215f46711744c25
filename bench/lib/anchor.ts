// A PyTorch anchor as a child process that answers one JSON request a line, so that our timings and
// PyTorch's alternate under the same load. Each section opens its own process: its resident
// high-water mark (ru_maxrss, the Python runtime included) is then that section's PyTorch peak.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** PYTHON, else Debian's interpreter (where python3-torch lives), else python3 on the PATH. */
export const python = () => process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

export interface AnchorOptions { threads: number; device: string; tf32?: boolean }

export interface Anchor {
  /** What the script reported on start: torch version, threads, device name. */
  header: { torch: string; threads: number; device: string };
  ask<T = Record<string, unknown>>(request: object): Promise<T>;
  /** Ends the process; resolves to its peak memory: maxRSS on CPU, CUDA's peak allocation on a GPU. */
  close(): Promise<number>;
}

export async function openAnchor(script: string, opts: AnchorOptions, args: string[] = []): Promise<Anchor> {
  const argv = [script, '--threads', String(opts.threads), '--device', opts.device, ...(opts.tf32 ? ['--tf32'] : []), ...args];
  const child = spawn(python(), argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`${script} exited (code ${child.exitCode}); run \`${python()} ${argv.join(' ')}\` to see why`);
    return JSON.parse(line.value);
  };
  const header = await next();
  return {
    header,
    async ask(request) { child.stdin.write(`${JSON.stringify(request)}\n`); return next(); },
    async close() {
      child.stdin.write(`${JSON.stringify({ op: 'peak' })}\n`);
      const { peak_bytes: peak } = await next();
      child.stdin.end();
      return peak;
    },
  };
}
