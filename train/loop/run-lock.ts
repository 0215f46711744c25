// One training process per run folder: two runs writing the same checkpoint and log (a second
// --resume started by mistake, the runner and a hand-started run) would interleave them. The lock is
// a file created exclusively, holding the owner's pid and host. A lock whose process is gone (killed,
// crashed) is removed if it still holds what was read, and exclusive creation then decides which of
// any processes racing for the folder takes it.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export const LOCK_FILE = 'train.lock';

interface Holder { pid: number; host: string; since: string }

/** A zombie (killed, not yet reaped: in a container whose first process never reaps) is gone too. */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false; // no /proc here (not Linux): signal 0 alone decides
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !zombie(pid);
}

function read(path: string): { text: string; holder: Holder | null } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const h = JSON.parse(text);
    return { text, holder: Number.isInteger(h.pid) && typeof h.host === 'string' ? h : null };
  } catch {
    return { text, holder: null }; // a lock cut short by a crash while it was written
  }
}

/** Creates the lock or says who holds it; returns the release function. */
export function lockRunFolder(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${mine}\n`);
      } finally {
        closeSync(fd);
      }
      return () => {
        if (read(path)?.text.trim() === mine) unlinkSync(path);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${path}: cannot create the run folder's lock: ${(e as Error).message}`);
    }
    const seen = read(path);
    if (!seen) continue;
    const h = seen.holder;
    if (h && (h.host !== hostname() || alive(h.pid))) {
      const who = h.host === hostname() ? `process ${h.pid}` : `process ${h.pid} on ${h.host}`;
      throw new Error(`${dir}: another training run (${who}, since ${h.since}) is writing this folder; ` +
                      `wait for it or stop it, or choose another --out (if no run is there any more, delete ${path})`);
    }
    // the holder is gone: take its place, unless another process already has
    if (read(path)?.text === seen.text) unlinkSync(path);
  }
  throw new Error(`${path}: could not take the run folder's lock (other processes kept taking it)`);
}
