// The codemode page: a playground and a chat, both reading the library's AG-UI SSE stream.
// Plain JavaScript (no build step); the editor is Ace, vendored under /static/vendor/ace.

const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function short(value, limit = 160) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length <= limit ? text : text.slice(0, limit - 1) + "…";
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

// --- The AG-UI stream ------------------------------------------------------------------------

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const reply = await response.json().catch(() => ({ error: response.statusText }));
    throw new Error(reply.error || `HTTP ${response.status}`);
  }
  return response;
}

// Reads `data:` lines of a Server-Sent Events response, one AG-UI event each.
async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = message
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) onEvent(JSON.parse(data));
    }
  }
}

// --- Timeline of code_mode:* events ----------------------------------------------------------

class Timeline {
  constructor(list) {
    this.list = list;
    this.started = null;
    this.calls = new Map();
  }

  clear() {
    this.list.replaceChildren();
    this.started = null;
    this.calls.clear();
  }

  // Times are when the page received each event (one clock for all of them).
  add(kind, text) {
    const at = performance.now();
    if (this.started === null) this.started = at;
    const item = element(
      "li",
      { class: kind.split(" ").map((part) => `t-${part}`).join(" "), "data-kind": kind },
      element("span", { class: "at", text: `${Math.round(at - this.started)} ms` }),
      element("span", { class: "what", text }),
    );
    this.list.append(item);
    item.scrollIntoView({ block: "nearest" });
    return item;
  }

  // One code_mode:* event; returns true when it was one of ours.
  event(name, value) {
    switch (name) {
      case "code_mode:execution_started":
        this.add("started", `▶ started: ${value.codeLength} characters of JavaScript`);
        return true;
      case "code_mode:console":
        this.add(`console ${value.level}`, `${value.level.padEnd(5)} ${value.message}`);
        return true;
      case "code_mode:external_call": {
        const item = this.add("call", `→ ${value.function}(${short(value.args, 200)})`);
        this.calls.set(value.callId, item);
        return true;
      }
      case "code_mode:external_result":
      case "code_mode:external_error": {
        const failed = name.endsWith("error");
        const call = this.calls.get(value.callId);
        if (call) call.querySelector(".what").append(element("span", { class: "duration", text: `  ${value.duration} ms` }));
        const text = failed
          ? `✗ ${value.function} ${value.duration} ms: ${value.error}`
          : `← ${value.function} ${value.duration} ms: ${short(value.result)}`;
        this.add(failed ? "error" : "result", text);
        return true;
      }
      case "code_mode:execution_finished":
        this.add(
          value.success ? "finished" : "failed",
          `■ finished in ${value.durationMs} ms: ${value.success ? "success" : "failed"}, ${value.toolCalls} tool calls`,
        );
        return true;
      case "code_mode:skill_call":
        this.add("call", `→ skill_${value.skill}(${short(value.input, 200)})`);
        return true;
      case "code_mode:skill_result":
        this.add("result", `← skill_${value.skill} ${value.duration ?? ""} ms: ${short(value.result)}`);
        return true;
      case "code_mode:skill_error":
        this.add("error", `✗ skill_${value.skill}: ${short(value.error)}`);
        return true;
      default:
        return false;
    }
  }
}

// --- The page's shared state -------------------------------------------------------------------

const state = { info: null, driver: null };

function setView(view) {
  for (const tab of document.querySelectorAll("nav button")) {
    tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  }
  $("#playground").hidden = view !== "playground";
  $("#chat").hidden = view !== "chat";
  if (view === "chat") refreshSkills();
}

async function loadInfo() {
  const response = await fetch("/api/info");
  state.info = await response.json();
  const info = state.info;
  $("#version").textContent = `v${info.version}`;
  const select = $("#driver");
  for (const driver of info.drivers) {
    const label = driver.aliases.length ? `${driver.name} (${driver.aliases.join(", ")})` : driver.name;
    const option = element("option", { value: driver.name, text: label });
    if (!driver.available) {
      option.disabled = true;
      option.title = driver.reason;
      option.textContent += " — needs configuration";
    }
    select.append(option);
  }
  select.value = info.defaultDriver;
  state.driver = info.defaultDriver;
  select.addEventListener("change", () => (state.driver = select.value));
  for (const tool of info.tools) {
    $("#tools").append(
      element(
        "details",
        { "data-tool": tool.name },
        element(
          "summary",
          {},
          element("code", { text: `external_${tool.name}` }),
          element("span", { text: tool.description }),
        ),
        element("pre", { text: tool.declaration }),
      ),
    );
  }
}

