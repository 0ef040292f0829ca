import { z } from 'zod';
import { MeViewSchema } from './accounts.js';
import { DeploymentViewSchema, RegionListSchema } from './api.js';
import { BlobGrantSchema, MAX_GRANT_BLOBS, PresignedRequestSchema } from './build-session.js';
import { DeploymentTargetSchema } from './git-deploys.js';
import { SlugSchema } from './ids.js';
import {
  BlobHashSchema,
  HeaderRuleSchema,
  MAX_SITE_FILE_BYTES,
  RedirectRuleSchema,
  SitePathSchema,
} from './manifest.js';
import { RegionIdSchema } from './regions.js';

/**
 * Prebuilt deploys from the `deploysphere` CLI (docs/cli.md), under `/api/v1` with the API token:
 *
 * 1. `POST /cli-deploys` with the folder's manifest: the deployment is created (`source: cli`,
 *    building in phase `upload`) and each region answers with the blobs it lacks, each with a
 *    presigned PUT (the build worker's grants: signed checksum, `If-None-Match: *`).
 * 2. The client PUTs exactly those blobs, and may report the ones that landed as it goes
 *    (`POST /cli-deploys/:id/landed`): the control plane checks those while the rest upload.
 * 3. `POST /cli-deploys/:id/finalize`: the control plane checks that every blob of the manifest is
 *    stored in every region, writes the manifest itself, and activates the deployment through the
 *    same state machine, route switch and history as a Git deployment.
 */
export const CLI_DEPLOY_PATHS = {
  create: '/cli-deploys',
  finalize: (id: string) => `/cli-deploys/${id}/finalize`,
  heartbeat: (id: string) => `/cli-deploys/${id}/heartbeat`,
  /** Blobs the uploader stored while the rest upload: checked now, so finalize checks fewer. */
  landed: (id: string) => `/cli-deploys/${id}/landed`,
  /** A source deploy: the archive's grant (docs/cli.md, "A source deploy"). */
  source: '/cli-deploys/source',
  /** A source deploy's archive is stored: queue its build. */
  build: (id: string) => `/cli-deploys/${id}/build`,
} as const;

/** Stable error codes of the CLI deploy routes. */
export const CLI_DEPLOY_ERRORS = {
  /** 409: finalize found blobs the manifest lists that a region does not hold. */
  blobsMissing: 'cli_deploy_blobs_missing',
  /** 409: finalize or heartbeat of a deployment that is not an unfinished CLI upload. */
  notUploading: 'cli_deploy_not_uploading',
  /** 409: a Git deployment of a project that has no repository (only CLI deploys until one is connected). */
  noRepository: 'project_has_no_repository',
  /** 413: more files or bytes than the platform's output limits. */
  tooLarge: 'cli_deploy_too_large',
  /** 409: `build` found no archive stored with the declared size. */
  archiveMissing: 'cli_deploy_archive_missing',
} as const;

export const CliDeployFileSchema = z.strictObject({
  hash: BlobHashSchema,
  size: z
    .number({ error: 'expected a size in bytes' })
    .int('expected a whole number of bytes')
    .nonnegative('must not be negative')
    .max(
      MAX_SITE_FILE_BYTES,
      `must be at most ${MAX_SITE_FILE_BYTES} bytes (the largest file a site may have)`,
    ),
  contentType: z.string().min(1).max(255),
});
export type CliDeployFile = z.infer<typeof CliDeployFileSchema>;

/** `POST /cli-deploys`: the folder's manifest and where it goes. */
export const CreateCliDeployBodySchema = z.strictObject({
  /** The project's slug; an unknown one is created, with no repository (as `POST /deployments`'s). */
  slug: SlugSchema,
  /** production activates it; preview (the default) gives it only its own URL. */
  target: DeploymentTargetSchema.default('preview'),
  /**
   * This deployment's regions, primary first. Absent: the project's (a new project: the
   * platform's first region). A new project takes these as its regions.
   */
  regions: RegionListSchema.optional(),
  files: z
    .record(SitePathSchema, CliDeployFileSchema)
    .refine((f) => Object.keys(f).length > 0, 'the folder has no files')
    .refine(
      (f) => Object.keys(f).length <= MAX_GRANT_BLOBS,
      `at most ${MAX_GRANT_BLOBS} files in one request`,
    ),
  redirects: z.array(RedirectRuleSchema).max(2100).default([]),
  headers: z.array(HeaderRuleSchema).max(100).default([]),
});
export type CreateCliDeployBody = z.input<typeof CreateCliDeployBodySchema>;

