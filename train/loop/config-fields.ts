// Reading one JSON config field at a time, each mistake a message naming the file and the field.
export class ConfigError extends Error {}

export type Json = Record<string, unknown>;

export class Fields {
  constructor(readonly file: string, readonly obj: Json, readonly prefix = '') {}

  fail(key: string, problem: string): never {
    throw new ConfigError(`${this.file}: "${this.prefix}${key}" ${problem}`);
  }

  has(key: string) {
    return this.obj[key] !== undefined;
  }

  section(key: string): Fields {
    const v = this.obj[key] ?? {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, 'must be an object');
    return new Fields(this.file, v as Json, `${this.prefix}${key}.`);
  }

  number(key: string, fallback: number | undefined, check: { int?: boolean; min?: number; max?: number; above?: number } = {}): number {
    const v = this.obj[key] ?? fallback;
    if (v === undefined) this.fail(key, 'is required');
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${JSON.stringify(v)}`);
    if (check.int && !Number.isInteger(v)) this.fail(key, `must be an integer, got ${v}`);
    if (check.min !== undefined && v < check.min) this.fail(key, `must be ≥ ${check.min}, got ${v}`);
    if (check.above !== undefined && v <= check.above) this.fail(key, `must be > ${check.above}, got ${v}`);
    if (check.max !== undefined && v > check.max) this.fail(key, `must be ≤ ${check.max}, got ${v}`);
    return v;
  }

  string(key: string, fallback?: string): string {
    const v = this.obj[key] ?? fallback;
    if (v === undefined) this.fail(key, 'is required');
    if (typeof v !== 'string' || !v) this.fail(key, `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  choice<T extends string>(key: string, options: readonly T[], fallback?: T): T {
    const v = this.obj[key] ?? fallback;
    if (v === undefined) this.fail(key, `is required (one of ${options.join(', ')})`);
    if (!options.includes(v as T)) this.fail(key, `must be one of ${options.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.obj[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  triple(key: string, fallback: [number, number, number] | undefined, check: (v: number) => string | null): [number, number, number] {
    const v = this.obj[key] ?? fallback;
    if (v === undefined) this.fail(key, 'is required');
    if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 1)) {
      this.fail(key, `must be three positive integers, got ${JSON.stringify(v)}`);
    }
    for (const x of v as number[]) {
      const problem = check(x);
      if (problem) this.fail(key, `${problem}, got ${JSON.stringify(v)}`);
    }
    return v as [number, number, number];
  }

  /** Fails on any key not in `known`, so a misspelt option is never silently ignored. */
  only(known: readonly string[]) {
    for (const k of Object.keys(this.obj)) {
      if (!known.includes(k)) this.fail(k, `is not a known field (known: ${known.join(', ')})`);
    }
  }
}
