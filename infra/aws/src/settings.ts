import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The settings of the AWS side, one file for every region (`infra/aws/settings.json`). They are
 * parsed here once, with every problem reported together, so a typo fails `cdk synth` with a
 * message instead of deploying something else.
 */

const ACCOUNT = z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id');
const REGION_ID = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'expected an AWS region id like eu-west-1');
const POSITIVE_INT = z.number().int().positive();

/** Fargate's valid CPU units, and the memory (MiB) each allows: [min, max, step]. */
const FARGATE_MEMORY: Record<number, readonly number[]> = {
  256: [512, 1024, 2048],
  512: [1024, 4096, 1024],
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

function fargateMemoryAllowed(cpu: number, memoryMiB: number): boolean {
  const spec = FARGATE_MEMORY[cpu];
  if (spec === undefined) return false;
  // 256 CPU units allow a short list; the others a range with a step.
  if (cpu === 256) return spec.includes(memoryMiB);
  const [min = 0, max = 0, step = 1] = spec;
  return memoryMiB >= min && memoryMiB <= max && (memoryMiB - min) % step === 0;
}

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * Variables the task definition may hold. The task definition is readable by anyone allowed
 * `ecs:DescribeTaskDefinition`, and its environment shows in the console: a name that looks like a
 * secret is refused, so a secret cannot be committed here by mistake. Secrets reach the worker
 * through the bootstrap exchange (docs/ecs-builds.md), never through the task definition.
 */
const SECRET_LOOKING = /(SECRET|TOKEN|PASSWORD|CREDS|CREDENTIAL|PRIVATE|_KEY$|^KEY$|SPEC$)/i;
const ENV_NAME = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]*$/, 'expected an upper-case variable name')
  .refine(
    (name) => !SECRET_LOOKING.test(name),
    'looks like a secret: secrets never go in the task definition',
  );

/** The build worker's limits (build-worker/src/config.ts); unset ones take the worker's default. */
const WorkerLimitsSchema = z.strictObject({
  BUILD_TIMEOUT_MS: POSITIVE_INT.min(1000).optional(),
  BUILD_MEMORY_MB: POSITIVE_INT.min(1024).optional(),
  BUILD_CPU_SECONDS: POSITIVE_INT.optional(),
  MAX_OUTPUT_BYTES: POSITIVE_INT.optional(),
  MAX_OUTPUT_FILES: POSITIVE_INT.optional(),
  BUILD_CACHE_MAX_BYTES: z.number().int().min(0).optional(),
  BUILD_CACHE_EXPIRY_DAYS: POSITIVE_INT.optional(),
});

/** What a region's build task gets: every field may be set once for all regions and per region. */
const BuildShape = {
  /** Fargate CPU units (1024 = one vCPU). */
  cpu: z.number().refine((v) => v in FARGATE_MEMORY, 'expected 256, 512, 1024, 2048, 4096, 8192 or 16384'),
  memoryMiB: POSITIVE_INT,
  /** Scratch disk for the checkout, node_modules and the output; Fargate allows 21 to 200 GiB. */
  ephemeralStorageGiB: z.number().int().min(21).max(200),
  /** The worker image's tag in the region's ECR repository. Tags are immutable: a new image is a new tag. */
  imageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'expected a Docker image tag'),
  logRetentionDays: z
    .number()
    .refine(
      (v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v),
      `expected one of ${LOG_RETENTION_DAYS.join(', ')}`,
    ),
  /** `cache/` objects (the build cache, docs/build-cache.md) are deleted this long after they were written. */
  cacheExpirationDays: POSITIVE_INT,
  limits: WorkerLimitsSchema,
  /** More non-secret variables for the worker's container. */
  environment: z.record(ENV_NAME, z.string()),
};

const BuildDefaultsSchema = z.strictObject({
  cpu: BuildShape.cpu.default(2048),
  memoryMiB: BuildShape.memoryMiB.default(8192),
  ephemeralStorageGiB: BuildShape.ephemeralStorageGiB.default(50),
  imageTag: BuildShape.imageTag,
  logRetentionDays: BuildShape.logRetentionDays.default(30),
  cacheExpirationDays: BuildShape.cacheExpirationDays.default(14),
  limits: BuildShape.limits.default({}),
  environment: BuildShape.environment.default({}),
});

const RegionEntrySchema = z.strictObject({
  /** The region id, as in the control plane's REGIONS: `us-east-1`. */
  id: REGION_ID,
  /** Bucket names are global across AWS, so the default carries the account id. */
  bucketName: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name, 3-63 lowercase characters')
    .optional(),
  /** The build VPC's address range. Nothing routes to it, so it may overlap other networks. */
  vpcCidr: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, 'expected an IPv4 CIDR from /16 to /24')
    .default('10.64.0.0/16'),
  /** Availability zones the build subnets span. */
  maxAzs: z.number().int().min(1).max(6).default(2),
  build: z.strictObject(BuildShape).partial().default({}),
});

