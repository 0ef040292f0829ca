import { importProtectionKey, type ProtectionKey } from '@deploysphere/contracts';

/**
 * The shared signing key, imported on first use and kept for the isolate's life. The CryptoKey
 * itself is kept, not the import's promise: workerd ties a pending promise to the request that
 * created it, and another request awaiting it could be cancelled as hung.
 */
export class ProtectionKeys {
  private imported: ProtectionKey | undefined;

  constructor(
    private readonly secret: string,
    /** The control plane's public URL: visitors are sent there to sign in. */
    readonly authUrl: string,
  ) {}

  async key(): Promise<ProtectionKey> {
    this.imported ??= await importProtectionKey(this.secret);
    return this.imported;
  }
}
