import type { Context } from 'hono';
import type { Bindings, WaitUntil } from '../config/bindings.js';
import type { EdgeServices } from '../services.js';

export interface EdgeVariables {
  services: EdgeServices;
  /** The metrics host label: the route's hostname, or the unknown-host bucket. */
  metricsHost: string;
  /** Body bytes sent, for metrics (a stream's length is not on the Response). */
  bodyBytes: number;
}

export type EdgeEnv = { Bindings: Bindings; Variables: EdgeVariables };
export type EdgeContext = Context<EdgeEnv>;

/** ctx.waitUntil when the runtime gave us one; unit tests may call app.request() without it. */
export function waitUntilOf(c: EdgeContext): WaitUntil {
  try {
    return c.executionCtx;
  } catch {
    return { waitUntil: (promise) => void promise.catch(() => undefined) };
  }
}
