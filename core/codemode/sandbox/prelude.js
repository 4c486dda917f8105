// The in-sandbox half of codemode's host-driven event loop. Evaluated once per context, it
// returns a function that takes the config and returns one dispatcher function,
// api(operation, argument) for operation "start", "deliver" or "collect", kept by the host
// only: nothing here is reachable from the program by name. (One function, because some
// engine bindings can call a returned function but not read its properties.)
//
// external_* calls never call into the host. They queue a request and return a promise;
// the host collects the queue, runs the tools concurrently, delivers the results and runs
// pending jobs, turn after turn, until the program settles.
//
// Every function is named with the __cm_ prefix (except __cm_main, the program itself) so the
// host can tell the program's stack frames from ours.
(function __cm_install(configJson) {
  "use strict";
  // Captured before the program runs: a program that replaces JSON.stringify or Array
  // methods only breaks itself, never the host protocol.
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const MapCtor = Map;
  const SetCtor = Set;
  const PromiseCtor = Promise;
  const then = Promise.prototype.then;
  const ErrorCtor = Error;
  const defineProperty = Object.defineProperty;
  const freeze = Object.freeze;
  const toString = Object.prototype.toString;
  const join = Array.prototype.join;
  const isWellFormed = String.prototype.isWellFormed;
  const toWellFormed = String.prototype.toWellFormed;
  // Text leaves the sandbox as UTF-8, which cannot carry a lone UTF-16 surrogate: those
  // become U+FFFD, as any UTF-8 encoder would make them.
  function __cm_text(value) {
    return isWellFormed.call(value) ? value : toWellFormed.call(value);
  }
  const config = parse(configJson);
  const pending = new Map();
  let outbox = [];
  let logs = [];
  let logChars = 0;
  let calls = 0;
  let nextId = 1;
  // 0 running, 1 returned, 2 failed
  let state = 0;
  let resultJson = "null";
  let failure = null;

  function __cm_fail(name, message, stack) {
    if (state !== 0) return;
    state = 2;
    failure = { name: name, message: message, stack: stack === undefined ? null : stack };
    pending.clear();
    outbox = [];
  }

  function __cm_describe(error) {
    if (error !== null && typeof error === "object" && "message" in error) {
      let name = "Error";
      try { name = String(error.name || (error.constructor && error.constructor.name) || "Error"); } catch (e) { /* keep Error */ }
      let stack = null;
      try { stack = error.stack === undefined ? null : String(error.stack); } catch (e) { /* none */ }
      return { name: name, message: String(error.message), stack: stack };
    }
    let text;
    try { text = String(error); } catch (e) { text = toString.call(error); }
    return { name: "Error", message: "the program threw a non-Error value: " + text, stack: null };
  }

  function __cm_serialization_error(message) {
    const error = new ErrorCtor(message);
    error.name = "SerializationError";
    return error;
  }

  function __cm_kind(value) {
    if (typeof value === "function") return "a function" + (value.name ? " (" + value.name + ")" : "");
    if (typeof value === "bigint") return "a BigInt (" + value + "n)";
    if (typeof value === "symbol") return "a Symbol";
    if (value instanceof MapCtor) return "a Map (convert it with Object.fromEntries(map))";
    if (value instanceof SetCtor) return "a Set (convert it with Array.from(set))";
    if (value instanceof PromiseCtor) return "a Promise (did you forget await?)";
    return null;
  }

  function __cm_output_limit(what, limit) {
    const error = new ErrorCtor(what + " is over the size limit of " + limit + " characters of JSON; return a summary or a slice");
    error.name = "OutputLimitError";
    return error;
  }

  // JSON text of a value, or a SerializationError naming what could not be sent and where.
  // With a limit, gives up with an OutputLimitError as soon as the text would pass it, before
  // the engine allocates a huge string.
  function __cm_to_json(value, what, limit) {
    if (value === undefined) return "null";
    const top = __cm_kind(value);
    if (top !== null) throw __cm_serialization_error(what + " is " + top + ", which cannot leave the sandbox as JSON");
    let budget = limit === undefined ? Infinity : limit;
    try {
      return stringify(value, function __cm_replacer(key, v) {
        const kind = __cm_kind(v);
        if (kind !== null) {
          throw __cm_serialization_error(what + " contains " + kind + " at key " + stringify(key) + ", which cannot leave the sandbox as JSON");
        }
        budget -= (typeof v === "string" ? v.length : 8) + key.length;
        if (budget < 0) throw __cm_output_limit(what, limit);
        return typeof v === "string" ? __cm_text(v) : v;
      });
    } catch (error) {
      if (error && (error.name === "SerializationError" || error.name === "OutputLimitError")) throw error;
      if (error instanceof TypeError) {
        throw __cm_serialization_error(what + " cannot be sent as JSON: " + error.message + " (a cyclic reference?)");
      }
      throw error;
    }
  }

  function __cm_inspect(value, depth) {
    if (typeof value === "string") return value;
    if (value === undefined) return "undefined";
    if (typeof value === "function") return "[Function: " + (value.name || "anonymous") + "]";
    if (typeof value === "bigint") return value + "n";
    if (typeof value === "symbol") return value.toString();
    if (value instanceof Error) return value.stack ? value.name + ": " + value.message : String(value);
    if (value === null || typeof value !== "object") return String(value);
    const seen = [];
    try {
      return stringify(value, function __cm_log_replacer(key, v) {
        if (typeof v === "bigint") return v + "n";
        if (typeof v === "function") return "[Function: " + (v.name || "anonymous") + "]";
        if (v === undefined) return "undefined";
        if (v instanceof MapCtor) return Object.fromEntries(v);
        if (v instanceof SetCtor) return Array.from(v);
        if (v !== null && typeof v === "object") {
          if (seen.indexOf(v) !== -1) return "[Circular]";
          seen[seen.length] = v;
        }
        return v;
      });
    } catch (e) {
      return toString.call(value);
    }
  }

  function __cm_console(level) {
    return function __cm_log() {
      if (state !== 0) return;
      const parts = [];
      for (let i = 0; i < arguments.length; i++) parts[parts.length] = __cm_inspect(arguments[i], 0);
      let message = "";
      for (let i = 0; i < parts.length; i++) message += (i ? " " : "") + parts[i];
      message = __cm_text(message);
      logChars += message.length + 1;
      if (logChars > config.maxLogChars) {
        __cm_fail("OutputLimitError", "console output exceeded the limit of " + config.maxLogChars + " characters; log less, or return the data instead");
        return;
      }
      logs[logs.length] = [level, message];
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
  freeze(console);
  defineProperty(globalThis, "console", { value: console, writable: false, configurable: false });

  function __cm_external(name) {
    return function __cm_call(input) {
      if (state !== 0) return new PromiseCtor(function __cm_never() {});
      calls += 1;
      if (calls > config.maxToolCalls) {
        __cm_fail("ToolCallLimitError", "the program made more than " + config.maxToolCalls + " tool calls in one execution; batch work into fewer calls");
        return new PromiseCtor(function __cm_never() {});
      }
      let argsJson;
      try {
        argsJson = __cm_to_json(input === undefined ? {} : input, "the argument of " + name);
      } catch (error) {
        return PromiseCtor.reject(error);
      }
      // The call site, so a failed call reports the program's line, not ours.
      const site = new ErrorCtor();
      const id = nextId++;
      return new PromiseCtor(function __cm_executor(resolve, reject) {
        pending.set(id, { resolve: resolve, reject: reject, site: site, name: name });
        outbox[outbox.length] = [id, name, argsJson];
      });
    };
  }

  for (let i = 0; i < config.bindings.length; i++) {
    const name = config.bindings[i];
    defineProperty(globalThis, name, { value: __cm_external(name), writable: false, configurable: false });
  }

  function __cm_done(value) {
    if (state !== 0) return;
    let json;
    try {
      json = __cm_to_json(value, "the return value", config.maxResultChars);
    } catch (error) {
      const d = __cm_describe(error);
      __cm_fail(d.name, d.message, null);
      return;
    }
    if (json.length > config.maxResultChars) {
      __cm_fail("OutputLimitError", "the return value is " + json.length + " characters of JSON, over the size limit of " + config.maxResultChars + "; return a summary or a slice");
      return;
    }
    resultJson = json;
    state = 1;
  }

  function __cm_failed(error) {
    const d = __cm_describe(error);
    __cm_fail(d.name, d.message, d.stack);
    // Engines that cannot allocate an error object when out of memory reject with null.
    if (error === null && failure !== null) failure.nullRejection = true;
  }

  const operations = {
    start: function __cm_start(main) {
      state = 0; resultJson = "null"; failure = null; calls = 0; logChars = 0;
      pending.clear(); outbox = []; logs = [];
      then.call(main(), __cm_done, __cm_failed);
    },
    // results: JSON array of [id, true, value] or [id, false, {name, message}]
    deliver: function __cm_deliver(resultsJson) {
      const results = parse(resultsJson);
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        const entry = pending.get(r[0]);
        if (entry === undefined) continue;
        pending.delete(r[0]);
        if (r[1]) {
          entry.resolve(r[2]);
        } else {
          const error = new ErrorCtor(r[2].message);
          error.name = r[2].name;
          // The host keeps only the program's frames of this call-site stack.
          error.stack = error.name + ": " + error.message + "\n" + String(entry.site.stack || "");
          entry.reject(error);
        }
      }
    },
    // The turn's output as JSON text; the queued requests' arguments are embedded as-is.
    collect: function __cm_collect() {
      // Built from parts and joined: a flat string, where repeated += can leave a rope that
      // some engine bindings cannot hand to the host.
      const parts = ['{"state":', state, ',"pending":', pending.size, ',"requests":['];
      for (let i = 0; i < outbox.length; i++) {
        const r = outbox[i];
        parts[parts.length] = (i ? ",[" : "[") + r[0] + "," + stringify(r[1]) + ",";
        parts[parts.length] = r[2];
        parts[parts.length] = "]";
      }
      parts[parts.length] = '],"logs":';
      parts[parts.length] = stringify(logs);
      if (state === 1) { parts[parts.length] = ',"value":'; parts[parts.length] = resultJson; }
      if (state === 2) { parts[parts.length] = ',"error":'; parts[parts.length] = stringify(failure); }
      parts[parts.length] = "}";
      outbox = [];
      logs = [];
      return join.call(parts, "");
    },
  };

  return function __cm_api(operation, argument) {
    return operations[operation](argument);
  };
})
