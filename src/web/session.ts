import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type {} from "@fastify/cookie";
import { sha256 } from "../directory/http.js";
import type { Storage } from "../directory/storage.js";

/** Who is looking at the dashboard. */
export interface Session {
  role: "admin" | "viewer";
  /** The viewer token's id; "admin" for the admin. */
  subject: string;
  /** Shown in the header: "admin" or the viewer token's name. */
  name: string;
  /** Random per login: what CSRF tokens are bound to. */
  sid: string;
  /** Milliseconds since the epoch. */
  expires: number;
}

export const SESSION_COOKIE = "congruent_session";
/** An operator keeps the page open for a working day and more. */
export const SESSION_MS = 24 * 3600_000;

/**
 * Sessions live in a signed cookie: no server-side store, so several directories sharing one
 * database accept each other's sessions. The signing key derives from the admin token, so a new
 * admin token ends every session; a removed viewer token ends its sessions at their next request.
 */
export class Sessions {
  readonly cookieSecret: string;

  constructor(
    adminTokenHash: string,
    private readonly storage: Storage,
    private readonly now: () => Date,
  ) {
    this.cookieSecret = createHmac("sha256", Buffer.from(adminTokenHash, "hex")).update("congruent dashboard sessions").digest("base64url");
    this.admin = Buffer.from(adminTokenHash, "hex");
  }

  private readonly admin: Buffer;

  /** The session a token opens: the admin token or a viewer token; null for anything else (host tokens included). */
  async login(token: string): Promise<Session | null> {
    const hash = sha256(token.trim());
    const given = Buffer.from(hash, "hex");
    const base = { sid: randomBytes(16).toString("base64url"), expires: this.now().getTime() + SESSION_MS };
    if (given.length === this.admin.length && timingSafeEqual(given, this.admin)) return { role: "admin", subject: "admin", name: "admin", ...base };
    const viewer = await this.storage.viewers.byTokenHash(hash);
    return viewer ? { role: "viewer", subject: viewer.id, name: viewer.name, ...base } : null;
  }

  /** The cookie's session when it is signed by us, unexpired, and (for a viewer) its token still exists. */
  async fromCookie(request: FastifyRequest): Promise<Session | null> {
    const raw = request.cookies[SESSION_COOKIE];
    if (!raw) return null;
    const { valid, value } = request.unsignCookie(raw);
    if (!valid || !value) return null;
    let s: Session;
    try {
      s = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Session;
    } catch {
      return null;
    }
    return (await this.stillValid(s)) ? s : null;
  }

  /** Checked at every request and, for live streams, at every heartbeat. */
  async stillValid(s: Session): Promise<boolean> {
    if (typeof s.expires !== "number" || s.expires <= this.now().getTime()) return false;
    if (s.role === "admin") return s.subject === "admin";
    return s.role === "viewer" && (await this.storage.viewers.get(s.subject)) !== null;
  }

  /** A script's `Authorization: Bearer` token on a GET (exports): a session for this request only. */
  async fromBearer(request: FastifyRequest): Promise<Session | null> {
    const header = request.headers.authorization;
    if (!header?.startsWith("Bearer ")) return null;
    return this.login(header.slice(7));
  }

  set(reply: FastifyReply, s: Session): void {
    reply.setCookie(SESSION_COOKIE, Buffer.from(JSON.stringify(s)).toString("base64url"), cookieOptions(s.expires));
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, cookieOptions());
  }
}

/** HttpOnly, SameSite=Strict, Secure whenever the request came over TLS. */
export const cookieOptions = (expires?: number) => ({ path: "/", httpOnly: true, sameSite: "strict" as const, secure: "auto" as const, signed: true, ...(expires ? { expires: new Date(expires) } : {}) });
