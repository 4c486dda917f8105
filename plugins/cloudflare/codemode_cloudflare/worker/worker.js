// codemode's Cloudflare Worker: runs model-written programs in fresh child isolates, with the
// host's tools reached over the wire. Plain JavaScript (an ES module), no build step.
//
// Every program is loaded into a child of its own with the Dynamic Workers binding
// (env.LOADER.load, globalOutbound: null, env: {}): it has no network and no binding, and
// nothing of one program is visible to the next. The child runs codemode's prelude (turn
// protocol 1, the same code the in-process drivers run), so values, console lines, errors and
// bounds behave as in every other codemode driver.
//
// Two protocols (see docs/cloudflare.md):
//   - connected (GET /v1/connect, a WebSocket): one connection per execution; each turn of the
//     program (its tool calls and console lines) goes to the host, which answers with the
//     results. The program runs once.
//   - replay (POST /, wire-compatible with TanStack AI's Worker): the program runs until it
//     needs tool results it does not have; they go back as {status: "need_tools"}, and the
//     host posts again with every result so far; the program re-runs from the start.
//
// Every request (health aside) must carry `Authorization: Bearer <secret>` matching the
// CODEMODE_SECRET secret, compared in constant time. With no secret the Worker refuses to
// serve unless CODEMODE_INSECURE is "1" (local development only).

import { RpcTarget } from "cloudflare:workers";
import { GUARDS, GUARD_FAST, GUARD_SORT, PRELUDE } from "./prelude.js";

const WIRE = 1; // version of the connected-mode messages
const CHILD_COMPATIBILITY_DATE = "2025-06-01";
const MAX_CODE_CHARS = 4 * 1024 * 1024;

// The child's entry module. The program is a module of its own ("program.js": the model's
// code as the body of an async function named __cm_main), the prelude another; this module
// hides what the program must not reach, then runs the program turn after turn.
const CHILD_MAIN = `
import { WorkerEntrypoint } from "cloudflare:workers";
import __cm_install from "./prelude.js";
import __cm_guards from "./guards.js";
import __cm_main from "./program.js";
const __cm_later = setTimeout;
const __cm_hidden = ["fetch", "WebSocket", "WebSocketPair", "setTimeout", "setInterval",
  "clearTimeout", "clearInterval", "setImmediate", "caches", "scheduler", "EventSource",
  "XMLHttpRequest", "connect", "Request", "Response", "Headers", "HTMLRewriter"];
for (const __cm_name of __cm_hidden) {
  try { delete globalThis[__cm_name]; } catch (e) { /* not configurable */ }
  if (typeof globalThis[__cm_name] !== "undefined") {
    try {
      Object.defineProperty(globalThis, __cm_name, { value: undefined, writable: false, configurable: false });
    } catch (e) { /* left as it is: globalOutbound null still denies the network */ }
  }
}
function __cm_settle(api) {
  // A task after the program's microtasks: by then the program waits on the host or settled.
  return new Promise(function __cm_wait(resolve, reject) {
    __cm_later(function __cm_collect() {
      try { resolve(api("collect")); } catch (e) { reject(e); }
    }, 0);
  });
}
function __cm_begin(config) {
  const api = __cm_install(config);
  // Builtins that loop natively over a length the program chose go through JavaScript.
  __cm_guards(${GUARD_FAST}, ${GUARD_SORT});
  api("start", __cm_main);
  return api;
}
function __cm_waiting(turn) {
  return turn.startsWith('{"v":1,"state":"waiting"');
}
export default class __cm_Sandbox extends WorkerEntrypoint {
  // Every waiting turn goes to the host (the parent), whose delivery resumes the program; an
  // empty delivery ends the run here (replay mode: the round is over).
  async run(config, host) {
    const api = __cm_begin(config);
    let turn = await __cm_settle(api);
    while (__cm_waiting(turn)) {
      const delivery = await host.turn(turn);
      if (delivery === "") return "";
      api("deliver", delivery);
      turn = await __cm_settle(api);
    }
    return turn;
  }
}
`;

function json(status, body) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

