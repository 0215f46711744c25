// A training run's configuration: the data, the network, the method and its options, the
// schedules. Every field is checked here, so a bad config stops before anything is loaded, with
// the file and field named. No file access: config-file.ts reads configs/*.json, the browser app
// builds its JSON from the page.
import type { Layout } from '../../datasets/dataset.ts';
import type { Normalization } from '../../datasets/normalize.ts';
import { METHOD_NAMES, type MethodName } from '../methods/method.ts';
import { DTC_DEFAULTS, type DtcOptions } from '../methods/dtc.ts';
import { MEAN_TEACHER_DEFAULTS, type MeanTeacherOptions } from '../methods/mean-teacher.ts';
import { UGMCL_CODE, UGMCL_PAPER, type UgmclOptions } from '../methods/ugmcl.ts';
import type { ConsistencySchedule, LrSchedule } from '../schedules.ts';
import { Fields, type Json } from './config-fields.ts';

export type Shape3 = [number, number, number];

export interface TrainConfig {
  /** Where it came from, for messages. */
  file: string;
  name: string;
  method: MethodName;
  data: {
    root: string;
    /** Training list; its first `labeled` IDs are the labelled cases, the rest unlabelled. */
    train: string;
    labeled: number;
    /** Cases scored during training (never trained on). */
    validation?: string;
    layout?: Layout;
    normalization?: Normalization;
    /** Train and validate at 1/downsample of the scan's resolution (absent: full resolution). */
    downsample?: number;
    /** 'nonzero': label > 0 is foreground (hippocampus); a number k: label == k. */
    foreground: 'nonzero' | number;
  };
  /** checkpoint: recompute each V-Net block's forward in backward (less memory, more time); absent is off. */
  model: { nFilters: number; normalization: 'batchnorm' | 'instancenorm' | 'groupnorm' | 'none'; checkpoint?: boolean };
  patch: Shape3;
  batch: { labeled: number; unlabeled: number };
  iterations: number;
  seed: number;
  optimizer: LrSchedule & { momentum: number; weightDecay: number };
  consistency: ConsistencySchedule;
  ema: { decay: number };
  noise: { std: number; clip: number };
  ugmcl: UgmclOptions;
  meanTeacher: MeanTeacherOptions;
  dtc: DtcOptions;
  supervised: { supWeight: number };
  validation: { every: number; stride: Shape3; maxCases: number };
  checkpoint: { every: number };
}

const TOP = ['name', 'method', 'data', 'model', 'patch', 'batch', 'iterations', 'seed', 'optimizer', 'consistency',
             'ema', 'noise', 'ugmcl', 'meanTeacher', 'dtc', 'supervised', 'validation', 'checkpoint', 'comment'];

