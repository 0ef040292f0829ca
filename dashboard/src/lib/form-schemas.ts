import {
  AcceptInvitationBodySchema,
  CommandSchema,
  CreateCliDeployBodySchema,
  CreateInvitationBodySchema,
  CreateTokenBodySchema,
  DeploymentTargetSchema,
  EnvKeySchema,
  EnvValueSchema,
  GitRefSchema,
  PasswordResetConfirmBodySchema,
  ProjectCommandSchema,
  ProtectionModeSchema,
  ProtectionSettingsInputSchema,
  type ProtectionSettingsInput,
  QuickDeployBodySchema,
  RegionIdSchema,
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

/**
 * The invitation page: the contract's name and password, plus a confirmation that must match
 * (the token comes from the link's fragment, not from a field).
 */
export const InvitationFormSchema = AcceptInvitationBodySchema.omit({ token: true })
  .extend({ confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'must match the password' });
export type InvitationFormValues = z.input<typeof InvitationFormSchema>;
export type InvitationFormOutput = z.output<typeof InvitationFormSchema>;

/** `POST /teams/:team/invitations` as is: the role is a select, so always one of the three. */
export const InviteFormSchema = CreateInvitationBodySchema.required({ role: true });
export type InviteFormValues = z.input<typeof InviteFormSchema>;
export type InviteFormOutput = z.output<typeof InviteFormSchema>;

/** An optional select or text field: empty means "not set". */
const unsetIfEmpty = (s: string) => (s.trim() === '' ? undefined : s.trim());

/**
 * `POST /tokens`: the restriction selects and the expiry field are text in the form; empty means
 * "no restriction" and "never expires". The scopes are checkboxes, so an array.
 */
export const TokenFormSchema = z.object({
  name: CreateTokenBodySchema.shape.name,
  scopes: CreateTokenBodySchema.shape.scopes,
  team: z.string().transform(unsetIfEmpty).pipe(CreateTokenBodySchema.shape.team),
  project: z.string().transform(unsetIfEmpty).pipe(CreateTokenBodySchema.shape.project),
  expiresInDays: z
    .string()
    .transform((s) => (s.trim() === '' ? undefined : Number(s)))
    .pipe(CreateTokenBodySchema.shape.expiresInDays),
});
export type TokenFormValues = z.input<typeof TokenFormSchema>;
export type TokenFormOutput = z.output<typeof TokenFormSchema>;

/** The password reset page: the contract's password, plus a confirmation that must match (the token comes from the link). */
export const ResetPasswordFormSchema = PasswordResetConfirmBodySchema.omit({ token: true })
  .extend({ confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'must match the password' });
export type ResetPasswordFormValues = z.input<typeof ResetPasswordFormSchema>;
export type ResetPasswordFormOutput = z.output<typeof ResetPasswordFormSchema>;

/**
 * `PATCH /projects/:slug {protection}`. The password is write-only: an empty field keeps the one
 * set (if any), so it is left out of the body; password mode with no password set and none typed
 * is refused here as the server would refuse it. `passwordSet` is the view's, carried in the
 * form's values (no input) so it follows each save. With mode none the production switch is
 * hidden and left out of the body, so turning protection back on finds it as it was.
 */
export const ProtectionFormSchema = z
  .object({
    mode: ProtectionModeSchema,
    production: z.boolean(),
    password: z.string().optional(),
    passwordSet: z.boolean(),
  })
  .superRefine((v, ctx) => {
    if (v.mode !== 'password') return;
    const password = v.password ?? '';
    if (password === '') {
      if (!v.passwordSet)
        ctx.addIssue({
          code: 'custom',
          message: 'required to turn on password protection',
          path: ['password'],
        });
      return;
    }
    const parsed = ProtectionSettingsInputSchema.shape.password.safeParse(password);
    for (const issue of parsed.error?.issues ?? [])
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['password'] });
  })
  .transform((v): { protection: ProtectionSettingsInput } => ({
    protection: {
      mode: v.mode,
      ...(v.mode === 'none' ? {} : { production: v.production }),
      ...(v.mode === 'password' && v.password ? { password: v.password } : {}),
    },
  }));
export type ProtectionFormValues = z.input<typeof ProtectionFormSchema>;
export type ProtectionFormOutput = z.output<typeof ProtectionFormSchema>;

/**
 * The folder drop (`POST /cli-deploys`): the project's slug, new or existing, and the target. The
 * regions (primary first) are sent for a new project only; empty means the platform's default.
 */
export const DropDeployFormSchema = CreateCliDeployBodySchema.pick({ slug: true }).extend({
  target: DeploymentTargetSchema,
  regions: z.array(RegionIdSchema),
});
export type DropDeployFormValues = z.input<typeof DropDeployFormSchema>;
export type DropDeployFormOutput = z.output<typeof DropDeployFormSchema>;
