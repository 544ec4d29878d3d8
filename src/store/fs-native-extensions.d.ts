// The part of fs-native-extensions (no types of its own) that the state lock uses.
declare module "fs-native-extensions" {
  /** An exclusive open-file-description lock (Linux: fcntl F_OFD_SETLK) on `fd`; false when another holds it. */
  export function tryLock(fd: number, offset?: number, length?: number, options?: { shared?: boolean }): boolean;
  export function unlock(fd: number, offset?: number, length?: number): void;
}
