// Memory outside the V8 heap, which V8's heap limit does not see: ICU (normalize, locale case
// mapping, collation, segmentation, list formatting), URI encoding and the regexp compiler
// allocate natively in proportion to their input (gigabytes for a 2**28-unit string under a
// 64 MB limit, measured). Each such call is refused with a MemoryLimitError when
//   input code units * FACTOR > limitBytes - used()
// where FACTOR is the bytes of transient native memory per UTF-16 code unit, measured and
// rounded up, and used() is buffers.js's count of ArrayBuffer memory. Not covered: eval and
// new Function on huge source text (about 20 bytes per character), BigInt to string.
//
// Evaluated once per context after buffers.js and guards.js, with the limit in bytes.
(function __cm_offheap(limitBytes, used) {
  "use strict";
  used = typeof used === "function" ? used : () => 0;
  const ProxyCtor = Proxy, apply = Reflect.apply, construct = Reflect.construct;
  const defineProperty = Object.defineProperty, gopd = Object.getOwnPropertyDescriptor;
  const ErrorCtor = Error, StringCtor = String, isArray = Array.isArray, from = Array.from;
  const FACTOR = { normalize: 12, caseMap: 8, collate: 6, segment: 8, listChar: 16, listItem: 256,
                   uri: 12, escape: 6, regexpCompile: 160 };
  function refuse(what, bytes) {
    const e = new ErrorCtor(what + " would need about " + Math.ceil(bytes / 1048576) +
      " MB outside the JavaScript heap, over the memory limit of " + Math.round(limitBytes / 1048576) +
      " MB; process the data in smaller pieces");
    e.name = "MemoryLimitError";
    throw e;
  }
  function check(what, units, factor) {
    const bytes = units * factor;
    if (bytes > limitBytes - used()) refuse(what, bytes);
  }
  // length of the string a builtin would make of v, without calling program code twice:
  // strings only (other values are converted by the builtin itself, once, and are small unless
  // their toString returns a huge string -- then we convert here and pass the string on).
  function asString(v) { return typeof v === "string" ? v : StringCtor(v); }
  function wrapMethod(holder, name, pre) {
    const original = holder[name];
    if (typeof original !== "function") return;
    defineProperty(holder, name, { __proto__: null, writable: true, enumerable: false, configurable: true,
      value: new ProxyCtor(original, { __proto__: null, apply(t, self, args) { const r = pre(self, args); return apply(original, r[0], r[1]); } }) });
  }
  const thisString = (self) => (typeof self === "string" ? self : (self === null || self === undefined ? self : StringCtor(self)));
  const SP = String.prototype;
  wrapMethod(SP, "normalize", (self, args) => { const s = thisString(self); if (typeof s === "string") check("normalize", s.length, FACTOR.normalize); return [s, args]; });
  for (const n of ["toLocaleUpperCase", "toLocaleLowerCase"]) {
    wrapMethod(SP, n, (self, args) => { const s = thisString(self); if (typeof s === "string") check(n, s.length, FACTOR.caseMap); return [s, args]; });
  }
  wrapMethod(SP, "localeCompare", (self, args) => {
    const s = thisString(self);
    if (typeof s !== "string") return [s, args];
    const that = asString(args.length > 0 ? args[0] : undefined);
    check("localeCompare", s.length + that.length, FACTOR.collate);
    const a = [that]; for (let i = 1; i < args.length; i++) a[i] = args[i];
    return [s, a];
  });
  if (typeof Intl === "object") {
    // Intl.Collator.prototype.compare is a getter returning a bound function
    const cd = gopd(Intl.Collator.prototype, "compare");
    if (cd && cd.get) {
      const getCompare = cd.get;
      defineProperty(Intl.Collator.prototype, "compare", { __proto__: null, configurable: true, enumerable: false,
        get() {
          const bound = apply(getCompare, this, []);
          return function (x, y) {
            const a = asString(x), b = asString(y);
            check("Intl.Collator compare", a.length + b.length, FACTOR.collate);
            return bound(a, b);
          };
        } });
    }
    if (Intl.Segmenter) wrapMethod(Intl.Segmenter.prototype, "segment", (self, args) => {
      const s = asString(args.length > 0 ? args[0] : undefined);
      check("Intl.Segmenter segment", s.length, FACTOR.segment);
      return [self, [s]];
    });
    if (Intl.ListFormat) for (const n of ["format", "formatToParts"]) {
      wrapMethod(Intl.ListFormat.prototype, n, (self, args) => {
        const list = args.length > 0 ? args[0] : undefined;
        if (list === undefined) return [self, args];
        const items = from(list);            // iterate once; the builtin gets the array
        let chars = 0;
        for (let i = 0; i < items.length; i++) if (typeof items[i] === "string") chars += items[i].length;
        if (chars * FACTOR.listChar + items.length * FACTOR.listItem > limitBytes - used()) {
          refuse("Intl.ListFormat " + n, chars * FACTOR.listChar + items.length * FACTOR.listItem);
        }
        return [self, [items]];
      });
    }
  }
  for (const [n, f] of [["encodeURIComponent", FACTOR.uri], ["encodeURI", FACTOR.uri], ["escape", FACTOR.escape]]) {
    const original = globalThis[n];
    if (typeof original !== "function") continue;
    defineProperty(globalThis, n, { __proto__: null, writable: true, enumerable: false, configurable: true,
      value: new ProxyCtor(original, { __proto__: null, apply(t, self, args) {
        const s = asString(args.length > 0 ? args[0] : undefined);
        check(n, s.length, f);
        return apply(original, self, [s]);
      } }) });
  }
  // RegExp compilation: ~131 bytes of zone memory per pattern character.
  const RegExpCtor = RegExp, RP = RegExp.prototype;
  const sourceOf = gopd(RP, "source").get;
  function patternLength(p) {
    if (p !== null && typeof p === "object") {
      try { return apply(sourceOf, p, []).length; } catch (e) { /* not a RegExp */ }
      return -1;   // converted by the builtin (ToString), once
    }
    return p === undefined ? 0 : asString(p).length;
  }
  function checkPattern(what, p) {
    const n = patternLength(p);
    if (n >= 0) check(what, n, FACTOR.regexpCompile);
  }
  let RegExpWrapper;
  RegExpWrapper = new ProxyCtor(RegExpCtor, { __proto__: null,
    apply(t, self, args) { checkPattern("RegExp", args.length > 0 ? args[0] : undefined); return apply(RegExpCtor, self, args); },
    construct(t, args, nt) { checkPattern("RegExp", args.length > 0 ? args[0] : undefined); return construct(RegExpCtor, args, nt === RegExpWrapper ? RegExpCtor : nt); },
  });
  defineProperty(globalThis, "RegExp", { __proto__: null, value: RegExpWrapper, writable: true, enumerable: false, configurable: true });
  defineProperty(RP, "constructor", { __proto__: null, value: RegExpWrapper, writable: true, enumerable: false, configurable: true });
  wrapMethod(RP, "compile", (self, args) => { checkPattern("RegExp compile", args.length > 0 ? args[0] : undefined); return [self, args]; });
  // match / matchAll / search with a non-RegExp argument compile it as a pattern
  for (const n of ["match", "matchAll", "search"]) {
    wrapMethod(SP, n, (self, args) => {
      const p = args.length > 0 ? args[0] : undefined;
      if (p === null || p === undefined || typeof p !== "object") {
        if (p !== undefined) { const s = asString(p); checkPattern("String.prototype." + n, s); const a = [s]; for (let i = 1; i < args.length; i++) a[i] = args[i]; return [self, a]; }
      }
      return [self, args];
    });
  }
})
