// Unit tests of the API reader's pure part (web/app/openapi-view.js); the page itself runs in
// tests/integration/test_browser_api_docs.py against the real docs/openapi.yaml.
import { test } from "node:test";
import assert from "node:assert/strict";
import { authOf, basePathOf, buildRequest, deref, exampleOf, groupOperations, resolveRef, schemaText }
  from "../../web/app/openapi-view.js";

const spec = {
  openapi: "3.1.0",
  info: { title: "T", version: "1" },
  servers: [{ url: "http://localhost:8080" }],
  tags: [{ name: "channels", description: "Channels." }, { name: "ops" }],
  security: [{ bearerAuth: [] }],
  paths: {
    "/api/realtime/channels/{channel}/publish": {
      parameters: [{ $ref: "#/components/parameters/Channel" }],
      post: {
        operationId: "publishMessage",
        tags: ["channels"],
        requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Publish" } } } },
        responses: { 200: { description: "stored" }, 400: { $ref: "#/components/responses/Error" } },
      },
    },
    "/api/realtime/channels/{channel}/history": {
      get: {
        operationId: "getHistory",
        tags: ["channels"],
        security: [{}, { bearerAuth: [] }],
        parameters: [{ $ref: "#/components/parameters/Channel" },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100 } }],
        responses: { 200: { description: "ok" } },
      },
    },
    "/api/ops/healthz": { get: { operationId: "healthz", tags: ["ops"], security: [], responses: { 200: { description: "ok" } } } },
  },
  components: {
    parameters: { Channel: { name: "channel", in: "path", required: true, schema: { type: "string" } } },
    schemas: {
      Publish: { type: "object", required: ["data"], properties: { data: { type: "object" },
        note: { type: ["string", "null"] }, tags: { type: "array", items: { enum: ["a", "b"] } } } },
      "a/b": { type: "integer" },
    },
    responses: { Error: { description: "bad", content: { "application/json": { schema: { type: "object" } } } } },
  },
};

test("local refs resolve, escaped names too; others are null", () => {
  assert.equal(resolveRef(spec, "#/components/schemas/a~1b").type, "integer");
  assert.equal(resolveRef(spec, "#/components/schemas/nope"), null);
  assert.equal(resolveRef(spec, "https://example.com/x.json"), null);
  assert.equal(deref(spec, { $ref: "#/components/parameters/Channel" }).name, "channel");
});

test("operations group by tag in the document's order, with path-level parameters merged", () => {
  const groups = groupOperations(spec);
  assert.deepEqual(groups.map((g) => g.tag), ["channels", "ops"]);
  const [publish, history] = groups[0].ops;
  assert.equal(publish.operationId, "publishMessage");
  assert.equal(publish.method, "POST");
  assert.deepEqual(publish.parameters.map((p) => p.name), ["channel"]);
  assert.deepEqual(history.parameters.map((p) => p.name), ["channel", "limit"]);
  assert.deepEqual(publish.responses.map((r) => [r.status, r.description]), [["200", "stored"], ["400", "bad"]]);
});

test("auth reads the security lists: required, optional with {}, none with []", () => {
  const ops = groupOperations(spec).flatMap((g) => g.ops);
  assert.deepEqual(ops.map((o) => o.auth), ["required", "optional", "none"]);
  assert.equal(authOf({}, {}), "none");
});

test("a schema reads as a short type text", () => {
  assert.equal(schemaText(spec, { $ref: "#/components/schemas/Publish" }),
    '{ data: object, note?: string | null, tags?: ("a" | "b")[] }');
  assert.equal(schemaText(spec, undefined), "any");
  assert.equal(schemaText(spec, { type: "object", properties: { a: { type: "object", properties: { b: {} } } } }, 1),
    "{ a?: {…} }");
});

test("an example body holds the required fields only", () => {
  assert.deepEqual(exampleOf(spec, { $ref: "#/components/schemas/Publish" }), { data: {} });
  assert.equal(exampleOf(spec, { type: "integer", minimum: 5 }), 5);
  assert.equal(exampleOf(spec, { type: "string", example: "hi" }), "hi");
});

test("Try it builds the request: path parameters encoded, empty query left out, token sent", () => {
  const ops = groupOperations(spec).flatMap((g) => g.ops);
  const req = buildRequest(ops[0], { channel: "chat:stream abc" }, '{"data":{}}', "tok", basePathOf(spec));
  assert.deepEqual(req, {
    method: "POST",
    url: "/api/realtime/channels/chat%3Astream%20abc/publish",
    headers: { Authorization: "Bearer tok", "Content-Type": "application/json" },
    body: '{"data":{}}',
  });
  assert.equal(buildRequest(ops[1], { channel: "c", limit: "" }, null, "").url, "/api/realtime/channels/c/history");
  assert.equal(buildRequest(ops[1], { channel: "c", limit: "5" }, null, "").url, "/api/realtime/channels/c/history?limit=5");
  assert.throws(() => buildRequest(ops[0], {}, null, ""), /channel is required/);
  assert.deepEqual(buildRequest(ops[2], {}, null, "tok").headers, {}, "no token where none is read");
  assert.equal(basePathOf({ servers: [{ url: "https://x.example/base/" }] }), "/base");
});
