// The training log's records (log.jsonl, one JSON object a line, with its "kind"): what an iteration
// and a validation report, as the loop writes them and the pictures and the browser app read them.

export interface IterationRecord {
  iteration: number;
  /** The total loss that was minimised. */
  loss: number;
  /** Its parts by name (e.g. ce, dice, consistency), each as it entered the total or unweighted: the caller's choice. */
  terms: Record<string, number>;
  lr: number;
  lambda?: number;
  threshold?: number;
  maskFraction?: number;
  seconds?: number;
}

export interface ValidationRecord {
  iteration: number;
  dice: number;
  cases?: number;
}