// --- Playground --------------------------------------------------------------------------------

const playground = {
  editor: null,
  timeline: null,
  runId: null,
  running: false,
  marker: null,
  ticker: null,
};

function setupEditor() {
  const editor = ace.edit("editor", {
    mode: "ace/mode/typescript",
    theme: "ace/theme/github",
    useWorker: false,
    showPrintMargin: false,
    tabSize: 2,
    useSoftTabs: true,
  });
  editor.commands.addCommand({
    name: "run",
    bindKey: { win: "Ctrl-Enter", mac: "Cmd-Enter" },
    exec: () => runProgram(),
  });
  editor.session.on("change", () => clearErrorMark());
  playground.editor = editor;
  // For tests and for the console: window.codemode.setProgram("return 1").
  window.codemode = {
    setProgram: (code) => editor.setValue(code, 1),
    program: () => editor.getValue(),
  };
}

function showExamples() {
  const row = $("#examples");
  for (const example of state.info.examples) {
    const button = element("button", { "data-example": example.id, title: example.description, text: example.title });
    button.addEventListener("click", () => {
      for (const other of row.querySelectorAll("button")) other.classList.remove("active");
      button.classList.add("active");
      playground.editor.setValue(example.code, -1);
    });
    row.append(button);
  }
  row.querySelector("button")?.click();
}

function clearErrorMark() {
  const session = playground.editor.session;
  session.clearAnnotations();
  if (playground.marker !== null) session.removeMarker(playground.marker);
  playground.marker = null;
  $("#error-banner").hidden = true;
}

function markError(error) {
  const banner = $("#error-banner");
  const where = error.line ? `line ${error.line}: ` : "";
  banner.textContent = `${where}${error.name}: ${error.message}`;
  banner.hidden = false;
  if (!error.line) return;
  const row = error.line - 1;
  const session = playground.editor.session;
  session.setAnnotations([{ row, column: 0, text: `${error.name}: ${error.message}`, type: "error" }]);
  const Range = ace.require("ace/range").Range;
  playground.marker = session.addMarker(new Range(row, 0, row, 1), "error-line", "fullLine");
  playground.editor.scrollToLine(row, true, true, () => {});
}

function setRunning(running, status) {
  playground.running = running;
  $("#run").disabled = running;
  $("#stop").disabled = !running;
  clearInterval(playground.ticker);
  const statusLine = $("#status");
  if (running) {
    const started = performance.now();
    const tick = () => (statusLine.textContent = `running… ${((performance.now() - started) / 1000).toFixed(1)} s`);
    tick();
    playground.ticker = setInterval(tick, 100);
  } else {
    statusLine.textContent = status;
  }
}

function showResult(content) {
  const box = $("#result");
  let outcome;
  try {
    outcome = JSON.parse(content);
  } catch {
    box.className = "result bad";
    box.textContent = content;
    return null;
  }
  if (outcome.success) {
    box.className = "result ok";
    box.textContent = JSON.stringify(outcome.result, null, 2);
  } else if (outcome.error) {
    box.className = "result bad";
    const error = outcome.error;
    box.textContent = `${error.name}: ${error.message}` + (error.line ? ` (line ${error.line})` : "");
    markError(error);
  } else {
    box.className = "result bad";
    box.textContent = JSON.stringify(outcome, null, 2);
  }
  return outcome;
}

function showBytes(finished) {
  const stayed = finished.toolResultBytes ?? 0;
  const returned = finished.resultBytes ?? 0;
  $("#bytes").replaceChildren(
    element("span", { text: `${finished.toolCalls} tool calls. Tool results that stayed in the sandbox: ` }),
    element("strong", { "data-testid": "bytes-stayed", text: bytes(stayed) }),
    element("span", { text: " · returned to the model: " }),
    element("strong", { "data-testid": "bytes-returned", text: bytes(returned) }),
  );
}

