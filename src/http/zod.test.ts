import { z as extended } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { z } from "./zod";

describe("the zod the service bundles", () => {
  it('is the one the OpenAPI extension sees and extends ("zod" is aliased to it)', () => {
    expect(extended).toBe(z);
    expect(typeof z.string().openapi).toBe("function");
  });

  it("exports what the service uses and nothing else: no locales, no JSON Schema converters", () => {
    expect(Object.keys(z).sort()).toEqual(
      ["ZodType", "array", "boolean", "discriminatedUnion", "email", "enum", "literal", "number", "object", "record", "string", "unknown"].sort(),
    );
  });
});
