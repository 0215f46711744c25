// TwoStreamBatchSampler of UA-MT / DTC / UG-MCL (code/dataloaders/*.py): every batch is a run of
// labelled indices followed by a run of unlabelled ones. An epoch is one permutation of the labelled
// indices cut into ⌊nLabeled / labeledBatch⌋ batches. The unlabelled indices are a chain of fresh
// permutations batched across their joins (iterate_eternally + grouper), and the chain restarts at
// every epoch because the reference builds it anew in each __iter__.
import type { Generator } from '../../engine/random.ts';

export interface TwoStreamOptions {
  /** Indices 0..nLabeled−1 are labelled, nLabeled..nTotal−1 unlabelled. */
  nLabeled: number;
  nTotal: number;
  labeledBatch: number;
  /** 0 for supervised training: batches hold labelled indices only. */
  unlabeledBatch: number;
}

export interface TwoStreamState extends TwoStreamOptions {
  /** The current epoch's labelled permutation and how much of it is used. */
  labeled: number[];
  labeledPos: number;
  /** The current unlabelled permutation and how much of it is used. */
  unlabeled: number[];
  unlabeledPos: number;
  /** Epochs started so far. */
  epoch: number;
}

const OPTION_KEYS = ['nLabeled', 'nTotal', 'labeledBatch', 'unlabeledBatch'] as const;

/** Fisher–Yates on [first, first + n), drawing from the top down. */
function permutation(first: number, n: number, g: Pick<Generator, 'int'>): number[] {
  const p = Array.from({ length: n }, (_, i) => first + i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

function isPermutation(p: unknown, first: number, n: number): p is number[] {
  if (!Array.isArray(p) || p.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const v of p) {
    if (!Number.isInteger(v) || v < first || v >= first + n || seen[v - first]) return false;
    seen[v - first] = 1;
  }
  return true;
}

export class TwoStreamBatchSampler {
  readonly options: TwoStreamOptions;
  private labeled: number[] = [];
  private labeledPos = 0;
  private unlabeled: number[] = [];
  private unlabeledPos = 0;
  private epochs = 0;

  constructor(options: TwoStreamOptions, private readonly g: Pick<Generator, 'int'>) {
    const { nLabeled, nTotal, labeledBatch, unlabeledBatch } = options;
    for (const key of OPTION_KEYS)
      if (!Number.isInteger(options[key]) || options[key] < 0) throw new Error(`voxgrad: TwoStreamBatchSampler: ${key} must be a non-negative integer, got ${options[key]}`);
    if (labeledBatch < 1) throw new Error('voxgrad: TwoStreamBatchSampler: labeledBatch must be at least 1');
    if (nLabeled < labeledBatch) throw new Error(`voxgrad: TwoStreamBatchSampler: ${nLabeled} labelled cases cannot fill a labelled batch of ${labeledBatch}`);
    if (nTotal < nLabeled) throw new Error(`voxgrad: TwoStreamBatchSampler: nTotal ${nTotal} is less than nLabeled ${nLabeled}`);
    if (nTotal - nLabeled < unlabeledBatch) throw new Error(`voxgrad: TwoStreamBatchSampler: ${nTotal - nLabeled} unlabelled cases cannot fill an unlabelled batch of ${unlabeledBatch}`);
    this.options = { nLabeled, nTotal, labeledBatch, unlabeledBatch };
  }

  /** Batches in one epoch (the reference's __len__). */
  get batchesPerEpoch(): number {
    return Math.floor(this.options.nLabeled / this.options.labeledBatch);
  }

  /** Epochs started so far; the batch just returned by next() belongs to epoch `epoch` (1-based). */
  get epoch(): number {
    return this.epochs;
  }

  next(): number[] {
    const { nLabeled, nTotal, labeledBatch, unlabeledBatch } = this.options;
    if (this.labeledPos + labeledBatch > this.labeled.length) {
      this.labeled = permutation(0, nLabeled, this.g);
      this.labeledPos = 0;
      this.unlabeled = [];
      this.unlabeledPos = 0;
      this.epochs++;
    }
    const batch = this.labeled.slice(this.labeledPos, this.labeledPos + labeledBatch);
    this.labeledPos += labeledBatch;
    for (let i = 0; i < unlabeledBatch; i++) {
      if (this.unlabeledPos === this.unlabeled.length) {
        this.unlabeled = permutation(nLabeled, nTotal - nLabeled, this.g);
        this.unlabeledPos = 0;
      }
      batch.push(this.unlabeled[this.unlabeledPos++]);
    }
    return batch;
  }

  getState(): TwoStreamState {
    return {
      ...this.options,
      labeled: [...this.labeled], labeledPos: this.labeledPos,
      unlabeled: [...this.unlabeled], unlabeledPos: this.unlabeledPos,
      epoch: this.epochs,
    };
  }

  setState(state: TwoStreamState) {
    const bad = (why: string) => new Error(`voxgrad: TwoStreamBatchSampler.setState: ${why}`);
    if (typeof state !== 'object' || state === null) throw bad('state is not an object');
    for (const key of OPTION_KEYS)
      if (state[key] !== this.options[key]) throw bad(`${key} is ${state[key]} in the state but ${this.options[key]} in this sampler`);
    const { nLabeled, nTotal } = this.options;
    const fresh = (p: unknown) => Array.isArray(p) && p.length === 0;
    if (!fresh(state.labeled) && !isPermutation(state.labeled, 0, nLabeled)) throw bad('labeled is not a permutation of the labelled indices');
    if (!fresh(state.unlabeled) && !isPermutation(state.unlabeled, nLabeled, nTotal - nLabeled)) throw bad('unlabeled is not a permutation of the unlabelled indices');
    const position = (pos: unknown, p: number[]) => Number.isInteger(pos) && (pos as number) >= 0 && (pos as number) <= p.length;
    if (!position(state.labeledPos, state.labeled) || !position(state.unlabeledPos, state.unlabeled)) throw bad('a position is outside its permutation');
    if (!Number.isInteger(state.epoch) || state.epoch < 0) throw bad('epoch is not a non-negative integer');
    this.labeled = [...state.labeled];
    this.labeledPos = state.labeledPos;
    this.unlabeled = [...state.unlabeled];
    this.unlabeledPos = state.unlabeledPos;
    this.epochs = state.epoch;
  }
}
