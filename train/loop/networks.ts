// The networks a configuration trains: the dual-head V-Net as student (blocks checkpointed when the
// config asks) and, for methods with one, its EMA teacher from the next seed.
import { VNet } from '../../nn/vnet.ts';
import type { TrainConfig } from './config.ts';

export function createNetworks(config: TrainConfig, withTeacher: boolean): { student: VNet; teacher: VNet | null } {
  const options = { nChannels: 1, nClasses: 2, nFilters: config.model.nFilters, normalization: config.model.normalization,
                    hasDropout: true, heads: 'seg+sdm' as const };
  const student = new VNet({ ...options, seed: config.seed });
  student.checkpointBlocks = config.model.checkpoint ?? false;
  return { student, teacher: withTeacher ? new VNet({ ...options, seed: config.seed + 1 }) : null };
}