async function runProgram() {
  if (playground.running) return;
  clearErrorMark();
  playground.timeline.clear();
  $("#bytes").replaceChildren();
  const box = $("#result");
  box.className = "result muted";
  box.textContent = "…";
  setRunning(true);
  let outcome = null;
  let ended = "ended";
  try {
    const response = await postJSON("/api/run", { code: playground.editor.getValue(), driver: state.driver });
    await readEvents(response, (event) => {
      if (event.type === "RUN_STARTED") playground.runId = event.runId;
      else if (event.type === "CUSTOM") {
        if (event.name === "code_mode:execution_finished") showBytes(event.value);
        playground.timeline.event(event.name, event.value);
      } else if (event.type === "TOOL_CALL_RESULT") outcome = showResult(event.content);
      else if (event.type === "RUN_ERROR") {
        ended = event.code === "Stopped" ? "stopped" : "failed";
        playground.timeline.add("failed", `■ ${event.code}: ${event.message}`);
        if (!outcome) {
          box.className = "result bad";
          box.textContent = `${event.code}: ${event.message}`;
        }
      } else if (event.type === "RUN_FINISHED") ended = outcome?.success ? "succeeded" : "failed";
    });
  } catch (error) {
    ended = "failed";
    box.className = "result bad";
    box.textContent = String(error.message || error);
  } finally {
    playground.runId = null;
    setRunning(false, ended);
  }
}

async function stopProgram() {
  if (!playground.runId) return;
  $("#status").textContent = "stopping…";
  await postJSON(`/api/runs/${playground.runId}/stop`, {});
}

// --- Chat --------------------------------------------------------------------------------------

const conversation = { history: [], runId: null, running: false };

class AssistantView {
  constructor(container) {
    this.container = container;
    this.texts = new Map();
    this.calls = new Map();
    this.messages = new Map();
  }

  // The OpenAI-style message this AG-UI message id stands for, made on first sight, so that
  // the history sent with the next question has the assistant's turns in order.
  message(id) {
    let message = this.messages.get(id);
    if (!message) {
      message = { role: "assistant", content: "" };
      this.messages.set(id, message);
      conversation.history.push(message);
    }
    return message;
  }

  event(event) {
    this.handle(event);
    this.container.lastElementChild?.scrollIntoView({ block: "end" });
  }

  handle(event) {
    switch (event.type) {
      case "TEXT_MESSAGE_START": {
        const text = element("div", { class: "text", "data-testid": "assistant-text" });
        this.container.append(text);
        this.texts.set(event.messageId, text);
        this.message(event.messageId);
        break;
      }
      case "TEXT_MESSAGE_CONTENT":
        this.texts.get(event.messageId)?.append(event.delta);
        this.message(event.messageId).content += event.delta;
        break;
      case "TOOL_CALL_START": {
        const card = element("div", { class: "call-card", "data-testid": "tool-call", "data-tool": event.toolCallName });
        const head = element("header", {}, element("code", { text: event.toolCallName }));
        const code = element("pre", { class: "program-code" });
        const list = element("ol", { class: "timeline" });
        const outcome = element("pre", { class: "outcome", "data-testid": "tool-result" });
        card.append(head, code, list, outcome);
        this.container.append(card);
        const message = this.message(event.parentMessageId ?? event.toolCallId);
        const call = { id: event.toolCallId, type: "function", function: { name: event.toolCallName, arguments: "" } };
        (message.tool_calls ??= []).push(call);
        this.calls.set(event.toolCallId, { card, code, outcome, call, timeline: new Timeline(list) });
        break;
      }
      case "TOOL_CALL_ARGS": {
        const entry = this.calls.get(event.toolCallId);
        if (entry) entry.call.function.arguments += event.delta;
        break;
      }
      case "TOOL_CALL_END": {
        const entry = this.calls.get(event.toolCallId);
        if (!entry) break;
        let args;
        try {
          args = JSON.parse(entry.call.function.arguments || "{}");
        } catch {
          args = entry.call.function.arguments;
        }
        const name = entry.call.function.name;
        if (name === "execute_typescript" && typeof args === "object") entry.code.textContent = args.typescriptCode;
        else if (name === "register_skill" && typeof args === "object") {
          entry.card.querySelector("header").append(` ${args.name}: ${args.description}`);
          entry.code.textContent = args.code;
        } else entry.code.textContent = JSON.stringify(args);
        break;
      }
      case "CUSTOM": {
        const entry = this.calls.get(event.value?.toolCallId);
        if (event.name === "skill:registered") {
          this.container.append(
            element("div", { class: "notice", "data-testid": "skill-registered", text: `skill registered: ${event.value.name} — ${event.value.description}` }),
          );
          refreshSkills();
        } else if (event.name === "code_mode:run_summary") {
          const s = event.value;
          this.container.append(
            element("div", {
              class: "summary",
              "data-testid": "run-summary",
              text:
                `${s.executions} program runs, ${s.sandboxToolCalls} tool calls in the sandbox: ` +
                `${bytes(s.toolResultBytes)} of tool results stayed in the sandbox, ` +
                `${bytes(s.resultBytes)} reached the model` +
                (s.usage ? ` · ${s.usage.totalTokens} tokens` : ""),
            }),
          );
        } else if (entry) entry.timeline.event(event.name, event.value);
        break;
      }
      case "TOOL_CALL_RESULT": {
        const entry = this.calls.get(event.toolCallId);
        conversation.history.push({ role: "tool", tool_call_id: event.toolCallId, content: event.content });
        if (!entry) break;
        let shown = event.content;
        try {
          const parsed = JSON.parse(event.content);
          if (parsed && parsed.success === false) entry.outcome.classList.add("bad");
          // What the model reads, on as few lines as it takes.
          shown = JSON.stringify(parsed);
        } catch {}
        entry.outcome.textContent = shown;
        break;
      }
      case "RUN_ERROR":
        this.container.append(element("div", { class: "notice bad", text: `${event.code}: ${event.message}` }));
        break;
    }
  }
}