/** `at` turns a data path as written into the one to open (relative to the config file's folder, for files). */
export function parseConfig(json: Json, file: string, at: (path: string) => string): TrainConfig {
  const f = new Fields(file, json);
  f.only(TOP);
  const method = f.choice('method', METHOD_NAMES);

  const d = f.section('data');
  d.only(['root', 'train', 'labeled', 'validation', 'layout', 'normalization', 'downsample', 'foreground']);
  const fg = d.obj.foreground ?? 'nonzero';
  if (fg !== 'nonzero' && !(typeof fg === 'number' && Number.isInteger(fg) && fg > 0)) {
    d.fail('foreground', `must be "nonzero" or a positive label value, got ${JSON.stringify(fg)}`);
  }
  const validationList = d.optionalString('validation');
  const data: TrainConfig['data'] = {
    root: at(d.string('root')), train: at(d.string('train')), labeled: d.number('labeled', undefined, { int: true, min: 1 }),
    validation: validationList && at(validationList),
    layout: d.has('layout') ? d.choice('layout', ['h5', 'msd'] as const) : undefined,
    normalization: d.has('normalization') ? d.choice('normalization', ['zscore', 'none'] as const) : undefined,
    // absent rather than 1 by default, so that checkpoints of configs without it still resume
    downsample: d.has('downsample') ? d.number('downsample', 1, { int: true, min: 1, max: 8 }) : undefined,
    foreground: fg as 'nonzero' | number,
  };

  const m = f.section('model');
  m.only(['nFilters', 'normalization', 'checkpoint']);
  const model = {
    nFilters: m.number('nFilters', 16, { int: true, min: 1 }),
    normalization: m.choice('normalization', ['batchnorm', 'instancenorm', 'groupnorm', 'none'] as const, 'batchnorm'),
    // absent rather than false by default, so that checkpoints of configs without it still resume
    checkpoint: m.has('checkpoint') ? m.boolean('checkpoint', false) : undefined,
  };
  const patch = f.triple('patch', undefined, (v) => (v % 16 ? 'must be divisible by 16 in every dimension (four 2× downsamplings)' : null));

  const b = f.section('batch');
  b.only(['labeled', 'unlabeled']);
  const batch = { labeled: b.number('labeled', 2, { int: true, min: 1 }), unlabeled: b.number('unlabeled', 2, { int: true, min: 0 }) };
  if (method !== 'supervised' && batch.unlabeled === 0) b.fail('unlabeled', `must be ≥ 1 for method "${method}", which learns from unlabelled data`);

  const iterations = f.number('iterations', undefined, { int: true, min: 1 });
  const o = f.section('optimizer');
  o.only(['lr', 'momentum', 'weightDecay', 'lrStep', 'lrGamma']);
  const optimizer = {
    base: o.number('lr', 0.01, { above: 0 }), momentum: o.number('momentum', 0.9, { min: 0, max: 1 }),
    weightDecay: o.number('weightDecay', 1e-4, { min: 0 }), step: o.number('lrStep', 2500, { int: true, min: 0 }),
    gamma: o.number('lrGamma', 0.1, { above: 0 }),
  };
  const c = f.section('consistency');
  c.only(['weight', 'rampup', 'every']);
  const consistency = {
    weight: c.number('weight', 0.1, { min: 0 }), rampup: c.number('rampup', 40, { min: 0 }), every: c.number('every', 150, { int: true, min: 1 }),
  };
  const e = f.section('ema');
  e.only(['decay']);
  const n = f.section('noise');
  n.only(['std', 'clip']);

  const u = f.section('ugmcl');
  u.only(['variant', ...Object.keys(UGMCL_PAPER)]);
  const variant = u.choice('variant', ['paper', 'code'] as const, 'paper');
  const base = { ...UGMCL_PAPER, ...(variant === 'code' ? UGMCL_CODE : {}) };
  const ugmcl: UgmclOptions = {
    variant, beta: u.number('beta', base.beta, { min: 0, max: 1 }), dis: u.choice('dis', ['mse', 'dice'] as const, base.dis),
    supWeight: u.number('supWeight', base.supWeight, { min: 0 }), itcScale: u.number('itcScale', base.itcScale, { min: 0 }),
    mask: u.boolean('mask', base.mask), threshold: u.choice('threshold', ['ramp', 'fixed'] as const, base.threshold),
    crossTask: u.boolean('crossTask', base.crossTask), passes: evenPasses(u, base.passes),
  };
  const mt = f.section('meanTeacher');
  mt.only(['supWeight', 'passes']);
  const dt = f.section('dtc');
  dt.only(['sdfWeight', 'consistency']);
  const s = f.section('supervised');
  s.only(['supWeight']);
  const v = f.section('validation');
  v.only(['every', 'stride', 'maxCases']);
  const k = f.section('checkpoint');
  k.only(['every']);

  const config: TrainConfig = {
    file, name: f.string('name', method), method, data, model, patch, batch, iterations,
    seed: f.number('seed', 1337, { int: true, min: 0 }), optimizer, consistency,
    ema: { decay: e.number('decay', 0.99, { min: 0, max: 1 }) },
    noise: { std: n.number('std', 0.1, { min: 0 }), clip: n.number('clip', 0.2, { min: 0 }) },
    ugmcl,
    meanTeacher: { supWeight: mt.number('supWeight', MEAN_TEACHER_DEFAULTS.supWeight, { min: 0 }), passes: evenPasses(mt, MEAN_TEACHER_DEFAULTS.passes) },
    dtc: { sdfWeight: dt.number('sdfWeight', DTC_DEFAULTS.sdfWeight, { min: 0 }), consistency: dt.number('consistency', DTC_DEFAULTS.consistency, { min: 0 }) },
    supervised: { supWeight: s.number('supWeight', 1, { min: 0 }) },
    validation: {
      every: v.number('every', 0, { int: true, min: 0 }),
      stride: v.triple('stride', patch.map((p) => Math.max(1, p / 2)) as Shape3, () => null),
      maxCases: v.number('maxCases', 0, { int: true, min: 0 }),
    },
    checkpoint: { every: k.number('every', 500, { int: true, min: 1 }) },
  };
  if (config.validation.every > 0 && !data.validation) v.fail('every', 'needs "data.validation", the list of cases to score');
  return config;
}

function evenPasses(f: Fields, fallback: number): number {
  const p = f.number('passes', fallback, { int: true, min: 2 });
  if (p % 2) f.fail('passes', `must be even (the batch is repeated twice per pass, as UA-MT does), got ${p}`);
  return p;
}
