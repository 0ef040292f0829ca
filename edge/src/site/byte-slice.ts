import type { BlobBody } from '../cache/blob-store.js';

/** Bytes start..end (inclusive) of a body, without buffering a streamed one. */
export function sliceBody(body: BlobBody, start: number, end: number): BlobBody {
  if (body instanceof Uint8Array) return body.subarray(start, end + 1);
  let offset = 0;
  const slicer = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const chunkStart = offset;
      offset += chunk.byteLength;
      const from = Math.max(start - chunkStart, 0);
      const to = Math.min(end + 1 - chunkStart, chunk.byteLength);
      if (to > from) controller.enqueue(chunk.subarray(from, to));
      if (offset > end) controller.terminate();
    },
  });
  return body.pipeThrough(slicer);
}
