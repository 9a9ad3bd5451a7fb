/// <reference types="vite/client" />
import { SELF } from "cloudflare:test";
import apiMarkdown from "../../docs/api.md?raw";

/**
 * The contract (docs/api.md) and the served OpenAPI document, read the same
 * way by every test that needs the list of endpoints: the OpenAPI test checks
 * that the two agree, the CSRF suite walks every state-changing operation.
 * A parser only: the users and communities to call them with are fixtures.ts's.
 */

export const METHODS = ["get", "post", "put", "patch", "delete"] as const;
export type HttpMethod = (typeof METHODS)[number];

export interface OpenAPIOperation {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JSONSchema }> };
  parameters?: { name: string; in: string; required?: boolean }[];
  responses?: Record<string, unknown>;
}

export interface JSONSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JSONSchema>;
  required?: string[];
  oneOf?: JSONSchema[];
  anyOf?: JSONSchema[];
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
}

export interface OpenAPIDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Partial<Record<HttpMethod, OpenAPIOperation>>>;
  components?: { schemas?: Record<string, JSONSchema> };
}

export interface Operation {
  method: HttpMethod;
  /** As the document writes it, e.g. `/api/security/totp/{id}/confirm`. */
  path: string;
  operation: OpenAPIOperation;
}

/** `{id}`, `{cid}`, `{uid}` all become `{}`; a trailing slash is dropped. */
export function normalisePath(path: string): string {
  const p = path.replace(/\{[^}]+\}/g, "{}");
  return p.length > 1 ? p.replace(/\/+$/, "") : p;
}

export function key(method: string, path: string): string {
  return `${method.toUpperCase()} ${normalisePath(path)}`;
}

/**
 * Every `METHOD /api/...` that opens a row of one of the contract's tables
 * (the first cell), normalised. Mentions elsewhere in prose or in other cells
 * are not endpoint definitions.
 */
export function contractEndpoints(markdown: string = apiMarkdown): Set<string> {
  const found = new Set<string>();
  for (const line of markdown.split("\n")) {
    const m = /^\|\s*`(GET|POST|PUT|PATCH|DELETE) (\/api\/[^`\s]*)`/.exec(line);
    if (m) found.add(key(m[1] as string, m[2] as string));
  }
  return found;
}

export async function openAPIDocument(): Promise<OpenAPIDocument> {
  const res = await SELF.fetch("http://localhost/api/openapi.json");
  if (res.status !== 200) throw new Error(`openapi.json answered ${res.status}`);
  return (await res.json()) as OpenAPIDocument;
}

export function operationsOf(doc: OpenAPIDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) ops.push({ method, path, operation });
    }
  }
  return ops;
}

export function resolve(doc: OpenAPIDocument, schema: JSONSchema | undefined): JSONSchema | undefined {
  if (!schema?.$ref) return schema;
  const name = schema.$ref.replace("#/components/schemas/", "");
  return resolve(doc, doc.components?.schemas?.[name]);
}

export function bodySchema(doc: OpenAPIDocument, op: Operation): JSONSchema | undefined {
  return resolve(doc, op.operation.requestBody?.content?.["application/json"]?.schema);
}

/** The properties every accepted body must have: for a union, those all its branches require. */
export function requiredOf(doc: OpenAPIDocument, schema: JSONSchema | undefined): string[] {
  if (!schema) return [];
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches) {
    const sets = branches.map((b) => new Set(requiredOf(doc, resolve(doc, b))));
    const [first, ...rest] = sets;
    return [...(first ?? [])].filter((p) => rest.every((s) => s.has(p))).sort();
  }
  return [...(schema.required ?? [])].sort();
}

export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for path parameter ${name}`);
    return encodeURIComponent(v);
  });
}
