import {
  EnvKeySchema,
  EnvValueSchema,
  QuickDeployBodySchema,
  RegionListSchema,
  RelativeDirSchema,
  UpdateProjectBodySchema,
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

/** `POST /deployments`, with the regions always a list (primary first). */
export const QuickDeployFormSchema = QuickDeployBodySchema.omit({
  region: true,
  outputDir: true,
  gitRef: true,
}).extend({
  outputDir: optionalDir,
  region: RegionListSchema,
});
export type QuickDeployFormValues = z.input<typeof QuickDeployFormSchema>;
export type QuickDeployFormOutput = z.output<typeof QuickDeployFormSchema>;

/** `PATCH /projects/:slug` from the "Build and regions" card: empty output directory resets it. */
export const BuildSettingsFormSchema = UpdateProjectBodySchema.pick({
  installCommand: true,
  buildCommand: true,
  regions: true,
})
  .required()
  .extend({
    outputDir: z
      .string()
      .transform((s) => (s.trim() ? s : null))
      .pipe(RelativeDirSchema.nullable()),
  });
export type BuildSettingsFormValues = z.input<typeof BuildSettingsFormSchema>;
export type BuildSettingsFormOutput = z.output<typeof BuildSettingsFormSchema>;

/** One variable for `PATCH /projects/:slug` `{env: {name: value}}`. */
export const EnvVarFormSchema = z.object({ name: EnvKeySchema, value: EnvValueSchema });
export type EnvVarFormValues = z.input<typeof EnvVarFormSchema>;
export type EnvVarFormOutput = z.output<typeof EnvVarFormSchema>;
