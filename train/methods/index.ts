// The method a config names, built with its options.
import type { TrainConfig } from '../loop/config.ts';
import { Dtc } from './dtc.ts';
import { MeanTeacher } from './mean-teacher.ts';
import type { Method } from './method.ts';
import { Supervised } from './supervised.ts';
import { Ugmcl } from './ugmcl.ts';

export function createMethod(c: TrainConfig): Method {
  switch (c.method) {
    case 'supervised': return new Supervised(c.supervised);
    case 'mt':
    case 'uamt': return new MeanTeacher(c.method, c.meanTeacher, c.consistency, c.iterations);
    case 'dtc': return new Dtc(c.dtc, c.consistency);
    case 'ugmcl': return new Ugmcl(c.ugmcl, c.consistency, c.iterations);
  }
}
