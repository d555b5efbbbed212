// What the option checks know of each lab.* builder's options (the generated table in
// options-spec.ts has this shape).
export type ValueKind = 'number' | 'string' | 'boolean' | 'array' | 'object' | 'function';
export interface FieldSpec {
  kinds: ValueKind[];
  /** the allowed strings, when the field is an enum */
  values?: (string | number | boolean)[];
}
export interface OptionsSpec {
  /** which argument holds the options */
  arg: number;
  fields: Record<string, FieldSpec>;
}
