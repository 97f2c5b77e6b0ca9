/** Image reference checks: immutable tag or digest, never `latest` or an implicit tag. */

const DIGEST = /@sha256:[a-f0-9]{64}$/;
const TAG = /:([\w][\w.-]{0,127})$/;

/** Returns the reference if it is pinned; throws with the reason otherwise. */
export function assertPinnedImage(ref: string): string {
  if (DIGEST.test(ref)) return ref;
  const lastSegment = ref.slice(ref.lastIndexOf('/') + 1);
  const tag = TAG.exec(lastSegment)?.[1];
  if (!tag) throw new Error(`charts-ts: image "${ref}" has no tag or digest; pin it (e.g. :0.1.0 or @sha256:...)`);
  if (tag === 'latest') throw new Error(`charts-ts: image "${ref}" uses :latest; pin an immutable tag or digest`);
  return ref;
}
