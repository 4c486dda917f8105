// The QuickJS driver's own in-sandbox code, evaluated once per context *before* codemode's
// prelude. It returns outOfMemory(), which the prelude reports in every turn.
//
// QuickJS reports running out of memory as an ordinary error ("InternalError: out of memory",
// the same with no message, or null when not even that fits), which a program can catch and
// carry on from, so the memory limit would not end the run. So every error the engine makes
// or that is thrown goes past a hook (QuickJS calls Error.prepareStackTrace for each one,
// at once), and every rejection handler past a check (an error made inside a builtin called
// from a promise job reaches a handler without passing the hook); either one that sees an
// out-of-memory error sets a flag the program cannot clear. The hook is installed through
// the engine's own accessor and the property then fixed to undefined: the program can neither
// see it nor set another (QuickJS would hand a hook of its own the functions of every frame,
// and run it where the time limit cannot stop it). Error.stackTraceLimit is fixed for the same
// reason (QuickJS converts an object value on every error). The hook writes stacks in QuickJS's
// own format, without the frames of the sandbox's machinery.
//
// The checks must not run program code (a thrown Proxy's traps) and must not allocate before
// the flag is set: every Proxy the program makes is known (the Proxy constructor is wrapped),
// and the checks read only own data properties.
(function __cm_quickjs_setup() {
  "use strict";
  const apply = Reflect.apply;
  const construct = Reflect.construct;
  const bind = Function.prototype.bind;
  const call = Function.prototype.call;
  const defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf;
  const hasOwn = Object.hasOwn;
  const stringRepeat = String.prototype.repeat;
  const ProxyIntrinsic = Proxy;
  const revocableIntrinsic = Proxy.revocable;
  const ErrorCtor = Error;
  const InternalErrorPrototype = typeof InternalError === "function" ? InternalError.prototype : null;
  const PromisePrototype = Promise.prototype;
  const thenIntrinsic = Promise.prototype.then;
  const proxies = new WeakSet();
  // Bound once, so that calling them allocates nothing and looks nothing up.
  const isProxy = apply(bind, call, [WeakSet.prototype.has, proxies]);
  const remember = apply(bind, call, [WeakSet.prototype.add, proxies]);

  let exhausted = false;
  let nullsSeen = 0;

  // At the throw (the hook): QuickJS throws null when it cannot even make the error, so a null
  // thrown while memory is that short is the limit; a null thrown with memory to spare is the
  // program's own, and is counted so that a handler can tell the two apart later.
  function __cm_check_thrown(value) {
    if (value !== null) return __cm_check(value);
    try {
      apply(stringRepeat, "x", [4096]);
      nullsSeen++;
    } catch (e) {
      exhausted = true;
    }
  }

  function __cm_check(value) {
    if (exhausted || value === null) return;
    if (typeof value !== "object" || InternalErrorPrototype === null || isProxy(value)) return;
    if (getPrototypeOf(value) !== InternalErrorPrototype) return;
    if (!hasOwn(value, "message") || value.message === "out of memory" || value.message === "") {
      exhausted = true;
    }
  }

  // Every Proxy the program makes, so that the checks never touch one.
  const revocable = function revocable(target, handler) {
    const pair = apply(revocableIntrinsic, ProxyIntrinsic, [target, handler]);
    remember(pair.proxy);
    return pair;
  };
  const ProxyWrapper = new ProxyIntrinsic(ProxyIntrinsic, {
    __proto__: null,
    construct: function __cm_new_proxy(target, args, newTarget) {
      const made = construct(target, args, newTarget === ProxyWrapper ? target : newTarget);
      remember(made);
      return made;
    },
    get: function __cm_proxy_get(target, key) {
      return key === "revocable" ? revocable : target[key];
    },
  });
  defineProperty(globalThis, "Proxy", { __proto__: null, value: ProxyWrapper, writable: true, enumerable: false, configurable: true });

  // Reactions: a rejection handler sees the reason after the check, and what a handler throws
  // is checked as it leaves (a catch clause needs no memory; the hook may not get to run when
  // memory is that short).
  function __cm_checked(handler, rejection) {
    return function (argument) {
      if (rejection) __cm_check(argument);
      const nulls = nullsSeen;
      try {
        return apply(handler, undefined, [argument]);
      } catch (error) {
        // A null the hook did not see thrown: memory was too short for the hook to run.
        if (error === null && nullsSeen === nulls) exhausted = true;
        __cm_check(error);
        throw error;
      }
    };
  }
  defineProperty(PromisePrototype, "then", {
    __proto__: null,
    value: function then(onFulfilled, onRejected) {
      return apply(thenIntrinsic, this, [
        typeof onFulfilled === "function" ? __cm_checked(onFulfilled, false) : onFulfilled,
        typeof onRejected === "function" ? __cm_checked(onRejected, true) : onRejected,
      ]);
    },
    writable: true,
    enumerable: false,
    configurable: true,
  });

  // CallSite methods, from a site of our own (the program never gets one).
  let sample = null;
  ErrorCtor.prepareStackTrace = function __cm_sample(error, sites) { sample = sites[0]; return ""; };
  new ErrorCtor("sample").stack;
  const site = getPrototypeOf(sample);
  const functionName = site.getFunctionName;
  const fileName = site.getFileName;
  const lineNumber = site.getLineNumber;
  const columnNumber = site.getColumnNumber;
  const isNative = site.isNative;
  const stringStartsWith = String.prototype.startsWith;

  function __cm_frame(callSite) {
    let name = apply(functionName, callSite, []);
    if (typeof name !== "string" || name === "") name = "<anonymous>";
    else if (name !== "__cm_main" && apply(stringStartsWith, name, ["__cm_"])) return "";
    if (apply(isNative, callSite, [])) return "    at " + name + " (native)\n";
    return "    at " + name + " (" + apply(fileName, callSite, []) + ":" +
      apply(lineNumber, callSite, []) + ":" + apply(columnNumber, callSite, []) + ")\n";
  }

  ErrorCtor.prepareStackTrace = function __cm_prepare(error, sites) {
    __cm_check_thrown(error);
    let stack = "";
    for (let i = 0; i < sites.length; i++) stack += __cm_frame(sites[i]);
    return stack;
  };
  defineProperty(ErrorCtor, "prepareStackTrace", { __proto__: null, value: undefined, writable: false, enumerable: false, configurable: false });
  defineProperty(ErrorCtor, "stackTraceLimit", { __proto__: null, value: 10, writable: false, enumerable: true, configurable: false });

  return function __cm_out_of_memory() {
    return exhausted;
  };
})
