/**
 * Reads an origin body that must be exactly `size` bytes into one buffer of that size. A body
 * that runs longer is cut off as soon as it does, so a wrong or hostile object cannot make the
 * edge buffer more than the manifest promised; longer or shorter, the answer is undefined.
 */
export async function readBodyOfSize(response: Response, size: number): Promise<Uint8Array | undefined> {
  const bytes = new Uint8Array(size);
  if (!response.body) return size === 0 ? bytes : undefined;
  const reader = response.body.getReader();
  let offset = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (offset + value.byteLength > size) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    bytes.set(value, offset);
    offset += value.byteLength;
  }
  return offset === size ? bytes : undefined;
}