// Constant time in the length of the expected secret: every byte is compared.
function sameSecret(given, expected) {
  const encoder = new TextEncoder();
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

// null when the request may be served, else the refusal.
function refusal(request, env) {
  const secret = typeof env.CODEMODE_SECRET === "string" ? env.CODEMODE_SECRET : "";
  if (secret === "") {
    if (env.CODEMODE_INSECURE === "1") return null;
    return json(503, {
      status: "error",
      error: {
        name: "WorkerAuthError",
        message: "this Worker has no CODEMODE_SECRET and refuses to serve (set the secret with `wrangler secret put CODEMODE_SECRET`, or run `codemode cloudflare dev --insecure` for local development)",
      },
    });
  }
  const header = request.headers.get("Authorization");
  if (header === null) {
    return json(401, { status: "error", error: { name: "WorkerAuthError", message: "missing Authorization header" } });
  }
  const token = header.startsWith("Bearer ") ? header.slice(7) : header;
  if (!sameSecret(token, secret)) {
    return json(403, { status: "error", error: { name: "WorkerAuthError", message: "wrong Authorization" } });
  }
  return null;
}

function loadChild(env, program) {
  return env.LOADER.load({
    compatibilityDate: CHILD_COMPATIBILITY_DATE,
    mainModule: "main.js",
    modules: {
      "main.js": CHILD_MAIN,
      "prelude.js": "export default " + PRELUDE + ";\n",
      "guards.js": "export default " + GUARDS + ";\n",
      // On its own line 1, so that the program's lines are the module's lines.
      "program.js": "export default " + program + ";\n",
    },
    env: {},
    globalOutbound: null,
  }).getEntrypoint();
}

function describe(error) {
  const name = error && typeof error.name === "string" ? error.name : "Error";
  const message = error && typeof error.message === "string" ? error.message : String(error);
  const stack = error && typeof error.stack === "string" ? error.stack : null;
  // A program that does not compile fails the child's start: "Failed to start Worker:\n
  // Uncaught SyntaxError: <message>\n  at program.js:<line>:<column>". Report it as the
  // program's own error, at its own position.
  const early = /Uncaught (\w+): ([^\n]*)\n\s*at (program\.js:\d+:\d+)/.exec(message);
  if (early !== null) {
    return { name: early[1], message: early[2], stack: early[1] + ": " + early[2] + "\n    at " + early[3] };
  }
  return { name, message, stack };
}

// --- Connected mode ---------------------------------------------------------------------

class Host extends RpcTarget {
  constructor(session) {
    super();
    this.session = session;
  }
  turn(text) {
    return this.session.exchange(text);
  }
}

class Session {
  constructor(socket, env) {
    this.socket = socket;
    this.env = env;
    this.started = false;
    this.waiting = null; // {resolve, reject} of the turn the host is answering
    this.closed = false;
  }

  send(message) {
    if (!this.closed) this.socket.send(JSON.stringify(message));
  }

  fail(name, message, stack = null) {
    this.send({ v: WIRE, type: "error", name, message, stack });
  }

  exchange(text) {
    if (this.closed) return Promise.reject(new Error("the host went away"));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.send({ v: WIRE, type: "turn", turn: text });
    });
  }

  onMessage(data) {
    let message;
    try {
      message = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch (e) {
      return this.fail("WorkerProtocolError", "the host sent a message that is not JSON");
    }
    if (message === null || typeof message !== "object" || message.v !== WIRE) {
      return this.fail("WorkerProtocolError", "the host speaks another version of the connected protocol (this Worker speaks " + WIRE + ")");
    }
    if (message.type === "start" && !this.started && typeof message.program === "string" && typeof message.config === "string") {
      this.started = true;
      if (message.program.length > MAX_CODE_CHARS) return this.fail("WorkerProtocolError", "the program is too long");
      this.run(message.program, message.config);
      return;
    }
    if (message.type === "deliver" && this.waiting !== null && typeof message.delivery === "string") {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(message.delivery);
      return;
    }
    this.fail("WorkerProtocolError", "unexpected message of type " + String(message.type));
  }

  async run(program, config) {
    try {
      const child = loadChild(this.env, program);
      const turn = await child.run(config, new Host(this));
      this.send({ v: WIRE, type: "turn", turn });
    } catch (error) {
      const { name, message, stack } = describe(error);
      this.fail(name, message, stack);
    }
  }

  onClose() {
    this.closed = true;
    if (this.waiting !== null) {
      this.waiting.reject(new Error("the host went away"));
      this.waiting = null;
    }
  }
}

