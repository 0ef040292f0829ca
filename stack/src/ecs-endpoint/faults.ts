import { z } from 'zod';
import type { EndpointContext } from './context.js';
import type { EcsFaults } from './types.js';

/** A fault control naming a task the endpoint does not know; the HTTP control answers 404. */
export class UnknownTaskError extends Error {}

/** The fault controls, for tests in the endpoint's own process. */
export function createFaults(ctx: EndpointContext): EcsFaults {
  const taskOf = (taskArn: string) => {
    const task = ctx.store.findByArn(taskArn);
    if (!task) throw new UnknownTaskError(`no task ${taskArn} on this endpoint`);
    return task;
  };
  return {
    capacityUnavailable(capacityProvider, count = 1) {
      ctx.faults.addCapacityFailures(capacityProvider, count);
    },
    throttle(count, operation) {
      ctx.faults.addThrottle(count, operation);
    },
    async interruptSpot(taskArn) {
      const task = taskOf(taskArn);
      // Only Spot capacity is reclaimed; interrupting anything else is a mistake in the test.
      if (task.init.capacityProviderName !== 'FARGATE_SPOT') {
        throw new Error(`task ${taskArn} does not run on FARGATE_SPOT`);
      }
      await ctx.runner.interruptSpot(task);
    },
    async killTask(taskArn) {
      await ctx.runner.kill(taskOf(taskArn));
    },
    interruptNextSpot(afterMs = 0) {
      ctx.faults.addSpotInterrupt(afterMs);
    },
  };
}

/** `POST /_deploysphere/faults` bodies: one fault each, named as the EcsFaults methods are. */
export const faultRequestSchema = z.discriminatedUnion('fault', [
  z.object({
    fault: z.literal('capacityUnavailable'),
    capacityProvider: z.enum(['FARGATE_SPOT', 'FARGATE']),
    count: z.number().int().positive().optional(),
  }),
  z.object({
    fault: z.literal('throttle'),
    count: z.number().int().positive(),
    operation: z.string().min(1).optional(),
  }),
  z.object({ fault: z.literal('interruptSpot'), taskArn: z.string().min(1) }),
  z.object({ fault: z.literal('killTask'), taskArn: z.string().min(1) }),
  z.object({ fault: z.literal('interruptNextSpot'), afterMs: z.number().int().min(0).optional() }),
]);

export type FaultRequest = z.infer<typeof faultRequestSchema>;

/** Applies one fault request; resolves when it has taken effect (a task it stops is STOPPED). */
export async function applyFault(faults: EcsFaults, req: FaultRequest): Promise<void> {
  switch (req.fault) {
    case 'capacityUnavailable':
      return faults.capacityUnavailable(req.capacityProvider, req.count);
    case 'throttle':
      return faults.throttle(req.count, req.operation);
    case 'interruptSpot':
      return faults.interruptSpot(req.taskArn);
    case 'killTask':
      return faults.killTask(req.taskArn);
    case 'interruptNextSpot':
      return faults.interruptNextSpot(req.afterMs);
  }
}
