// The V8 driver's own in-sandbox code, evaluated once per context right after codemode's
// prelude. It takes the prelude's api function and returns the "starter": an object whose
// Symbol.hasInstance starts a program, so the host can start one with
//   (async function __cm_main() {<program>\n}) instanceof <starter>
// and keep the program's first line and column exactly where the kit expects them.
//
// It also removes what the sandbox must not have. V8 has no timers of its own, but these let
// code run outside the turn that the host drives (or are a way to sleep):
// WebAssembly (async compilation runs as engine tasks), FinalizationRegistry (cleanup
// callbacks run as engine tasks after a garbage collection), Atomics.waitAsync (a timer) and
// Atomics.wait (a sleep). mini-racer's own setTimeout helper is never installed by this
// driver; it is removed here too in case a future mini-racer installs it by default.
(function __cm_setup(api) {
  "use strict";
  const global = globalThis;
  for (const name of ["setTimeout", "clearTimeout", "setInterval", "clearInterval",
                      "__timer_manager", "WebAssembly", "FinalizationRegistry"]) {
    delete global[name];
  }
  delete Atomics.wait;
  delete Atomics.waitAsync;

  const apply = Reflect.apply;
  const then = Promise.prototype.then;
  const settled = Promise.resolve();
  const starter = {};
  Object.defineProperty(starter, Symbol.hasInstance, {
    value: function __cm_is(main) {
      // Started from a microtask, so no frame of the host's script sits under the program's
      // frames in a stack trace.
      // Nothing of the program has run yet, so the captured then is still the original.
      apply(then, settled, [function __cm_begin() { api("start", main); }]);
      return false;
    },
  });
  return Object.freeze(starter);
})
