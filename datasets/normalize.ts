// Per-volume intensity normalisation. The LA h5 files are already z-scored over the original
// (uncropped) scan, so they are used as stored; raw scans (MSD, NIfTI from elsewhere) vary in
// range from case to case (hippocampus: 8-bit to 1e6) and are z-scored over the whole volume.

export type Normalization = 'zscore' | 'none';

/** z-score with numpy's population standard deviation (ddof = 0); a constant volume becomes 0. */
export function zscore(data: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  const mean = sum / data.length;
  let sq = 0;
  for (let i = 0; i < data.length; i++) sq += (data[i] - mean) ** 2;
  const std = Math.sqrt(sq / data.length);
  const out = new Float32Array(data.length);
  if (std > 0) for (let i = 0; i < data.length; i++) out[i] = (data[i] - mean) / std;
  return out;
}

export function normalize(data: Float32Array, how: Normalization): Float32Array {
  return how === 'zscore' ? zscore(data) : data;
}
