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

const DIGEST_ONLY = /^sha256:[a-f0-9]{64}$/;

/**
 * `image` pinned by `digest` when one is given: `redis:7.4.2@sha256:...` (the tag stays for
 * people; the runtime pulls by digest). Throws on a malformed digest or an image that already has one.
 */
export function imageRef(image: string, digest?: string): string {
  if (!digest) return assertPinnedImage(image);
  if (!DIGEST_ONLY.test(digest)) throw new Error(`charts-ts: image digest "${digest}" must be sha256:<64 hex digits>`);
  if (image.includes('@')) throw new Error(`charts-ts: image "${image}" already has a digest; set either the digest in the image or imageDigest`);
  return assertPinnedImage(`${image}@${digest}`);
}