/** A browser origin: scheme, host and port only, as the browser sends it in `Origin`. */
const ORIGIN = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) origin like https://deploy.example.com' })
  // zod runs refinements after a failed format check too: a non-URL is not an origin either.
  .refine(
    (u) => URL.canParse(u) && new URL(u).origin === u,
    'expected an origin only: no path, query or trailing slash',
  );

const CIDR = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'expected an IPv4 CIDR');

export const InfraSettingsSchema = z
  .strictObject({
    /** The account every stack deploys to: the one the control plane runs builds in. */
    account: ACCOUNT,
    controlPlane: z.strictObject({
      /** Where the control-plane stack (its role, the edge's reader) is deployed; IAM is global. */
      region: REGION_ID,
      /** Who may assume the control plane's role: the ARN of the role or user the control plane runs as. */
      principalArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/.+|user\/.+)$/,
          'expected an IAM role, user or root ARN',
        ),
      /** The control plane's public URL, where a build task exchanges its bootstrap token. */
      url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    }),
    /**
     * Origins the dashboard is opened from: its "Deploy a folder" PUTs blobs from the browser
     * straight into each region's bucket, which therefore answers CORS for them (PUT and HEAD,
     * the grants' signed headers). Absent: the control plane's own origin (it serves the
     * dashboard). `[]`: no CORS rule, and folder drops cannot upload.
     */
    dashboardOrigins: z.array(ORIGIN).max(20).optional(),
    nats: z
      .strictObject({
        /** The port build tasks reach NATS on (TLS). */
        port: z.number().int().min(1).max(65535).default(4222),
        /** Where NATS is: build tasks may open NATS connections only to this range. */
        cidr: CIDR.default('0.0.0.0/0'),
      })
      .default({ port: 4222, cidr: '0.0.0.0/0' }),
    build: BuildDefaultsSchema,
    regions: z.array(RegionEntrySchema).min(1),
  })
  .superRefine((s, ctx) => {
    const ids = s.regions.map((r) => r.id);
    if (new Set(ids).size !== ids.length) {
      ctx.addIssue({ code: 'custom', path: ['regions'], message: 'region ids must be unique' });
    }
    s.regions.forEach((r, i) => {
      const b = { ...s.build, ...r.build };
      if (!fargateMemoryAllowed(b.cpu, b.memoryMiB)) {
        ctx.addIssue({
          code: 'custom',
          path: ['regions', i, 'build', 'memoryMiB'],
          message: `${b.memoryMiB} MiB is not a Fargate size for ${b.cpu} CPU units`,
        });
      }
      const workerExpiry = b.limits.BUILD_CACHE_EXPIRY_DAYS ?? 7;
      if (b.cacheExpirationDays < workerExpiry) {
        ctx.addIssue({
          code: 'custom',
          path: ['regions', i, 'build', 'cacheExpirationDays'],
          message: `must be at least BUILD_CACHE_EXPIRY_DAYS (${workerExpiry}): live caches would be deleted`,
        });
      }
    });
  });

export type InfraSettingsInput = z.input<typeof InfraSettingsSchema>;

/** Everything one region's stack needs, with the shared defaults applied. */
export interface RegionSettings {
  account: string;
  region: string;
  bucketName: string;
  vpcCidr: string;
  maxAzs: number;
  controlPlaneUrl: string;
  /** Browser origins the bucket answers CORS for (the dashboard's folder drop). */
  dashboardOrigins: string[];
  nats: { port: number; cidr: string };
  build: {
    cpu: number;
    memoryMiB: number;
    ephemeralStorageGiB: number;
    imageTag: string;
    logRetentionDays: number;
    cacheExpirationDays: number;
    limits: z.output<typeof WorkerLimitsSchema>;
    environment: Record<string, string>;
  };
}

export interface InfraSettings {
  account: string;
  controlPlane: { region: string; principalArn: string; url: string };
  regions: RegionSettings[];
}

export class InfraSettingsError extends Error {}

/** Parses the settings; every problem is in one message, one line each, naming where it is. */
export function parseInfraSettings(json: unknown, source = 'settings'): InfraSettings {
  const parsed = InfraSettingsSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
    );
    throw new InfraSettingsError(`${source} is not valid:\n${lines.join('\n')}`);
  }
  const s = parsed.data;
  return {
    account: s.account,
    controlPlane: s.controlPlane,
    regions: s.regions.map((r) => ({
      account: s.account,
      region: r.id,
      bucketName: r.bucketName ?? `deploysphere-${s.account}-${r.id}`,
      vpcCidr: r.vpcCidr,
      maxAzs: r.maxAzs,
      controlPlaneUrl: s.controlPlane.url,
      dashboardOrigins: s.dashboardOrigins ?? [new URL(s.controlPlane.url).origin],
      nats: s.nats,
      build: {
        ...s.build,
        ...r.build,
        limits: { ...s.build.limits, ...r.build.limits },
        environment: { ...s.build.environment, ...r.build.environment },
      },
    })),
  };
}

/** Reads and parses a settings file (JSON). */
export function loadInfraSettings(path: string): InfraSettings {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InfraSettingsError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseInfraSettings(json, path);
}
