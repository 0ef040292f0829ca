import {
  CreateDeployKeyBodySchema,
  GitCredentialViewSchema,
  ProjectParamsSchema,
  SetGitCredentialBodySchema,
  SetKnownHostsBodySchema,
} from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_RESPONSES } from '../plugins/openapi.js';
import type { GitCredentialService } from './git-credential-service.js';

const tags = ['git'];

/** `/api/v1` routes for a private repository's clone credential; none of them answers a secret. */
export const gitCredentialRoutes: FastifyPluginAsyncZod<{ credentials: GitCredentialService }> = async (
  app,
  { credentials },
) => {
  app.get(
    '/projects/:slug/git-credential',
    {
      schema: {
        summary:
          "The project's clone credential (a token's user, or the deploy key's public key), never its secret",
        tags,
        params: ProjectParamsSchema,
        response: { 200: GitCredentialViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => credentials.get(request.params.slug),
  );

  app.put(
    '/projects/:slug/git-credential',
    {
      schema: {
        summary: 'Clone over HTTPS with this token (stored encrypted, never shown again)',
        tags,
        params: ProjectParamsSchema,
        body: SetGitCredentialBodySchema,
        response: { 200: GitCredentialViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => credentials.setToken(request.params.slug, request.body),
  );

  app.post(
    '/projects/:slug/deploy-key',
    {
      schema: {
        summary:
          'Generate an ed25519 deploy key for cloning over SSH; answers the public key to add to the provider',
        tags,
        params: ProjectParamsSchema,
        body: CreateDeployKeyBodySchema,
        response: { 201: GitCredentialViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await credentials.createDeployKey(request.params.slug, request.body)),
  );

  app.put(
    '/projects/:slug/deploy-key/known-hosts',
    {
      schema: {
        summary: "Pin the SSH server's host keys (known_hosts lines) the clone checks",
        tags,
        params: ProjectParamsSchema,
        body: SetKnownHostsBodySchema,
        response: { 200: GitCredentialViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => credentials.setKnownHosts(request.params.slug, request.body.knownHosts),
  );

  app.delete(
    '/projects/:slug/git-credential',
    {
      schema: {
        summary: 'Remove the clone credential: the repository is cloned as a public one',
        tags,
        params: ProjectParamsSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await credentials.remove(request.params.slug);
      return reply.status(204).send();
    },
  );
};
