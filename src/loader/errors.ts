/** A kernel image or boot request that cannot be used, with the reason in the message. */
export class BootImageError extends Error {
  override name = 'BootImageError';
}
