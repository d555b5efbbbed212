// The contract of the Import dialog's one request: what the host says about a
// dataset it inspected (src/engine/data/import/preview.ts makes it).
import { z } from 'zod';

export const InspectInput = z.object({
  /** relative to the workspace folder, or absolute */
  path: z.string().min(1).max(4096),
  /** the options lab.data.load takes (checked by the importer) */
  options: z.record(z.string(), z.unknown()).optional(),
});

export const ImportSummary = z.object({
  name: z.string(),
  format: z.string(),
  kind: z.enum(['image', 'points', 'sequence']),
  shape: z.array(z.number()),
  dim: z.number(),
  binary: z.boolean(),
  rows: z.object({ train: z.number(), val: z.number(), test: z.number() }),
  classes: z.number().nullable(),
  classNames: z.array(z.string()),
  range: z.object({ min: z.number(), max: z.number() }),
  fingerprint: z.string(),
  files: z.number(),
  bytes: z.number(),
  notes: z.array(z.string()),
  /** the preview PNG, relative to the artifacts folder (for artifactUrl), or null */
  preview: z.string().nullable(),
  /** text and CSV: the first lines of the file */
  sample: z.string().nullable(),
  levels: z.number().nullable(),
  sampleRate: z.number().nullable(),
});
export type ImportSummary = z.infer<typeof ImportSummary>;

/** one of the two is set: a summary, or the importer's error (naming the file) */
export const InspectOutput = z.object({ summary: ImportSummary.nullable(), error: z.string().nullable() });
