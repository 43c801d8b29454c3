// What the API reader page (/docs/api) shows of an OpenAPI 3.1 document, as plain data: the
// operations grouped by tag, a schema as a short type text, an example body, and the request a
// "Try it" form sends. No DOM here, so tests/js runs it under node; api-docs.js draws it.

const METHODS = ["get", "put", "post", "delete", "patch"];

/** The object a local "$ref" ("#/components/schemas/Error") points at, or null. */
export function resolveRef(spec, ref) {
  if (typeof ref !== "string" || !ref.startsWith("#/")) return null;
  let node = spec;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !(key in node)) return null;
    node = node[key];
  }
  return node;
}

/** obj itself, or what its $ref points at (followed up to 16 times). */
export function deref(spec, obj) {
  for (let i = 0; obj && typeof obj === "object" && obj.$ref && i < 16; i++) {
    const next = resolveRef(spec, obj.$ref);
    if (next === null) return obj;
    obj = next;
  }
  return obj;
}

/** Every operation, [{tag, tagDescription, ops: [{method, path, operationId, summary,
 *  description, parameters, requestBody, responses, auth}]}], tags in the document's order. */
export function groupOperations(spec) {
  const groups = new Map();
  for (const t of spec.tags || []) groups.set(t.name, { tag: t.name, tagDescription: t.description || "", ops: [] });
  for (const [path, item] of Object.entries(spec.paths || {})) {
    const shared = (item.parameters || []).map((p) => deref(spec, p));
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const own = (op.parameters || []).map((p) => deref(spec, p));
      // an operation's own parameter replaces the path item's of the same name and place
      const params = shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)).concat(own);
      const tag = (op.tags && op.tags[0]) || "other";
      if (!groups.has(tag)) groups.set(tag, { tag, tagDescription: "", ops: [] });
      groups.get(tag).ops.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId || `${method} ${path}`,
        summary: op.summary || "",
        description: op.description || "",
        parameters: params,
        requestBody: op.requestBody ? deref(spec, op.requestBody) : null,
        responses: Object.entries(op.responses || {}).map(([status, r]) => ({ status, ...deref(spec, r) })),
        auth: authOf(spec, op),
      });
    }
  }
  return [...groups.values()].filter((g) => g.ops.length > 0);
}

/** "required", "optional" (a token is read when sent) or "none", from the security lists. */
export function authOf(spec, op) {
  const sec = op.security !== undefined ? op.security : spec.security || [];
  if (sec.length === 0) return "none";
  const anonymous = sec.some((s) => Object.keys(s).length === 0);
  return anonymous ? "optional" : "required";
}

/** A schema as a short type text: `{ content: string, id?: integer }`, `string[]`,
 *  `"a" | "b"`; nested objects down to depth, then `{…}`. */
export function schemaText(spec, schema, depth = 3) {
  schema = deref(spec, schema);
  if (!schema || typeof schema !== "object") return "any";
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  for (const k of ["oneOf", "anyOf"]) {
    if (Array.isArray(schema[k])) return schema[k].map((s) => schemaText(spec, s, depth)).join(" | ");
  }
  if (Array.isArray(schema.allOf)) return schema.allOf.map((s) => schemaText(spec, s, depth)).join(" & ");
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const one = (t) => {
    if (t === "array") return `${wrap(schemaText(spec, schema.items, depth))}[]`;
    if (t === "object" || (t === undefined && schema.properties)) {
      if (!schema.properties) return "object";
      if (depth <= 0) return "{…}";
      const req = new Set(schema.required || []);
      const fields = Object.entries(schema.properties).map(
        ([k, v]) => `${k}${req.has(k) ? "" : "?"}: ${schemaText(spec, v, depth - 1)}`);
      return `{ ${fields.join(", ")} }`;
    }
    return t;
  };
  if (types.length === 0) return schema.properties ? one(undefined) : "any";
  return types.map(one).join(" | ");
}

function wrap(text) {
  return /[|&]/.test(text) ? `(${text})` : text;
}

/** An example value for schema: its example, default, first enum value, or one built from its
 *  type (required properties only, so the example is the least a request needs). */
export function exampleOf(spec, schema, depth = 4) {
  schema = deref(spec, schema);
  if (!schema || typeof schema !== "object") return null;
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const k of ["oneOf", "anyOf"]) if (Array.isArray(schema[k])) return exampleOf(spec, schema[k][0], depth);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "string": return schema.format === "date-time" ? "2026-01-01T00:00:00Z" : "string";
    case "integer": return schema.minimum !== undefined ? schema.minimum : 1;
    case "number": return 1.5;
    case "boolean": return true;
    case "array": return depth > 0 ? [exampleOf(spec, schema.items, depth - 1)] : [];
    default: {
      const out = {};
      if (depth <= 0 || !schema.properties) return out;
      for (const k of schema.required || []) {
        if (schema.properties[k]) out[k] = exampleOf(spec, schema.properties[k], depth - 1);
      }
      return out;
    }
  }
}

/** The JSON schema of a request body, or null (form-encoded bodies included, under their type). */
export function bodySchema(requestBody) {
  const content = requestBody && requestBody.content;
  if (!content) return null;
  const type = Object.keys(content)[0];
  return { type, schema: content[type].schema || null };
}

/** The path the document's first server puts before every path ("" for "http://host:8080"): the
 *  page sends to its own origin, wherever the document says the server is. */
export function basePathOf(spec) {
  const url = spec.servers && spec.servers[0] && spec.servers[0].url;
  if (!url) return "";
  try {
    return new URL(url, "http://localhost/").pathname.replace(/\/+$/, "");
  } catch (e) {
    return "";
  }
}

/** What "Try it" sends: values maps a parameter's name to its text ("" or absent: left out);
 *  body is the body text or null. Throws on a missing path parameter. */
export function buildRequest(op, values, body, token, basePath = "") {
  let path = basePath + op.path;
  const query = new URLSearchParams();
  for (const p of op.parameters) {
    const v = values[p.name];
    if (p.in === "path") {
      if (v === undefined || v === "") throw new Error(`${p.name} is required`);
      path = path.replace(`{${p.name}}`, encodeURIComponent(v));
    } else if (p.in === "query" && v !== undefined && v !== "") {
      query.set(p.name, v);
    }
  }
  const headers = {};
  if (token && op.auth !== "none") headers.Authorization = `Bearer ${token}`;
  const b = bodySchema(op.requestBody);
  if (body !== null && body !== undefined && body !== "" && b) headers["Content-Type"] = b.type;
  const qs = query.toString();
  return {
    method: op.method,
    url: qs ? `${path}?${qs}` : path,
    headers,
    body: headers["Content-Type"] ? body : null,
  };
}
