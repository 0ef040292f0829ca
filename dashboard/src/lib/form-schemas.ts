import {
  CommandSchema,
  EnvKeySchema,
  EnvValueSchema,
  GitRefSchema,
  ProjectCommandSchema,
  QuickDeployBodySchema,
  RegionListSchema,
  RelativeDirSchema,
  type UpdateProjectBody,
} from '@deploysphere/contracts';
import { z } from 'zod';

/**
 * The forms' schemas, for react-hook-form's zod resolver. Each is the contract's own schema,
 * adjusted only where a form field differs from the wire: an empty optional text field means
 * "not set". So the messages under the fields are the server's wording, and what a form submits
 * is the body the API checks.
 */

/** Output directory: empty means "detect it". */
const optionalDir = z
  .string()
  .transform((s) => (s.trim() ? s : undefined))
  .pipe(RelativeDirSchema.optional());

/** A command on the deploy form: empty means "not set" (the detected framework's command). */
const optionalCommand = z
  .string()
  .transform((s) => (s.trim() ? s : undefined))
  .pipe(CommandSchema.optional());

/** `POST /deployments`, with the regions always a list (primary first). */
export const QuickDeployFormSchema = QuickDeployBodySchema.omit({
  region: true,
  outputDir: true,
  gitRef: true,
  installCommand: true,
  buildCommand: true,
}).extend({
  installCommand: optionalCommand,
  buildCommand: optionalCommand,
  outputDir: optionalDir,
  region: RegionListSchema,
});
export type QuickDeployFormValues = z.input<typeof QuickDeployFormSchema>;
export type QuickDeployFormOutput = z.output<typeof QuickDeployFormSchema>;

/**
 * `PATCH /projects/:slug` from the "Build and regions" card. Each command has an "override"
 * switch: off sends `null` (the detected preset's command), on sends the text, where empty means
 * "skip this step". An empty output directory resets it (detected).
 */
export const BuildSettingsFormSchema = z
  .object({
    installOverride: z.boolean(),
    // undefined while the field is disabled (not overridden): react-hook-form reads no value then.
    installCommand: z.string().optional(),
    buildOverride: z.boolean(),
    buildCommand: z.string().optional(),
    outputDir: z
      .string()
      .transform((s) => (s.trim() ? s : null))
      .pipe(RelativeDirSchema.nullable()),
    regions: RegionListSchema,
    buildCacheEnabled: z.boolean(),
  })
  .superRefine((v, ctx) => {
    // The server's own check, on the commands that are sent.
    for (const [on, field] of [
      [v.installOverride, 'installCommand'],
      [v.buildOverride, 'buildCommand'],
    ] as const) {
      if (!on) continue;
      const parsed = ProjectCommandSchema.safeParse(v[field] ?? '');
      for (const issue of parsed.error?.issues ?? [])
        ctx.addIssue({ code: 'custom', message: issue.message, path: [field] });
    }
  })
  .transform((v): UpdateProjectBody => ({
    installCommand: v.installOverride ? (v.installCommand ?? '').trim() : null,
    buildCommand: v.buildOverride ? (v.buildCommand ?? '').trim() : null,
    outputDir: v.outputDir,
    regions: v.regions,
    buildCacheEnabled: v.buildCacheEnabled,
  }));
export type BuildSettingsFormValues = z.input<typeof BuildSettingsFormSchema>;
export type BuildSettingsFormOutput = z.output<typeof BuildSettingsFormSchema>;

/** One variable for `PATCH /projects/:slug` `{env: {name: value}}`. */
export const EnvVarFormSchema = z.object({ name: EnvKeySchema, value: EnvValueSchema });
export type EnvVarFormValues = z.input<typeof EnvVarFormSchema>;
export type EnvVarFormOutput = z.output<typeof EnvVarFormSchema>;

/** The production branch (`gitRef`): empty means the remote's default branch (`null`). */
export const ProductionBranchFormSchema = z.object({
  gitRef: z
    .string()
    .transform((s) => (s.trim() ? s.trim() : null))
    .pipe(GitRefSchema.nullable()),
});
export type ProductionBranchFormValues = z.input<typeof ProductionBranchFormSchema>;
export type ProductionBranchFormOutput = z.output<typeof ProductionBranchFormSchema>;
