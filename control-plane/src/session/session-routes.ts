import { AppError, SessionBodySchema, type SessionView } from '@deploysphere/contracts';
import type { FastifyInstance } from 'fastify';
import { tokenMatches } from '../plugins/auth.js';
import { endSession, sessionExpiry, startSession } from './session.js';
import { parse } from '../plugins/parse.js';

/**
 * The dashboard's sign-in, under `/api/v1` but outside the bearer-token hook (it is how a browser
 * gets in). Needs the `session` plugin registered on an ancestor instance.
 * - `POST /session` `{token}`: the admin token for a session cookie;
 * - `GET /session`: whether this request is signed in; always 200, so a signed-out page load
 *   leaves no failed request in the browser's console;
 * - `DELETE /session`: drops the cookie.
 */
export async function sessionRoutes(app: FastifyInstance, opts: { adminToken: string }): Promise<void> {
  app.get('/session', async (request): Promise<SessionView> => {
    const expires = sessionExpiry(request);
    return { signedIn: expires !== undefined, expiresAt: expires?.toISOString() ?? null };
  });

  app.post('/session', async (request, reply): Promise<SessionView> => {
    const { token } = parse(SessionBodySchema, request.body);
    if (!tokenMatches(token, opts.adminToken)) {
      throw new AppError(401, 'unauthorized', 'That API token is not valid', { field: 'token' });
    }
    const expiresAt = startSession(request, reply);
    return { signedIn: true, expiresAt: expiresAt.toISOString() };
  });

  app.delete('/session', async (request, reply) => {
    endSession(request, reply);
    return reply.status(204).send();
  });
}