function setChatRunning(running, status = "") {
  conversation.running = running;
  $("#send").disabled = running;
  $("#chat-stop").disabled = !running;
  $("#chat-status").textContent = running ? "thinking…" : status;
}

async function sendMessage(text) {
  if (conversation.running || !text.trim()) return;
  $("#messages").append(element("div", { class: "message user", text }));
  conversation.history.push({ role: "user", content: text });
  const container = element("div", { class: "message assistant" });
  $("#messages").append(container);
  const view = new AssistantView(container);
  setChatRunning(true);
  let status = "";
  try {
    const response = await postJSON("/api/chat", { messages: conversation.history, driver: state.driver });
    await readEvents(response, (event) => {
      if (event.type === "RUN_STARTED") conversation.runId = event.runId;
      if (event.type === "RUN_ERROR") status = event.code === "Stopped" ? "stopped" : "failed";
      view.event(event);
    });
  } catch (error) {
    status = "failed";
    container.append(element("div", { class: "notice bad", text: String(error.message || error) }));
  } finally {
    conversation.runId = null;
    setChatRunning(false, status);
    refreshSkills();
  }
}

async function refreshSkills() {
  const response = await fetch("/api/skills");
  const { skills } = await response.json();
  const list = $("#skills");
  list.replaceChildren(
    ...skills.map((skill) =>
      element(
        "li",
        { "data-skill": skill.name },
        element("code", { text: skill.name }),
        element("span", { class: `level ${skill.trustLevel}`, "data-testid": "trust-level", text: skill.trustLevel }),
        element("div", { class: "muted", text: `${skill.description} · ${skill.executions} runs` }),
      ),
    ),
  );
  if (!skills.length) list.append(element("li", { class: "muted", text: "none yet" }));
}

function setupChat() {
  const chat = state.info.chat;
  if (!chat.enabled) {
    $("#chat-off").hidden = false;
    $("#how-to").textContent = chat.howTo;
    return;
  }
  $("#composer").hidden = false;
  $("#chat-status").textContent = `${chat.adapter} · ${chat.model}`;
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const prompt = $("#prompt");
    const text = prompt.value;
    prompt.value = "";
    sendMessage(text);
  });
  $("#prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("#composer").requestSubmit();
    }
  });
  $("#chat-stop").addEventListener("click", async () => {
    if (conversation.runId) await postJSON(`/api/runs/${conversation.runId}/stop`, {});
  });
}

// --- Start -------------------------------------------------------------------------------------

async function start() {
  for (const tab of document.querySelectorAll("nav button")) {
    tab.addEventListener("click", () => setView(tab.dataset.view));
  }
  await loadInfo();
  setupEditor();
  playground.timeline = new Timeline($("#timeline"));
  showExamples();
  $("#run").addEventListener("click", () => runProgram());
  $("#stop").addEventListener("click", () => stopProgram());
  setupChat();
  document.body.dataset.ready = "true";
}

start();
