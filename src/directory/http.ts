import { createHash } from "node:crypto";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import { CongruentError, type ErrorCode } from "../errors.js";

/** The HTTP status each directory error code answers with. */
export const httpStatus: Partial<Record<ErrorCode, number>> = {
  E_DIRECTORY_AUTH: 401,
  E_DIRECTORY_FORBIDDEN: 403,
  E_DIRECTORY_INVALID: 400,
  E_DIRECTORY_NOT_FOUND: 404,
  E_DIRECTORY_CONFLICT: 409,
  E_DIRECTORY_RATE_LIMITED: 429,
};

/** An error for one request; `field` names the offending field of the body or query (400). */
export class RequestError extends CongruentError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
  }
}

export const notFound = (what: string, field?: string) => new RequestError("E_DIRECTORY_NOT_FOUND", `${what} not found`, field);

/**
 * Validates `value` with a contract schema; a failure is a 400 naming the first bad field.
 *
 * @example const body = parse(HostCreate, request.body); // 400 {error: "roles.0: …", field: "roles.0"}
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where = "body"): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.map(String).join(".");
  throw new RequestError("E_DIRECTORY_INVALID", `${field || where}: ${issue.message}`, field || undefined);
}

/** The wire form of an error: `{error, code, field?}`. */
export function errorBody(error: FastifyError | CongruentError | Error): { status: number; body: { error: string; code?: string; field?: string } } {
  if (error instanceof CongruentError) {
    const body: { error: string; code: string; field?: string } = { error: error.message, code: error.code };
    if (error instanceof RequestError && error.field !== undefined) body.field = error.field;
    return { status: httpStatus[error.code] ?? 500, body };
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own 4xx (malformed JSON, body too large, wrong content type) keep its FST_ code.
    return { status, body: { error: error.message, code: (error as FastifyError).code ?? "E_DIRECTORY_INVALID" } };
  }
  return { status: 500, body: { error: "internal server error" } };
}

export function sendError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = errorBody(error);
  if (status >= 500) request.log.error({ err: error }, "request failed");
  reply.code(status).send(body);
}

export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
