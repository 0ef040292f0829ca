import { z } from 'zod';

/**
 * Protected previews (docs/protected-previews.md): what a project asks for, and the two signed
 * tokens the control plane and the edge exchange. Both sides sign and verify with Web Crypto's
 * HMAC-SHA256 (Node 20+ and workerd alike), so this one file is the whole wire format.
 */

export const ProtectionModeSchema = z.enum(['none', 'team', 'password'], {
  error: 'expected none, team or password',
});
export type ProtectionMode = z.infer<typeof ProtectionModeSchema>;

export const PROTECTION_PASSWORD_MIN = 8;
export const PROTECTION_PASSWORD_MAX = 256;

/** What a project create or update may set; the password is write-only (stored as a scrypt hash). */
export const ProtectionSettingsInputSchema = z.strictObject({
  mode: ProtectionModeSchema.optional(),
  /** false (the default): the production host and custom domains stay public. */
  production: z.boolean({ error: 'expected true or false' }).optional(),
  password: z
    .string({ error: 'expected a string' })
    .min(PROTECTION_PASSWORD_MIN, `at least ${PROTECTION_PASSWORD_MIN} characters`)
    .max(PROTECTION_PASSWORD_MAX, `at most ${PROTECTION_PASSWORD_MAX} characters`)
    .optional(),
});
export type ProtectionSettingsInput = z.infer<typeof ProtectionSettingsInputSchema>;

/** What the API shows: never the password, only whether one is set. */
export const ProtectionSettingsSchema = z.object({
  mode: ProtectionModeSchema,
  production: z.boolean(),
  passwordSet: z.boolean(),
});
export type ProtectionSettings = z.infer<typeof ProtectionSettingsSchema>;

/**
 * The part of a route record that marks a host as protected. `epoch` changes whenever the
 * project's protection settings change, and a cookie names the epoch it was issued for, so a new
 * password (or turning protection off and on) signs everybody out of that project's hosts.
 */
export const RouteProtectionSchema = z.object({
  epoch: z.number().int().min(0),
});
export type RouteProtection = z.infer<typeof RouteProtectionSchema>;

/** The fixed path on a protected host where the edge exchanges a grant for its cookie. */
export const PROTECTION_AUTH_PATH = '/__deploysphere/auth';
/** The edge's cookie on a protected host: host-only (no Domain attribute), HttpOnly, SameSite=Lax. */
export const PROTECTION_COOKIE = 'ds_protection';
/** A grant is good for this long: enough for one redirect, too short to be worth stealing. */
export const PROTECTION_GRANT_TTL_S = 60;
/** The edge's cookie lives this long; a removed member or a changed password lasts at most this. */
export const PROTECTION_COOKIE_TTL_S = 3600;
/** The shared signing key's minimum length (characters of a random secret). */
export const PROTECTION_KEY_MIN = 32;

const host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9.-]+$/);

/** Signed by the control plane, redeemed once at PROTECTION_AUTH_PATH on `h`. */
export const ProtectionGrantSchema = z.strictObject({
  k: z.literal('grant'),
  h: host,
  /** The path (and query) to return to on `h`; never an absolute URL. */
  r: z.string().min(1).max(2048),
  /** Expiry, seconds since the epoch. */
  e: z.number().int(),
  p: z.number().int().min(0),
});
export type ProtectionGrant = z.infer<typeof ProtectionGrantSchema>;

/** Signed by the edge (with the same key), carried in PROTECTION_COOKIE on `h` only. */
export const ProtectionCookieSchema = z.strictObject({
  k: z.literal('cookie'),
  h: host,
  e: z.number().int(),
  p: z.number().int().min(0),
});
export type ProtectionCookie = z.infer<typeof ProtectionCookieSchema>;

/** Domain separation: a signature made for anything else with this key never verifies here. */
const SIGNING_CONTEXT = 'deploysphere-protection-v1.';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Web Crypto's CryptoKey, named without relying on the DOM or workers type libraries. */
export type ProtectionKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** An HMAC-SHA256 key from the platform secret; import once and keep it (it is not extractable). */
export async function importProtectionKey(secret: string): Promise<ProtectionKey> {
  if (secret.length < PROTECTION_KEY_MIN) {
    throw new Error(`the protection signing key must be at least ${PROTECTION_KEY_MIN} characters`);
  }
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

/** `<base64url(JSON)>.<base64url(HMAC)>` */
export async function signProtectionToken(
  key: ProtectionKey,
  payload: ProtectionGrant | ProtectionCookie,
): Promise<string> {
  const body = toBase64Url(encoder.encode(JSON.stringify(payload)));
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(SIGNING_CONTEXT + body));
  return `${body}.${toBase64Url(new Uint8Array(mac))}`;
}

export type TokenRefusal = 'malformed' | 'signature' | 'kind' | 'host' | 'expired' | 'epoch';

export interface TokenCheck {
  host: string;
  epoch: number;
  /** Seconds since the epoch. */
  now: number;
}

/**
 * Verifies the MAC first (crypto.subtle.verify compares in constant time), then what the token
 * says: its kind, its host, its expiry and the project's protection epoch.
 */
export async function verifyProtectionToken<K extends 'grant' | 'cookie'>(
  key: ProtectionKey,
  kind: K,
  token: string,
  check: TokenCheck,
): Promise<
  | { ok: true; payload: K extends 'grant' ? ProtectionGrant : ProtectionCookie }
  | { ok: false; reason: TokenRefusal }
> {
  if (token.length > 4096) return { ok: false, reason: 'malformed' };
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const mac = fromBase64Url(token.slice(dot + 1));
  if (!mac || mac.length !== 32) return { ok: false, reason: 'malformed' };
  const valid = await crypto.subtle.verify('HMAC', key, mac, encoder.encode(SIGNING_CONTEXT + body));
  if (!valid) return { ok: false, reason: 'signature' };
  const raw = fromBase64Url(body);
  let json: unknown;
  try {
    json = raw ? JSON.parse(decoder.decode(raw)) : undefined;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const schema = kind === 'grant' ? ProtectionGrantSchema : ProtectionCookieSchema;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const k = (json as { k?: unknown } | undefined)?.k;
    return { ok: false, reason: k !== undefined && k !== kind ? 'kind' : 'malformed' };
  }
  const payload = parsed.data;
  if (payload.h !== check.host) return { ok: false, reason: 'host' };
  if (payload.e <= check.now) return { ok: false, reason: 'expired' };
  // Older than the record: issued before a settings change, which is how everyone is signed out.
  // Newer: the record this edge holds is stale (route records are cached, and Workers KV takes up
  // to a minute to propagate), and only the control plane signs, with the current epoch.
  if (payload.p < check.epoch) return { ok: false, reason: 'epoch' };
  return { ok: true, payload: payload as K extends 'grant' ? ProtectionGrant : ProtectionCookie };
}

/**
 * The path to return to after sign-in, or undefined when `value` is not a plain path on the same
 * host: absolute URLs, scheme-relative `//evil`, backslash tricks and control characters are all
 * refused, so the redirect chain can only ever end on the protected host itself.
 */
export function safeReturnPath(value: string): string | undefined {
  if (value.length === 0 || value.length > 2048) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, 'http://protected.invalid');
  } catch {
    return undefined;
  }
  if (url.origin !== 'http://protected.invalid') return undefined;
  const path = `${url.pathname}${url.search}`;
  // Returning to the exchange path itself would only loop.
  return url.pathname === PROTECTION_AUTH_PATH ? '/' : path;
}
