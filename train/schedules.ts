// Every schedule of the training recipes as a pure function of the iteration t (0-based, the value
// the reference loops read before incrementing iter_num), docs/method.md §4–§5.

/** CuriousAI's sigmoid ramp-up r(x, L) = exp(−5·(1 − clip(x, 0, L)/L)²); 1 when L = 0. */
export function sigmoidRampup(x: number, length: number): number {
  if (length === 0) return 1;
  const phase = 1 - Math.min(Math.max(x, 0), length) / length;
  return Math.exp(-5 * phase * phase);
}

export interface ConsistencySchedule {
  /** The weight reached at the end of the ramp (0.1 in the papers). */
  weight: number;
  /** Ramp length in steps of `every` iterations (40 on LA). */
  rampup: number;
  /** λ changes once per this many iterations (150 in the reference code). */
  every: number;
}

/** λ(t) = weight · r(⌊t/every⌋, rampup): stepwise, as the reference code computes it. */
export function consistencyWeight(t: number, s: ConsistencySchedule): number {
  return s.weight * sigmoidRampup(Math.floor(t / s.every), s.rampup);
}

/** The entropy threshold thr(t) = (¾ + ¼·r(t, tMax))·ln 2, from ¾·ln 2 up to ln 2. */
export function uncertaintyThreshold(t: number, maxIterations: number): number {
  return (0.75 + 0.25 * sigmoidRampup(t, maxIterations)) * Math.LN2;
}

export interface LrSchedule {
  base: number;
  /** Multiply by `gamma` every `step` iterations (LA: 0.1 every 2500); step 0 keeps it constant. */
  step: number;
  gamma: number;
}

/** The learning rate of the optimiser step taken at iteration t. */
export function learningRate(t: number, s: LrSchedule): number {
  return s.step > 0 ? s.base * s.gamma ** Math.floor(t / s.step) : s.base;
}

/** The EMA decay α_t = min(1 − 1/(t+1), maxDecay): a copy at t = 0, the average of the first steps, then 0.99. */
export function emaDecay(t: number, maxDecay = 0.99): number {
  return Math.min(1 - 1 / (t + 1), maxDecay);
}
