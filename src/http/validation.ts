import type { Hook } from "@hono/zod-openapi";
import { AppError, type FieldError } from "./errors";

/**
 * The one place a schema failure becomes `400 invalid_request`. Lists the field
 * paths and the rule each broke; never echoes the value (it may be a password).
 */
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (result.success) return;
  const issues = (result.error as { issues?: { path: PropertyKey[]; message: string; code?: string }[] }).issues ?? [];
  const errors: FieldError[] = issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
  const fields = [...new Set(errors.map((e) => e.path))].join(", ");
  throw new AppError("invalid_request", `Invalid field${errors.length === 1 ? "" : "s"}: ${fields}`, { errors });
};
