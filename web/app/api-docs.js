// The API reader (/docs/api): draws /openapi.json (docs/openapi.yaml, converted by
// tools/openapi-json.py) as a list of operations by tag, each opening to its parameters, body
// and responses, with a "Try it" form that sends the request from this page with your token.
// Every text of the document goes in as text, never as HTML.
import { currentSession } from "/app/session.js";
import { showWho } from "/app/who.js";
import { basePathOf, bodySchema, buildRequest, exampleOf, groupOperations, schemaText } from "/app/openapi-view.js";

const session = currentSession();
showWho(document.getElementById("who"), session);

function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") n.className = v;
    else if (k === "text") n.textContent = v;
    else n.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) n.append(c);
  return n;
}

/** Text with its `code spans` as <code>: the descriptions are Markdown, of which only these are
 *  drawn; the rest stays as written. */
function prose(text, cls = "prose") {
  const p = el("span", { class: cls });
  text.split("`").forEach((part, i) => p.append(i % 2 ? el("code", { text: part }) : part));
  return p;
}

const AUTH_TEXT = {
  required: "token required",
  optional: "token optional",
  none: "no token",
};

function paramsTable(op) {
  if (op.parameters.length === 0) return null;
  const body = el("tbody");
  for (const p of op.parameters) {
    body.append(el("tr", {},
      el("td", {}, el("code", { text: p.name }), p.required ? el("span", { class: "req", text: " *" }) : null),
      el("td", { text: p.in }),
      el("td", {}, el("code", { text: schemaText(spec, p.schema) })),
      el("td", {}, prose(p.description || ""))));
  }
  return el("table", { class: "params" },
    el("thead", {}, el("tr", {}, el("th", { text: "name" }), el("th", { text: "in" }),
      el("th", { text: "type" }), el("th", { text: "" }))), body);
}

function responsesList(op) {
  const list = el("ul", { class: "responses" });
  for (const r of op.responses) {
    const content = r.content ? Object.entries(r.content) : [];
    const shapes = content.map(([type, c]) => el("div", {},
      el("span", { class: "muted", text: `${type} ` }),
      el("code", { class: "shape", text: c.schema ? schemaText(spec, c.schema) : "" })));
    list.append(el("li", { "data-status": r.status },
      el("b", { class: `status s${String(r.status)[0]}`, text: r.status }), " ",
      prose(r.description || ""), ...shapes));
  }
  return list;
}

function tryIt(op) {
  const form = el("form", { class: "try" });
  const inputs = {};
  for (const p of op.parameters.filter((q) => q.in === "path" || q.in === "query")) {
    const input = el("input", { name: p.name, placeholder: schemaText(spec, p.schema) });
    if (p.required) input.required = true;
    inputs[p.name] = input;
    form.append(el("label", {}, `${p.name} (${p.in}) `, input));
  }
  const b = bodySchema(op.requestBody);
  let bodyArea = null;
  if (b) {
    const example = b.type === "application/json"
      ? JSON.stringify(exampleOf(spec, b.schema), null, 2)
      : new URLSearchParams(exampleOf(spec, b.schema) || {}).toString();
    bodyArea = el("textarea", { name: "body", rows: "6", spellcheck: "false" });
    bodyArea.value = example;
    form.append(el("label", {}, `body (${b.type})`, bodyArea));
  }
  const out = el("pre", { class: "try-out", hidden: "" });
  form.append(el("button", { type: "submit", text: "Send" }), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const values = Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value]));
    const token = document.getElementById("token").value.trim();
    out.hidden = false;
    let req;
    try {
      req = buildRequest(op, values, bodyArea ? bodyArea.value : null, token, basePath);
    } catch (e) {
      out.textContent = e.message;
      return;
    }
    out.textContent = `${req.method} ${req.url} …`;
    try {
      const r = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
      const text = await r.text();
      let shown = text;
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch (e) {
        // not JSON (the metrics): as it came
      }
      out.dataset.status = String(r.status);
      out.textContent = `${req.method} ${req.url}\n${r.status} ${r.statusText}\n\n${shown}`;
    } catch (e) {
      out.textContent = `${req.method} ${req.url}\nfailed: ${e.message}`;
    }
  });
  return form;
}

function operation(op) {
  const b = bodySchema(op.requestBody);
  const d = el("details", { class: "op", id: op.operationId, "data-method": op.method });
  d.append(el("summary", {},
    el("span", { class: `method m-${op.method.toLowerCase()}`, text: op.method }), " ",
    el("code", { class: "path", text: op.path }), " ",
    el("span", { class: "op-summary", text: op.summary }),
    el("span", { class: `auth a-${op.auth}`, text: AUTH_TEXT[op.auth] })));
  d.append(el("p", { class: "muted" }, "operationId ", el("code", { text: op.operationId })));
  if (op.description) d.append(el("p", {}, prose(op.description)));
  const params = paramsTable(op);
  if (params) d.append(el("h4", { text: "Parameters" }), params);
  if (b) {
    d.append(el("h4", { text: `Body (${b.type})` }),
      el("code", { class: "shape", text: schemaText(spec, b.schema) }));
  }
  d.append(el("h4", { text: "Responses" }), responsesList(op), el("h4", { text: "Try it" }), tryIt(op));
  return d;
}

function applyFilter(text) {
  const q = text.trim().toLowerCase();
  for (const d of document.querySelectorAll("details.op")) {
    const hay = `${d.dataset.method} ${d.querySelector(".path").textContent} ${d.id} ${d.querySelector(".op-summary").textContent}`.toLowerCase();
    d.hidden = q !== "" && !hay.includes(q);
  }
  for (const s of document.querySelectorAll("section.tag")) {
    s.hidden = [...s.querySelectorAll("details.op")].every((d) => d.hidden);
  }
}

let spec = null;
let basePath = "";
const main = document.getElementById("api");

async function load() {
  let r;
  try {
    r = await fetch("/openapi.json");
    if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
    spec = await r.json();
  } catch (e) {
    main.replaceChildren(el("p", { class: "chat-banner", "data-kind": "error", text: `Could not load /openapi.json: ${e.message}` }));
    return;
  }
  basePath = basePathOf(spec);
  document.getElementById("title").textContent = `${spec.info.title} ${spec.info.version}`;
  document.getElementById("intro").replaceChildren(prose(spec.info.description || ""));
  const token = document.getElementById("token");
  token.value = session.token || "";
  const nodes = [];
  for (const g of groupOperations(spec)) {
    const sec = el("section", { class: "tag", id: `tag-${g.tag}` }, el("h2", { text: g.tag }));
    if (g.tagDescription) sec.append(el("p", { class: "muted" }, prose(g.tagDescription)));
    for (const op of g.ops) sec.append(operation(op));
    nodes.push(sec);
  }
  main.replaceChildren(...nodes);
  document.getElementById("count").textContent = `${document.querySelectorAll("details.op").length} operations`;
  document.getElementById("filter").addEventListener("input", (ev) => applyFilter(ev.target.value));
  if (location.hash) {
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      target.scrollIntoView();
    }
  }
  document.body.dataset.ready = "true";
}

load();
