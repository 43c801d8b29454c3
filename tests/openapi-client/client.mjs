// A client generated at run time from docs/openapi.yaml (as JSON) by swagger-client, Swagger's
// JavaScript client: the calls below name operations by operationId and pass parameters by
// name, as a site's backend would. Prints one JSON line per call: {op, status, body}.
// Usage: node client.mjs SPEC.json BASE_URL TOKEN CHANNEL
import { readFileSync } from "node:fs";
import SwaggerClient from "swagger-client";

const [specPath, base, token, channel] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specPath, "utf8"));
spec.servers = [{ url: base }];
const client = await SwaggerClient({ spec, authorizations: { bearerAuth: { value: token } } });

async function call(op, params, body) {
  try {
    const r = await client.execute({ operationId: op, parameters: params, requestBody: body });
    console.log(JSON.stringify({ op, status: r.status, body: r.body }));
  } catch (e) {
    // swagger-client throws on 4xx/5xx with the response attached
    console.log(JSON.stringify({ op, status: e.status ?? e.response?.status ?? 0, body: e.response?.body ?? String(e) }));
  }
}

await call("publishMessage", { channel }, { data: { content: "from a generated client" } });
await call("getHistory", { channel, limit: 10 });
await call("getChannel", { channel });
await call("listChannels", {});
await call("publishMessage", { channel: "bad name" }, { data: {} });
