// Learning-rate schedules. The trainer sets the optimizer's rate before every step.

export type ScheduleName = 'constant' | 'step' | 'cosine' | 'exponential';
export type ScheduleSpec =
  | { type: 'constant'; warmup?: number }
  /** multiply by `gamma` (default 0.1) every `stepSize` steps (default steps/3) */
  | { type: 'step'; stepSize?: number; gamma?: number; warmup?: number }
  /** cosine decay from lr to `minLr` (default 0) after `warmup` linear warm-up steps */
  | { type: 'cosine'; warmup?: number; minLr?: number }
  /** lr * gamma^(step / decaySteps); defaults gamma 0.1, decaySteps = steps */
  | { type: 'exponential'; gamma?: number; decaySteps?: number; warmup?: number };

export function normalizeSchedule(s: ScheduleName | ScheduleSpec | undefined): ScheduleSpec {
  if (s === undefined) return { type: 'constant' };
  if (typeof s === 'string') return { type: s } as ScheduleSpec;
  if (!['constant', 'step', 'cosine', 'exponential'].includes(s.type)) throw new Error(`unknown schedule '${String(s.type)}'`);
  return s;
}

/** learning rate at `step` (1-based) of `total` */
export function lrAt(spec: ScheduleSpec, base: number, step: number, total: number): number {
  const warmup = Math.max(0, spec.warmup ?? 0);
  const warm = warmup > 0 ? Math.min(1, step / warmup) : 1;
  switch (spec.type) {
    case 'constant':
      return base * warm;
    case 'step': {
      const size = Math.max(1, spec.stepSize ?? Math.ceil(total / 3));
      return base * warm * Math.pow(spec.gamma ?? 0.1, Math.floor(step / size));
    }
    case 'cosine': {
      const minLr = spec.minLr ?? 0;
      const p = Math.min(1, Math.max(0, (step - warmup) / Math.max(1, total - warmup)));
      return warm * (minLr + (base - minLr) * 0.5 * (1 + Math.cos(Math.PI * p)));
    }
    case 'exponential':
      return base * warm * Math.pow(spec.gamma ?? 0.1, step / Math.max(1, spec.decaySteps ?? total));
  }
}
