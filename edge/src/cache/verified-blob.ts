declare const verified: unique symbol;

/**
 * Bytes whose SHA-256 was checked against the blob key they are stored under. Only
 * `verifyBlob` makes one, and the edge's caches only accept this type, so nothing that failed
 * (or skipped) the check can reach isolate memory or the Cache API.
 */
export type VerifiedBytes = Uint8Array & { readonly [verified]: true };

/** The bytes, branded, when they hash to `hash`; undefined when they do not. */
export async function verifyBlob(hash: string, bytes: Uint8Array): Promise<VerifiedBytes | undefined> {
  return (await sha256Hex(bytes)) === hash ? (bytes as VerifiedBytes) : undefined;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
