import type { ReaderSettings } from "./file.js";
import type { WalkState } from "./walk.js";

/** Record that `file` (owned by `uid`) refers to `refs`; `trusted`: found by a scanner in this run, so well-formed. */
export type Note = (file: string, uid: number, refs: readonly string[], trusted: boolean) => void;

/** What a reader (native or TypeScript) needs to walk the trees and find their references. */
export interface ReadContext {
  /** Absolute start paths. */
  paths: string[];
  settings: ReaderSettings;
  /** --exclude globs. */
  exclude: string[];
  /** Reader threads besides the first. */
  threads: number;
  /** With --cache: the usable body loaded, if any. Every file is then stat'ed and a new body made. */
  cache?: { body: Buffer | undefined };
  /** Filled in: directories walked and skipped, paths unreadable (roots.ts decides by them). */
  state: WalkState;
  note: Note;
  warn: (message: string) => void;
  onProgress?: ((p: { files: number; bytes: number }) => void) | undefined;
}

export interface ReadOutcome {
  /** Regular files and symlinks looked at. */
  files: number;
  filesRead: number;
  filesCached: number;
  /** Bytes read (and inflated from archives). */
  bytes: number;
  /** The cache body given could not be parsed (everything was read). */
  cacheCorrupt: boolean;
  /** With a cache: the new body (a JSON object), or undefined when the old one already says it all. */
  cacheBody?: string | Buffer;
}
