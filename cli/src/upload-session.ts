import { PresignedRequestError } from '@deploysphere/build-worker/presigned-http';
import {
  CLI_DEPLOY_ERRORS,
  CLI_DEPLOY_PATHS,
  DeploymentViewSchema,
  type DeploymentView,
} from '@deploysphere/contracts';
import { z } from 'zod';
import type { ApiClient } from './api-client.js';
import { CliError } from './errors.js';

/** The watchdog fails an upload silent for 30 s (HEARTBEAT_TIMEOUT_MS): beat well within. */
export const HEARTBEAT_MS = 10_000;

/** Each PUT is tried 4 times; a refusal (4xx but throttling) is not retried. */
export const putRetry = {
  attempts: 4,
  baseDelayMs: 250,
  shouldRetry: (err: unknown) =>
    !(err instanceof PresignedRequestError) || err.status === 0 || err.status === 429 || err.status >= 500,
};

/**
 * Runs a deploy's upload with the deployment's heartbeat beating. A failed upload cancels the
 * deployment (it cannot finish any more; better now than by the watchdog) and ends the command
 * with a network error whose message ends with `retryHint`.
 */
export async function uploadWithHeartbeat<T>(
  api: ApiClient,
  id: string,
  retryHint: string,
  upload: () => Promise<T>,
): Promise<T> {
  const beat = setInterval(() => {
    api.post(CLI_DEPLOY_PATHS.heartbeat(id), z.unknown()).catch(() => undefined);
  }, HEARTBEAT_MS);
  try {
    return await upload();
  } catch (err) {
    await api.post(`/deployments/${id}/cancel`, z.unknown()).catch(() => undefined);
    throw CliError.network(
      `The upload failed, and deployment ${id} was cancelled: ${(err as Error).message}. ${retryHint}`,
      err,
    );
  } finally {
    clearInterval(beat);
  }
}

/**
 * Ends the upload (`finalize` or `build`): the deployment as it then is. One that ended meanwhile
 * (the watchdog, a cancel from elsewhere) is read back as it is: the caller sees it failed.
 */
export async function endUpload(api: ApiClient, path: string, id: string): Promise<DeploymentView> {
  try {
    return await api.post(path, DeploymentViewSchema, {});
  } catch (err) {
    if (!(err instanceof CliError) || err.code !== CLI_DEPLOY_ERRORS.notUploading) throw err;
    return api.get(`/deployments/${id}`, DeploymentViewSchema);
  }
}