/** One region: how many of the manifest's distinct blobs it holds, and a PUT for each it lacks. */
export const CliDeployRegionSchema = z.object({
  region: RegionIdSchema,
  present: z.number().int().nonnegative(),
  missing: z.array(BlobGrantSchema),
});
export type CliDeployRegion = z.infer<typeof CliDeployRegionSchema>;

export const CliDeployCreatedSchema = z.object({
  deployment: DeploymentViewSchema,
  /** The project did not exist and was created by this deploy. */
  projectCreated: z.boolean(),
  /** The grants stop working then; a slower upload starts a new deploy. */
  expiresAt: z.iso.datetime(),
  /** Distinct blobs in the manifest. */
  blobs: z.number().int().nonnegative(),
  /** Primary first. */
  regions: z.array(CliDeployRegionSchema),
});
export type CliDeployCreated = z.infer<typeof CliDeployCreatedSchema>;

/** `POST /cli-deploys/:id/finalize`: an empty body. */
export const FinalizeCliDeployBodySchema = z.strictObject({}).default({});

/** Hashes per region in one report of landed blobs. */
export const MAX_LANDED_PER_REGION = 1_000;

/**
 * Blobs the uploader stored (or found stored) since its last report. A claim, not a proof: the
 * control plane checks each in storage (stored, at the manifest's size) before finalize relies on
 * it, and ignores hashes it did not grant.
 */
export const CliLandedBodySchema = z.strictObject({
  regions: z
    .array(
      z.strictObject({
        region: RegionIdSchema,
        hashes: z.array(BlobHashSchema).min(1).max(MAX_LANDED_PER_REGION),
      }),
    )
    .min(1)
    .max(16),
});

/** Per region: how many reported blobs were found stored, and how many were not (yet). */
export const CliLandedResultSchema = z.object({
  regions: z.array(
    z.object({
      region: RegionIdSchema,
      verified: z.number().int().nonnegative(),
      notStored: z.number().int().nonnegative(),
    }),
  ),
});
export type CliLandedBody = z.infer<typeof CliLandedBodySchema>;
export type CliLandedResult = z.infer<typeof CliLandedResultSchema>;

/** The largest source archive a deploy may upload (gzipped tar). */
export const MAX_SOURCE_ARCHIVE_BYTES = 100 * 1024 * 1024;
/** At most this many entries (files, folders, symlinks) in a source archive. */
export const MAX_SOURCE_ARCHIVE_FILES = 50_000;
/** At most this many bytes once extracted (the worker stops extracting beyond it). */
export const MAX_SOURCE_EXTRACTED_BYTES = 1024 * 1024 * 1024;

/** A source archive as the CLI packed it: a gzipped tar of the folder, its sha256 and size. */
export const SourceArchiveSchema = z.strictObject({
  sha256: BlobHashSchema,
  size: z
    .number({ error: 'expected a size in bytes' })
    .int('expected a whole number of bytes')
    .positive('must be more than 0')
    .max(MAX_SOURCE_ARCHIVE_BYTES, `must be at most ${MAX_SOURCE_ARCHIVE_BYTES} bytes`),
  /** Entries in the archive (the CLI's count, for the deployment's log and the result). */
  files: z.number().int().nonnegative().max(MAX_SOURCE_ARCHIVE_FILES),
});
export type SourceArchive = z.infer<typeof SourceArchiveSchema>;

