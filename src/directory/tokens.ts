import { randomBytes } from "node:crypto";

/**
 * The directory's tokens. Host tokens start with {@link HOST_TOKEN_PREFIX} and no admin token
 * may, so an agent can tell, before it sends anything, that it was given the admin token
 * (`manage` refuses it). This file is small on purpose: the agent loads it on every run.
 */
export const HOST_TOKEN_PREFIX = "cgt_";

/** A new host token: 32 random bytes, URL-safe. Only its sha256 is stored. */
export const newToken = () => `${HOST_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;

export const isHostToken = (token: string) => token.startsWith(HOST_TOKEN_PREFIX);

/** The least an admin token may carry: 128 bits (22 base64url characters, 32 hex digits). */
export const ADMIN_TOKEN_BITS = 128;

/**
 * The bits a token of this length carries at most, from the smallest usual alphabet its
 * characters fit (digits, hex, base64/base64url, printable ASCII): an upper bound, enough to
 * refuse a short or typed-in token.
 *
 * @example tokenBits(randomBytes(16).toString("hex")) // 128
 */
export function tokenBits(token: string): number {
  const alphabet = /^\d+$/.test(token) ? 10 : /^[0-9a-f]+$/i.test(token) ? 16 : /^[A-Za-z0-9+/=_-]+$/.test(token) ? 64 : 95;
  return Math.floor(token.length * Math.log2(alphabet));
}
