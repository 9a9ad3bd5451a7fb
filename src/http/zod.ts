/**
 * The part of zod the service uses, as the namespace `z` (its members:
 * src/http/zod-parts.ts).
 *
 * "zod" itself is aliased to this file when the Worker is bundled
 * (wrangler.toml `[alias]`) and in the tests (vitest.config.ts), because
 * @hono/zod-openapi hands zod's whole namespace object to the OpenAPI
 * extension, and a namespace passed around whole keeps every member in the
 * bundle: zod's forty-odd locales and its JSON Schema converters were half of
 * the Worker. The extension reads only `z.ZodType` (to add `.openapi()`).
 * TypeScript refuses any other part of zod, since the service imports `z`
 * only from here.
 */
export * as z from "./zod-parts";