function connect(request, env) {
  if (request.headers.get("Upgrade") !== "websocket") {
    return json(426, { status: "error", error: { name: "WorkerProtocolError", message: "expected a WebSocket upgrade" } });
  }
  const pair = new WebSocketPair();
  const [client, server] = Object.values(pair);
  server.accept();
  const session = new Session(server, env);
  server.addEventListener("message", (event) => session.onMessage(event.data));
  server.addEventListener("close", () => session.onClose());
  server.addEventListener("error", () => session.onClose());
  server.send(JSON.stringify({ v: WIRE, type: "ready" }));
  return new Response(null, { status: 101, webSocket: client });
}

// --- Replay mode (TanStack AI's protocol) --------------------------------------------------

function installConfig(body) {
  const codemode = body.codemode;
  if (codemode && typeof codemode.config === "string") return codemode.config;
  const bindings = body.tools.map((tool) => tool.name);
  return JSON.stringify({
    protocol: 1,
    bindings,
    maxToolCalls: 1000,
    maxLogChars: 1024 * 1024,
    maxResultChars: 10 * 1024 * 1024,
  });
}

// The parent's half of a round, in the parent's own realm (the program can tamper with
// nothing here): console lines are gathered, results the host already has are delivered, and
// the first turn that asks only for unknown results ends the round.
class Round extends RpcTarget {
  constructor(known) {
    super();
    this.known = known;
    this.logs = [];
    this.needed = [];
    this.ended = false;
  }
  take(turn) {
    for (const [level, message] of turn.logs) this.logs.push(level === "log" ? message : "[" + level + "] " + message);
  }
  turn(text) {
    const turn = JSON.parse(text);
    this.take(turn);
    const results = [];
    for (const [id, name, args] of turn.requests) {
      const key = "tc_" + (id - 1);
      const result = Object.hasOwn(this.known, key) ? this.known[key] : null;
      if (result === null || typeof result !== "object") this.needed.push({ id: key, name, args });
      else if (result.success) results.push([id, true, result.value === undefined ? null : result.value]);
      else results.push([id, false, { name: typeof result.name === "string" ? result.name : "Error", message: String(result.error ?? "tool call failed") }]);
    }
    if (results.length === 0) {
      this.ended = true;
      return "";
    }
    return JSON.stringify({ v: 1, results });
  }
  outcome(text) {
    if (this.ended) {
      if (this.needed.length > 0) return { status: "need_tools", toolCalls: this.needed, logs: this.logs, continuationId: crypto.randomUUID() };
      return { status: "done", success: false, error: { name: "Error", message: "the program is waiting for a promise that nothing will settle: only external_* calls settle promises here (there are no timers or events in the sandbox)", limit: true }, logs: this.logs };
    }
    const turn = JSON.parse(text);
    this.take(turn);
    if (turn.state === "returned") return { status: "done", success: true, value: turn.value, logs: this.logs };
    return { status: "done", success: false, error: turn.error, logs: this.logs };
  }
}

async function replay(request, env) {
  let body;
  try {
    body = await request.json();
  } catch (e) {
    return json(400, { status: "error", error: { name: "WorkerProtocolError", message: "the request body is not JSON" } });
  }
  if (body === null || typeof body !== "object" || typeof body.code !== "string" || body.code === "") {
    return json(400, { error: "Code is required" });
  }
  if (!Array.isArray(body.tools) || !body.tools.every((tool) => tool && typeof tool.name === "string" && /^[A-Za-z_$][\w$]*$/.test(tool.name))) {
    return json(400, { status: "error", error: { name: "WorkerProtocolError", message: "tools must be a list of {name, description, inputSchema} with identifier names" } });
  }
  if (body.code.length > MAX_CODE_CHARS) {
    return json(400, { status: "error", error: { name: "WorkerProtocolError", message: "the program is too long" } });
  }
  const known = body.toolResults && typeof body.toolResults === "object" ? body.toolResults : {};
  const round = new Round(known);
  try {
    const child = loadChild(env, "(async function __cm_main() {" + body.code + "\n})");
    const text = await child.run(installConfig(body), round);
    return json(200, round.outcome(text));
  } catch (error) {
    const { name, message, stack } = describe(error);
    return json(200, { status: "done", success: false, error: { name, message, stack }, logs: round.logs });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return json(200, { ok: true, wire: WIRE });
    const refused = refusal(request, env);
    if (refused !== null) return refused;
    if (url.pathname === "/v1/connect") return connect(request, env);
    if (request.method === "POST") return replay(request, env);
    return json(405, { error: "Method not allowed" });
  },
};
