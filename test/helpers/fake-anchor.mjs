// A stand-in for the benchmarks' PyTorch anchors (bench/torch_*.py), speaking their protocol: a header
// line, then one answer per request, every time FAKE_SECONDS (default 0.001) and every peak 1 MiB.
// Run as `PYTHON=<a wrapper that execs node on this file>`, so that the ratios are known in advance.
import { createInterface } from 'node:readline';

const seconds = Number(process.env.FAKE_SECONDS ?? 0.001);
const times = (reps) => Array.from({ length: reps }, () => seconds);
console.log(JSON.stringify({ torch: 'fake', threads: 1, device: 'fake device' }));
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  if (r.op === 'peak') console.log(JSON.stringify({ peak_bytes: 1024 * 1024 }));
  else if (r.op === 'conv') console.log(JSON.stringify({ fwd: times(r.reps), dx: times(r.reps), dw: times(r.reps) }));
  else console.log(JSON.stringify({ seconds: times(r.reps), batch: times(r.reps), windows: 1 }));
}
