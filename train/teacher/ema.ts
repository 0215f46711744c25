// The mean teacher: after each optimiser step θ′ ← α·θ′ + (1 − α)·θ over parameters only. The
// teacher's batch-norm buffers are its own, moved by its own train-mode forwards (UA-MT's
// update_ema_variables iterates model.parameters()).
import { noGrad } from '../../engine/autograd.ts';
import { scope } from '../../engine/memory.ts';
import { add, mul } from '../../engine/ops/elementwise.ts';
import type { Module } from '../../nn/module.ts';

export function updateEma(teacher: Module, student: Module, alpha: number) {
  const own = student.namedParameters();
  const theirs = teacher.namedParameters();
  if (own.length !== theirs.length || own.some(([n], i) => n !== theirs[i][0])) {
    throw new Error('voxgrad: the EMA teacher and the student have different parameters');
  }
  noGrad(() => scope(() => {
    theirs.forEach(([, t], i) => t.assign(add(mul(t, alpha), mul(own[i][1], 1 - alpha))));
  }));
}
