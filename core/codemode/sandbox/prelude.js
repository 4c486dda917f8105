// The in-sandbox half of codemode's host-driven event loop (turn protocol version 1; see
// docs/protocol.md). Evaluated once per context, it returns a function that takes the config
// JSON and returns one dispatcher, api(operation, argument) for operation "start", "deliver"
// or "collect", kept by the host only: nothing here is reachable from the program by name.
// (One function, because some engine bindings can call a returned function but not read its
// properties.)
//
// external_* calls never call into the host. They queue a request and return a promise; the
// host collects the queue, runs the tools concurrently, delivers the results and runs pending
// jobs, turn after turn, until the program settles.
//
// The program runs in this realm and may redefine any built-in. So everything the prelude uses
// is captured before the program runs and called through the captured Reflect.apply; its state
// lives in closure variables, counters and strings (never in objects whose prototype the
// program can reach); what crosses to the host is built as text from primitive strings;
// property descriptors and records have a null prototype. Program code still runs while its
// own values are serialized or described (toJSON, getters, proxies): every such step is
// guarded, and the state is re-checked after it. The host validates every turn again and
// enforces the same bounds, so even a prelude broken some other way cannot make it run more.
//
// Every function is named with the __cm_ prefix (except __cm_main, the program itself) so the
// host can tell the program's stack frames from ours.
(function __cm_install(configJson, outOfMemory) {
  "use strict";
  const apply = Reflect.apply;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const fromEntries = Object.fromEntries;
  const arrayFrom = Array.from;
  const objectToString = Object.prototype.toString;
  const symbolToString = Symbol.prototype.toString;
  const stringSlice = String.prototype.slice;
  const stringIndexOf = String.prototype.indexOf;
  const charCodeAt = String.prototype.charCodeAt;
  const StringCtor = String;
  const ErrorCtor = Error;
  const PromiseCtor = Promise;
  const promiseReject = Promise.reject;
  const promiseThen = Promise.prototype.then;
  const functionBind = Function.prototype.bind;
  const settledPromise = Promise.resolve();
  const SetCtor = Set;
  const setAdd = Set.prototype.add;
  const setHas = Set.prototype.has;
  const mapSize = getOwnPropertyDescriptor(Map.prototype, "size").get;
  const setSize = getOwnPropertyDescriptor(Set.prototype, "size").get;
  const PromisePrototype = Promise.prototype;
  const TypeErrorPrototype = TypeError.prototype;

  const PROTOCOL = 1;
  const MAX_NAME = 200;
  const MAX_MESSAGE = 10000;
  const MAX_STACK = 20000;
  const IDLE = 0, RUNNING = 1, RETURNED = 2, FAILED = 3;
  const STATE_NAMES = ["idle", "waiting", "returned", "failed"];

  const config = parse(configJson);
  if (config.protocol !== PROTOCOL) {
    throw new ErrorCtor("codemode prelude speaks turn protocol " + PROTOCOL + ", the host asked for " + config.protocol);
  }
  const maxToolCalls = config.maxToolCalls;
  const maxLogChars = config.maxLogChars;
  const maxResultChars = config.maxResultChars;

  let state = IDLE;
  let settling = false;       // serializing the return value: no new requests
  let calls = 0;
  let nextId = 1;
  let logChars = 0;
  let outbox = "";            // JSON text of the queued requests, comma-separated
  let logText = "";           // JSON text of the queued console lines, comma-separated
  let resultJson = "null";
  let failureJson = "null";
  const pending = { __proto__: null };  // id -> {resolve, reject, site}

  // Thrown by our own helpers; its identity tells our errors from the program's.
  const OURS = { __proto__: null };
  let oursName = "Error", oursMessage = "";
  function __cm_ours(name, message) {
    oursName = name;
    oursMessage = message;
    return OURS;
  }

  function __cm_never() {}

  // --- Text -------------------------------------------------------------------------------

  // At most max characters of text, without splitting a surrogate pair, with a note.
  function __cm_clip(text, max) {
    if (text.length <= max) return text;
    let end = max;
    const code = apply(charCodeAt, text, [end - 1]);
    if (code >= 0xd800 && code <= 0xdbff) end -= 1;
    return apply(stringSlice, text, [0, end]) + "... (" + (text.length - end) + " more characters)";
  }

  // A primitive string for any value, running as little program code as can be.
  function __cm_string(value) {
    const type = typeof value;
    if (type === "string") return value;
    if (type === "symbol") return apply(symbolToString, value, []);
    if (type === "bigint") return "" + value + "n";
    if (value === null || (type !== "object" && type !== "function")) return "" + value;
    try {
      const text = StringCtor(value);
      if (typeof text === "string") return text;
    } catch (e) { /* fall through */ }
    try {
      return apply(objectToString, value, []);
    } catch (e) {
      return "[object]";
    }
  }

  // Reads value[key] as a primitive string, or returns fallback; never throws.
  function __cm_read(value, key, fallback) {
    try {
      const field = value[key];
      if (field === undefined || field === null) return fallback;
      return __cm_string(field);
    } catch (e) {
      return fallback;
    }
  }

  // --- Describing what the program threw ----------------------------------------------------

  // {name, message, stack} of any thrown value, all primitive strings (stack may be null),
  // bounded; never throws, whatever the value's getters, traps or coercions do.
  function __cm_describe(error) {
    if (error === OURS) return { __proto__: null, name: oursName, message: oursMessage, stack: null };
    let name = "Error", message, stack = null;
    try {
      const type = typeof error;
      if (error === null || (type !== "object" && type !== "function")) {
        message = "the program threw a non-Error value: " + __cm_string(error);
      } else {
        let raw;
        try { raw = error.message; } catch (e) { raw = undefined; }
        if (raw === undefined) {
          message = "the program threw a non-Error value: " + __cm_string(error);
        } else {
          message = __cm_string(raw);
          name = __cm_read(error, "name", "");
          if (name === "") {
            try {
              const ctor = error.constructor;
              name = typeof ctor === "function" ? __cm_read(ctor, "name", "Error") : "Error";
            } catch (e) { name = "Error"; }
          }
          if (name === "") name = "Error";
          stack = __cm_read(error, "stack", null);
        }
      }
    } catch (e) {
      name = "Error";
      message = "the program threw a value that cannot be described";
      stack = null;
    }
    if (typeof message !== "string") message = "the program threw a value that cannot be described";
    return {
      __proto__: null,
      // A name is an identifier: cut, with no note (the message says what happened).
      name: name.length > MAX_NAME ? __cm_clip(name, MAX_NAME - 40) : name,
      message: __cm_clip(message, MAX_MESSAGE),
      stack: stack === null ? null : __cm_clip(stack, MAX_STACK),
    };
  }

  function __cm_fail(name, message, stack, limit) {
    if (state !== RUNNING) return;
    state = FAILED;
    failureJson = '{"name":' + stringify(name) + ',"message":' + stringify(message) +
      ',"stack":' + (stack === null ? "null" : stringify(stack)) +
      ',"limit":' + (limit ? "true" : "false") + "}";
    outbox = "";
  }

  function __cm_fail_with(error) {
    const limit = error === OURS;
    const d = __cm_describe(error);
    __cm_fail(d.name, d.message, limit ? null : d.stack, limit);
  }

  // --- JSON that leaves the sandbox ---------------------------------------------------------

  function __cm_brand(getter, value) {
    try {
      apply(getter, value, []);
      return true;
    } catch (e) {
      return false;
    }
  }

  // What kind of non-JSON value this is, for an error message; null when it is JSON data.
  function __cm_kind(value) {
    const type = typeof value;
    if (type === "function") return "a function" + (__cm_read(value, "name", "") ? " (" + __cm_read(value, "name", "") + ")" : "");
    if (type === "bigint") return "a BigInt (" + value + "n)";
    if (type === "symbol") return "a Symbol";
    if (value === null || type !== "object") return null;
    // The tag first (no exception for ordinary data, which is most of it), then the brand.
    let tag;
    try { tag = apply(objectToString, value, []); } catch (e) { return null; }
    if (tag === "[object Object]" || tag === "[object Array]") return null;
    if (__cm_brand(mapSize, value)) return "a Map (convert it with Object.fromEntries(map))";
    if (__cm_brand(setSize, value)) return "a Set (convert it with Array.from(set))";
    let proto = null;
    try { proto = getPrototypeOf(value); } catch (e) { /* a proxy: let stringify decide */ }
    if (proto === PromisePrototype) return "a Promise (did you forget await?)";
    return null;
  }

  // JSON text of a program value, or throws: OURS for a SerializationError or OutputLimitError
  // (naming what and where), or whatever the program's own code threw while serializing.
  function __cm_to_json(value, what, limit) {
    if (value === undefined) return "null";
    const top = __cm_kind(value);
    if (top !== null) throw __cm_ours("SerializationError", what + " is " + top + ", which cannot leave the sandbox as JSON");
    let budget = limit;
    const replacer = function __cm_replacer(key, v) {
      const kind = __cm_kind(v);
      if (kind !== null) {
        throw __cm_ours("SerializationError", what + " contains " + kind + " at key " + stringify(__cm_clip(key, 100)) + ", which cannot leave the sandbox as JSON");
      }
      budget -= (typeof v === "string" ? v.length : 8) + key.length;
      if (budget < 0) {
        throw __cm_ours("OutputLimitError", what + " is over the size limit of " + limit + " characters of JSON; return a summary or a slice");
      }
      return v;
    };
    let text;
    try {
      text = stringify(value, replacer);
    } catch (error) {
      if (error === OURS) throw error;
      let engineTypeError = false;
      try { engineTypeError = getPrototypeOf(error) === TypeErrorPrototype; } catch (e) { /* not ours */ }
      if (engineTypeError) {
        throw __cm_ours("SerializationError", what + " cannot be sent as JSON: " + __cm_clip(__cm_read(error, "message", "TypeError"), 500) + " (a cyclic reference?)");
      }
      throw error;
    }
    if (typeof text !== "string") return "null";
    if (text.length > limit) {
      throw __cm_ours("OutputLimitError", what + " is " + text.length + " characters of JSON, over the size limit of " + limit + "; return a summary or a slice");
    }
    return text;
  }

  // --- Console ------------------------------------------------------------------------------

  let inspectBudget = 0;
  function __cm_inspect(value) {
    const type = typeof value;
    if (type === "string") return value;
    if (type === "undefined") return "undefined";
    if (type === "function") return "[Function: " + (__cm_read(value, "name", "") || "anonymous") + "]";
    if (type === "bigint") return "" + value + "n";
    if (value === null || type !== "object") return __cm_string(value);
    let tag = "";
    try { tag = apply(objectToString, value, []); } catch (e) { /* keep "" */ }
    if (tag === "[object Error]") {
      return __cm_read(value, "name", "Error") + ": " + __cm_read(value, "message", "");
    }
    const seen = new SetCtor();
    let budget = inspectBudget;
    try {
      const text = stringify(value, function __cm_log_replacer(key, v) {
        budget -= key.length + (typeof v === "string" ? v.length : 8);
        if (budget < 0) throw __cm_ours("OutputLimitError", "");
        const t = typeof v;
        if (t === "bigint") return "" + v + "n";
        if (t === "function") return "[Function: " + (__cm_read(v, "name", "") || "anonymous") + "]";
        if (t === "symbol") return apply(symbolToString, v, []);
        if (v === undefined) return "undefined";
        if (v !== null && t === "object") {
          if (__cm_brand(mapSize, v)) return fromEntries(v);
          if (__cm_brand(setSize, v)) return arrayFrom(v);
          if (apply(setHas, seen, [v])) return "[Circular]";
          apply(setAdd, seen, [v]);
        }
        return v;
      });
      return typeof text === "string" ? text : __cm_string(value);
    } catch (error) {
      if (error === OURS) throw error;
      return tag || "[object]";
    }
  }

  function __cm_console(level) {
    const levelJson = stringify(level);
    return function __cm_log(...args) {
      if (state !== RUNNING) return;
      let message = "";
      try {
        for (let i = 0; i < args.length; i++) {
          inspectBudget = maxLogChars - logChars - message.length;
          message += (i ? " " : "") + __cm_inspect(args[i]);
          if (message.length + logChars > maxLogChars) break;
        }
      } catch (error) {
        if (error !== OURS) throw error;
        message = null;
      }
      if (state !== RUNNING) return;
      logChars += (message === null ? maxLogChars : message.length) + 1;
      if (logChars > maxLogChars) {
        __cm_fail("OutputLimitError", "console output exceeded the limit of " + maxLogChars + " characters; log less, or return the data instead", null, true);
        return;
      }
      logText += (logText === "" ? "[" : ",[") + levelJson + "," + stringify(message) + "]";
    };
  }

  const console = {
    log: __cm_console("log"),
    info: __cm_console("info"),
    warn: __cm_console("warn"),
    error: __cm_console("error"),
    debug: __cm_console("log"),
    trace: __cm_console("log"),
  };
  const freeze = Object.freeze;
  freeze(console);
  defineProperty(globalThis, "console", { __proto__: null, value: console, writable: false, configurable: false });

  // --- Tool calls ---------------------------------------------------------------------------

  function __cm_external(name) {
    const nameJson = stringify(name);
    const what = "the argument of " + name;
    return function __cm_call(input) {
      if (state !== RUNNING || settling) return new PromiseCtor(__cm_never);
      calls += 1;
      if (calls > maxToolCalls) {
        __cm_fail("ToolCallLimitError", "the program made more than " + maxToolCalls + " tool calls in one execution; batch work into fewer calls", null, true);
        return new PromiseCtor(__cm_never);
      }
      let argsJson;
      try {
        argsJson = __cm_to_json(input === undefined ? {} : input, what, maxResultChars);
      } catch (error) {
        if (error !== OURS) return apply(promiseReject, PromiseCtor, [error]);
        const failure = new ErrorCtor(oursMessage);
        defineProperty(failure, "name", { __proto__: null, value: oursName, writable: true, configurable: true });
        return apply(promiseReject, PromiseCtor, [failure]);
      }
      // Program code ran while the argument was serialized: it may have ended the run.
      if (state !== RUNNING || settling) return new PromiseCtor(__cm_never);
      // The call site, so a failed call reports the program's line, not ours.
      const site = new ErrorCtor();
      const id = nextId++;
      const entry = { __proto__: null, resolve: null, reject: null, site: site };
      const promise = new PromiseCtor(function __cm_executor(resolve, reject) {
        entry.resolve = resolve;
        entry.reject = reject;
      });
      pending[id] = entry;
      outbox += (outbox === "" ? "[" : ",[") + id + "," + nameJson + "," + argsJson + "]";
      return promise;
    };
  }

  for (let i = 0; i < config.bindings.length; i++) {
    const name = config.bindings[i];
    defineProperty(globalThis, name, { __proto__: null, value: __cm_external(name), writable: false, configurable: false });
  }

  // No program code may run while an error is made: QuickJS hands a prepareStackTrace hook the
  // functions of every frame, strict ones (ours) included, and a hook that loops would run where
  // the engine cannot interrupt it.
  // Error.stackTraceLimit likewise: QuickJS converts an object value (its valueOf) every time
  // an error is made. (An engine driver that installs hooks of its own locks them first.)
  try {
    defineProperty(ErrorCtor, "prepareStackTrace", { __proto__: null, value: undefined, writable: false, enumerable: false, configurable: false });
  } catch (e) { /* already fixed by the engine driver */ }
  try {
    const limit = getOwnPropertyDescriptor(ErrorCtor, "stackTraceLimit");
    const value = limit && "value" in limit && typeof limit.value === "number" ? limit.value : 10;
    defineProperty(ErrorCtor, "stackTraceLimit", { __proto__: null, value: value, writable: false, enumerable: true, configurable: false });
  } catch (e) { /* already fixed by the engine driver */ }
  const memoryExhausted = typeof outOfMemory === "function" ? outOfMemory : function __cm_no() { return false; };

  // --- Settling -----------------------------------------------------------------------------

  function __cm_done(value) {
    if (state !== RUNNING) return;
    settling = true;
    let json;
    try {
      json = __cm_to_json(value, "the return value", maxResultChars);
    } catch (error) {
      settling = false;
      __cm_fail_with(error);
      return;
    }
    settling = false;
    if (state !== RUNNING) return;
    resultJson = json;
    state = RETURNED;
    outbox = "";
  }

  function __cm_failed(error) {
    try {
      __cm_fail_with(error);
    } catch (e) {
      __cm_fail("Error", "the program failed in a way that cannot be described", null, false);
    }
  }

  async function __cm_run(main) {
    let value;
    try {
      // await on the program's own promise: no method of the program's (its then) is used.
      value = await main();
    } catch (error) {
      __cm_failed(error);
      return;
    }
    try {
      __cm_done(value);
    } catch (error) {
      __cm_failed(error);
    }
  }

  // The frames of a tool error's call-site stack.
  function __cm_site_frames(site) {
    let stack = "";
    try {
      const raw = site.stack;
      if (typeof raw === "string") stack = raw;
    } catch (e) { /* no frames */ }
    // V8 starts with a header line ("Error"); QuickJS has frames only. Our own frames (the
    // external_* function's) are left out: the program sees only its own.
    let at = 0;
    if (apply(stringIndexOf, stack, ["    at "]) !== 0) {
      const newline = apply(stringIndexOf, stack, ["\n"]);
      if (newline < 0) return "";
      at = newline + 1;
    }
    let frames = "";
    while (at < stack.length && frames.length < MAX_STACK) {
      let end = apply(stringIndexOf, stack, ["\n", at]);
      if (end < 0) end = stack.length;
      const line = apply(stringSlice, stack, [at, end]);
      if (apply(stringIndexOf, line, ["    at __cm_"]) !== 0 || apply(stringIndexOf, line, ["    at __cm_main"]) === 0) {
        frames += (frames === "" ? "" : "\n") + line;
      }
      at = end + 1;
    }
    return __cm_clip(frames, MAX_STACK);
  }

  const operations = {
    __proto__: null,
    start: function __cm_start(main) {
      if (state !== IDLE) throw new ErrorCtor("this context has already run a program");
      state = RUNNING;
      // The program starts in a job of its own, so that only one frame of ours (__cm_run)
      // sits under its frames. Nothing of the program has run yet: then is the original.
      apply(promiseThen, settledPromise, [apply(functionBind, __cm_run, [undefined, main])]);
    },
    // {"v": 1, "results": [[id, true, value] or [id, false, {name, message}], ...]}
    deliver: function __cm_deliver(deliveryJson) {
      const delivery = parse(deliveryJson);
      if (delivery.v !== PROTOCOL) throw new ErrorCtor("unknown delivery version");
      const results = delivery.results;
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        const entry = pending[r[0]];
        if (entry === undefined) continue;
        delete pending[r[0]];
        if (r[1]) {
          entry.resolve(r[2]);
          continue;
        }
        const name = r[2].name, message = r[2].message;
        const error = new ErrorCtor(message);
        defineProperty(error, "name", { __proto__: null, value: name, writable: true, configurable: true });
        // The host keeps only the program's frames of this call-site stack.
        const stack = name + ": " + message + "\n" + __cm_site_frames(entry.site);
        defineProperty(error, "stack", { __proto__: null, value: stack, writable: true, configurable: true });
        entry.reject(error);
      }
    },
    // The turn as JSON text (see docs/protocol.md); the queued requests' arguments and the
    // return value are embedded as they were serialized.
    collect: function __cm_collect() {
      let text = '{"v":' + PROTOCOL + ',"state":"' + STATE_NAMES[state] + '","requests":[' + outbox + '],"logs":[' + logText + "]";
      if (memoryExhausted()) text += ',"outOfMemory":true';
      if (state === RETURNED) text += ',"value":' + resultJson;
      else if (state === FAILED) text += ',"error":' + failureJson;
      text += "}";
      outbox = "";
      logText = "";
      // A flat copy: some engine bindings cannot hand a concatenated (rope) string to the host.
      return apply(stringSlice, text, [0]);
    },
  };

  return function __cm_api(operation, argument) {
    const run = operations[operation];
    if (run === undefined) throw new ErrorCtor("unknown sandbox operation");
    return run(argument);
  };
})
