import type { DeploymentStatus } from '@deploysphere/contracts';

/**
 * Every way a deployment's status may change, and from where. This table is the whole life of a
 * deployment; DeploymentStateMachine is the only code that writes `status`, and it writes it only
 * through these transitions, each a guarded update that matches the `from` statuses.
 *
 *   queued ──claim──▶ building ──ready──▶ ready
 *     │  ──prebuilt──▶   │  ▲   (a CLI upload: no build, straight to phase upload)
 *     │ ◀─sourceUploaded─ │  │   (a CLI source upload is stored: it waits for its build)
 *     │                 │  └─ phase (building → building: clone, install, build, upload, activate)
 *     ├──supersede──▶ cancelled ◀──cancel── (queued or building)
 *     ├──────fail───▶ error ◀────fail────── (queued or building)
 *     └──skip───────▶ skipped ◀──ignoreBuild── building (the ignored build step exited 0)
 *        (a push that builds nothing: written queued and skipped in one transaction)
 */
export const TRANSITIONS = {
  /** A dispatcher takes the job: at most one building deployment per project. */
  claim: { from: ['queued'], to: 'building' },
  /**
   * A prebuilt (CLI) deployment starts uploading at once: there is nothing to build, so it never
   * waits in the queue and takes no build slot. Applied in the transaction that creates it.
   */
  prebuilt: { from: ['queued'], to: 'building' },
  /**
   * A CLI source deploy's archive is stored (docs/cli.md): the upload (building, phase upload)
   * ends and the deployment waits for a build like a Git deployment. Guarded to phase upload.
   */
  sourceUploaded: { from: ['building'], to: 'queued' },
  /** The build moves to its next phase. */
  phase: { from: ['building'], to: 'building' },
  /**
   * The build's output is live: the deployment's host and the production switch are written (for
   * a preview, its branch alias instead of the production switch).
   */
  ready: { from: ['building'], to: 'ready' },
  /** The build failed, timed out, went silent, or could not start. */
  fail: { from: ['queued', 'building'], to: 'error' },
  /** The user cancelled it, or its project was deleted. */
  cancel: { from: ['queued', 'building'], to: 'cancelled' },
  /** A newer deployment of the same lane (production, or one branch's previews) was queued before this one started. */
  supersede: { from: ['queued'], to: 'cancelled' },
  /**
   * A push that builds nothing (outside the watch paths, a skip marker): recorded for the
   * history and never queued. Applied in the transaction that creates it, so no dispatcher or
   * watchdog ever sees it queued.
   */
  skip: { from: ['queued'], to: 'skipped' },
  /**
   * The project's ignored build step exited 0 after the clone: nothing is uploaded, and neither
   * production nor an alias moves.
   */
  ignoreBuild: { from: ['building'], to: 'skipped' },
} as const satisfies Record<string, { from: readonly DeploymentStatus[]; to: DeploymentStatus }>;

export type Transition = keyof typeof TRANSITIONS;

/** Whether `transition` may be applied to a deployment that is `status` now. */
export function allows(transition: Transition, status: DeploymentStatus): boolean {
  return (TRANSITIONS[transition].from as readonly DeploymentStatus[]).includes(status);
}
