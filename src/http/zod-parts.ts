/**
 * The members of zod the service uses, gathered as the namespace `z` by
 * src/http/zod.ts (which says why). To use another part of zod, export it here.
 */
export type { infer } from "zod/v4";
export { array, boolean, discriminatedUnion, email, enum, literal, number, object, record, string, unknown, ZodType } from "zod/v4";
