import { z } from 'zod';
import { requiredOr } from './errors.js';

/** `POST /api/v1/session`: trade the API token for an httpOnly session cookie (the dashboard's sign-in). */
export const SessionBodySchema = z.strictObject({
  token: z
    .string({ error: requiredOr('expected a string') })
    .min(1, 'must not be empty')
    .max(1024, 'must be at most 1024 characters'),
});
export type SessionBody = z.infer<typeof SessionBodySchema>;

/** `GET`/`POST /api/v1/session`: whether the request carries a valid session, and until when. */
export const SessionViewSchema = z.object({
  signedIn: z.boolean(),
  expiresAt: z.iso.datetime().nullable(),
});
export type SessionView = z.infer<typeof SessionViewSchema>;
