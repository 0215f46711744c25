// The messages between the page and its training worker. Cases travel as the files' own bytes, so
// the worker reads them exactly as `voxgrad train` reads files; checkpoints travel as safetensors
// bytes, the same format the CLI writes, so either can resume the other's.
import type { IterationLog, ValidationLog } from '../../train/loop/session.ts';

export interface CaseFiles {
  name: string;
  image: Uint8Array;
  /** Required for labelled and validation cases; an unlabelled case's label, if any, is never read. */
  label?: Uint8Array;
}

export type Role = 'labelled' | 'unlabelled' | 'validation';

export type ToWorker =
  | {
    kind: 'start';
    backend: 'wasm' | 'webgpu';
    threads: number;
    /** A training config as `voxgrad train` reads it (train/loop/config.ts), its data paths unused. */
    config: string;
    labelled: CaseFiles[];
    unlabelled: CaseFiles[];
    validation: CaseFiles[];
    /** A training checkpoint of the same config to continue from. */
    resume?: { name: string; bytes: Uint8Array };
  }
  | { kind: 'pause' }
  | { kind: 'continue' }
  | { kind: 'stop' };

export type FromWorker =
  | { kind: 'info'; message: string }
  | { kind: 'iteration'; record: IterationLog; total: number }
  | { kind: 'validation'; record: ValidationLog }
  /** The training state after `iteration` iterations, to resume from (here or in the CLI). */
  | { kind: 'checkpoint'; iteration: number; state: Uint8Array }
  | { kind: 'paused'; iteration: number }
  | { kind: 'running' }
  /** Training ended (all iterations, or stopped): the student as a model, and the state to continue from. */
  | { kind: 'done'; iteration: number; stopped: boolean; model: Uint8Array; state: Uint8Array }
  | { kind: 'error'; message: string };