/**
 * `POST /cli-deploys/source`: a folder's source, to be built in the sandbox like a Git checkout.
 * The deployment is created uploading (building, phase `upload`), as a prebuilt one is.
 */
export const CreateCliSourceDeployBodySchema = z.strictObject({
  slug: SlugSchema,
  target: DeploymentTargetSchema.default('preview'),
  regions: RegionListSchema.optional(),
  archive: SourceArchiveSchema,
});
export type CreateCliSourceDeployBody = z.input<typeof CreateCliSourceDeployBodySchema>;

export const CliSourceDeployCreatedSchema = z.object({
  deployment: DeploymentViewSchema,
  projectCreated: z.boolean(),
  /** The PUT stops working then. */
  expiresAt: z.iso.datetime(),
  /**
   * The archive's PUT (`sources/<deployment id>.tar.gz` in the primary region), signed over its
   * sha256 (S3 refuses other bytes) and length.
   */
  put: PresignedRequestSchema,
});
export type CliSourceDeployCreated = z.infer<typeof CliSourceDeployCreatedSchema>;

/** Where a source deploy's archive is stored, in its primary region's bucket, until it is final. */
export function sourceArchiveKey(deploymentId: string): string {
  return `sources/${deploymentId}.tar.gz`;
}

/** `POST /cli-deploys/:id/build`: an empty body. */
export const BuildCliSourceDeployBodySchema = z.strictObject({}).default({});

/** What `deploysphere deploy --json` prints: one line, this shape. */
export const CliDeployResultSchema = z.object({
  deployment: DeploymentViewSchema,
  projectCreated: z.boolean(),
  /** Prebuilt: the files deployed. Source: the archive's entries. */
  files: z.number().int().nonnegative(),
  /** Prebuilt: distinct blobs. Source: 0 (the build uploads them). */
  blobs: z.number().int().nonnegative(),
  /** Blobs this run uploaded, per region (source: none, the build uploads them). */
  uploaded: z.array(
    z.object({
      region: RegionIdSchema,
      blobs: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
    }),
  ),
  /** A source deploy: the archive uploaded (absent for a prebuilt one). */
  archive: z
    .object({ bytes: z.number().int().nonnegative(), files: z.number().int().nonnegative() })
    .optional(),
});
export type CliDeployResult = z.infer<typeof CliDeployResultSchema>;

/** What `deploysphere whoami --json` prints. */
export const CliWhoamiSchema = z.object({
  url: z.string(),
  /** Where the token came from: the environment or the config file. */
  tokenSource: z.enum(['env', 'config']),
  regions: z.array(z.string()),
  /** Who the token acts as: the admin token, a user's session or a user's API token, and its teams. */
  account: MeViewSchema,
});
export type CliWhoami = z.infer<typeof CliWhoamiSchema>;

/** `~/.config/deploysphere/config.json` (mode 0600). */
export const CliConfigSchema = z.object({
  v: z.literal(1),
  url: z.url(),
  token: z.string().min(1),
});
export type CliConfig = z.infer<typeof CliConfigSchema>;

/** `.deploysphere/project.json` in a deployed folder (never uploaded). */
export const CliProjectLinkSchema = z.object({
  v: z.literal(1),
  project: SlugSchema,
});
export type CliProjectLink = z.infer<typeof CliProjectLinkSchema>;

/** What a failing command prints with `--json`, and the exit codes (docs/cli.md). */
export const CliErrorOutputSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), exitCode: z.number().int() }),
});
export type CliErrorOutput = z.infer<typeof CliErrorOutputSchema>;

export const CLI_EXIT_CODES = {
  ok: 0,
  /** Anything not below: a bug, a refused request. */
  failure: 1,
  /** Bad arguments or input (a bad manifest, a missing folder). */
  usage: 2,
  /** The token is missing or the control plane refused it. */
  auth: 3,
  /** The project or deployment does not exist. */
  notFound: 4,
  /** The control plane or storage could not be reached. */
  network: 5,
  /** The deployment ended in error or was cancelled. */
  deployFailed: 6,
} as const;
