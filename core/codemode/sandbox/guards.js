// Guards against builtins that loop natively over a length the program chose, where neither
// engine looks at its interrupt: `Array.prototype.indexOf.call({length: 2 ** 53 - 1}, 1)`
// ignores V8's TerminateExecution for years (and then blocks the freeing of its isolate), and
// QuickJS's join, reverse, sort and copyWithin never reach an interrupt check. Evaluated once
// per context, after the prelude and before the program, by both drivers.
//
// Any Proxy receiver makes those loops go through the engines' proxy paths, which run the
// handler's (JavaScript) traps and so stop at the deadline. So each such method calls the
// original builtin
//   - directly when the receiver is a real array, or has a primitive own `length` (or is a typed
//     array), of at most FAST: then at most FAST native steps run unchecked;
//   - otherwise on a forwarding Proxy of the receiver ("pin"), whose get/set pass the receiver
//     itself as `this` to getters and setters, whose result is mapped back to the receiver, and
//     whose callbacks see the receiver as their third argument.
// The default sort compares as strings natively (2**22 numbers: more than 7 s unchecked in
// V8), so above SORT elements sort/toSorted get a JavaScript comparator with the default
// order's exact semantics; a generic receiver longer than FAST is sorted in JavaScript (V8's
// native sort aborts the process on {length: 2 ** 32}, even through a proxy). flat/flatMap
// recurse natively and are rewritten in JavaScript; String.raw and every `locales` argument
// (Intl, where the engine has it) get pinned views. Every handler and descriptor has a null
// prototype, and the originals are never reachable from the program. Checked against a plain
// context on 117 expressions (holes, -0, NaN, species, getter `this`, callback arguments).
(function __cm_guards(FAST, SORT) {
  "use strict";
  const ProxyCtor = Proxy, apply = Reflect.apply, rget = Reflect.get, rset = Reflect.set;
  const gopd = Object.getOwnPropertyDescriptor, defineProperty = Object.defineProperty;
  const isView = ArrayBuffer.isView, iteratorSymbol = Symbol.iterator, hasOwn = Object.hasOwn;
  const floor = Math.floor, trunc = Math.trunc;
  // copy of an argument list without iterators or Array.prototype (the program may patch both)
  const toLength = (v) => { let n = +v; if (!(n > 0)) return 0; n = floor(n); return n > 2 ** 53 - 1 ? 2 ** 53 - 1 : n; };
  const RangeErrorCtor = RangeError;
  function copyArgs(args, from) { const out = []; for (let i = from; i < args.length; i++) defineProperty(out, i - from, { __proto__: null, value: args[i], writable: true, enumerable: true, configurable: true }); return out; }
  const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
  const taLength = gopd(TypedArrayProto, "length").get;
  const dvProto = DataView.prototype, getProto = Object.getPrototypeOf;
  const isDataView = (o) => { try { return apply(gopd(dvProto, "byteLength").get, o, []) >= 0; } catch (e) { return false; } };

  const isArrayIntrinsic = Array.isArray;
  // length the builtin will read, when it cannot run program code or change: else -1
  function stableLength(o) {
    try {
      // A real array's length is exact and cheap; a proxy's (its trap may lie) only ever
      // reaches the builtin through the engine's proxy path, which stops at the deadline.
      if (isArrayIntrinsic(o)) { const n = o.length; return typeof n === "number" ? n : -1; }
    } catch (e) { return -1; }   // a revoked proxy
    if (isView(o) && !isDataView(o)) return apply(taLength, o, []);
    const d = gopd(o, "length");   // a Proxy's trap may lie here: harmless, proxies are checked
    if (d === undefined || !hasOwn(d, "value")) return -1;
    const v = d.value;
    return typeof v === "number" ? v : -1;   // objects (valueOf) and other primitives: pin
  }
  const rhas = Reflect.has, rgopd = Reflect.getOwnPropertyDescriptor, rdef = Reflect.defineProperty;
  const rdel = Reflect.deleteProperty, rkeys = Reflect.ownKeys;
  const pinHandler = {
    __proto__: null,
    get(t, k) { return rget(t, k, t); },
    set(t, k, v) { return rset(t, k, v, t); },
    has(t, k) { return rhas(t, k); },
    getOwnPropertyDescriptor(t, k) { return rgopd(t, k); },
    defineProperty(t, k, d) { return rdef(t, k, d); },
    deleteProperty(t, k) { return rdel(t, k); },
    ownKeys(t) { return rkeys(t); },
  };
  Object.freeze(pinHandler);

  const callbackMethods = { forEach: 1, map: 1, filter: 1, some: 1, every: 1, flatMap: 1,
                            reduce: 2, reduceRight: 2 };
  function defaultCompare(x, y) {   // SortCompare with comparefn undefined (x, y never undefined)
    const a = `${x}`, b = `${y}`;    // ToString: throws on symbols like the builtin
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  // SortIndexedProperties in JS (interruptible): collect, sort a dense array, write back.
  const origSort = Array.prototype.sort, ArrayCtor = Array;
  function sortSlow(self, cmp, copy) {
    const O = Object(self);
    const len = toLength(O.length);
    const items = [];
    let count = 0;
    if (copy) {
      if (len > 2 ** 32 - 1) throw new RangeErrorCtor("Invalid array length");
      for (let k = 0; k < len; k++) items[count++] = O[k];   // read through holes
    } else {
      for (let k = 0; k < len; k++) if (k in O) items[count++] = O[k];
    }
    apply(origSort, items, [cmp === undefined && count > SORT ? defaultCompare : cmp]);
    if (copy) {
      const A = new ArrayCtor(len);
      for (let j = 0; j < count; j++) A[j] = items[j];
      return A;
    }
    let j = 0;
    for (; j < count; j++) O[j] = items[j];           // strict: Set(..., true)
    for (; j < len; j++) if (j in O) delete O[j];     // DeletePropertyOrThrow for the rest
    return O;
  }
  function wrap(holder, name) {
    const original = holder[name];
    if (typeof original !== "function") return;
    const kind = callbackMethods[name];
    const isSort = name === "sort" || name === "toSorted";
    const handler = {
      __proto__: null,
      apply(target, self, args) {
        if (self === null || self === undefined || (typeof self !== "object" && typeof self !== "function")) {
          // primitives: strings are the only ones with a length; box them into an object
          if (typeof self === "string" && self.length > FAST) self = Object(self);
          else return apply(original, self, args);
        }
        const n = stableLength(self);
        if (isSort) {
          let cmp = args.length > 0 ? args[0] : undefined;
          if (cmp !== undefined && typeof cmp !== "function") return apply(original, self, args);  // native TypeError
          if (n >= 0 && n <= FAST) {
            return apply(original, self, cmp === undefined && n > SORT ? [defaultCompare] : args);
          }
          // V8 copies a generic receiver into one work array of `length` slots: above its
          // maximum that is a fatal "invalid array length" (SIGTRAP), even through a proxy.
          return sortSlow(self, cmp, name === "toSorted");
        }
        if (n >= 0 && n <= FAST) return apply(original, self, args);
        const pinned = new ProxyCtor(self, pinHandler);
        if (kind !== undefined) {   // callbacks see the receiver, not the proxy
          const cb = args.length > 0 ? args[0] : undefined;
          if (typeof cb === "function") {
            const thisArg = args.length > 1 ? args[1] : undefined;
            args = kind === 1
              ? [function (v, i) { return apply(cb, thisArg, [v, i, self]); }, thisArg]
              : (args.length > 1
                  ? [function (acc, v, i) { return apply(cb, undefined, [acc, v, i, self]); }, args[1]]
                  : [function (acc, v, i) { return apply(cb, undefined, [acc, v, i, self]); }]);
          }
        }
        const result = apply(original, pinned, args);
        return result === pinned ? self : result;
      },
    };
    Object.freeze(handler);
    // Keep name, length, non-enumerability; the proxy is not a constructor (methods are not).
    defineProperty(holder, name, { value: new ProxyCtor(original, handler), writable: true,
                                   enumerable: false, configurable: true });
  }
  const AP = Array.prototype;
  for (const name of ["indexOf", "lastIndexOf", "includes", "fill", "join", "toLocaleString",
                      "reverse", "sort", "toSorted", "copyWithin", "splice", "toSpliced",
                      "unshift", "shift", "slice", "toReversed", "with", "forEach", "map",
                      "filter", "some", "every", "reduce", "reduceRight"]) {
    wrap(AP, name);
  }
  // Array.from of an array-like (no @@iterator) walks its length natively too.
  const from = Array.from;
  defineProperty(Array, "from", { writable: true, enumerable: false, configurable: true,
    value: new ProxyCtor(from, { __proto__: null, apply(target, self, args) {
      const items = args.length > 0 ? args[0] : undefined;
      if (args.length > 0 && items !== null && typeof items === "object" && items[iteratorSymbol] == null) {
        const n = stableLength(items);
        if (!(n >= 0 && n <= FAST)) { args = copyArgs(args, 0); args[0] = new ProxyCtor(items, pinHandler); }
      }
      return apply(from, self, args);
    } }) });

  // flat / flatMap recurse natively into nested arrays (whatever the outer receiver): run the
  // spec's FlattenIntoArray in JS (interruptible). ArraySpeciesCreate(O, 0) comes from the
  // original flat called on a view of O whose length reads 0.
  const isArray = Array.isArray, origFlat = AP.flat, origFlatMap = AP.flatMap, TypeErrorCtor = TypeError;
  const toInt = (v) => { const n = +v; return n !== n ? 0 : (n === Infinity || n === -Infinity ? n : trunc(n)); };
  const zeroLength = (O) => new ProxyCtor(O, { __proto__: null, get(t, k) { return k === "length" ? 0 : rget(t, k, t); } });
  function speciesCreate0(O) { return apply(origFlat, zeroLength(O), copyArgs([0], 0)); }
  function flattenInto(target, source, sourceLen, start, depth, mapper, thisArg, receiver) {
    let targetIndex = start;
    for (let i = 0; i < sourceLen; i++) {
      const P = "" + i;
      if (!(P in source)) continue;
      let element = source[P];
      if (mapper !== undefined) element = apply(mapper, thisArg, [element, i, receiver]);
      if (depth > 0 && isArray(element)) {
        targetIndex = flattenInto(target, element, toLength(element.length), targetIndex,
                                  depth === Infinity ? Infinity : depth - 1);
      } else {
        if (targetIndex >= 2 ** 53 - 1) throw new TypeErrorCtor("flat: result too long");
        defineProperty(target, "" + targetIndex, { __proto__: null, value: element, writable: true, enumerable: true, configurable: true });
        targetIndex++;
      }
    }
    return targetIndex;
  }
  const methods = {
    flat(depth) {
      if (this === null || this === undefined) throw new TypeErrorCtor("Array.prototype.flat called on null or undefined");
      const O = Object(this);
      const len = toLength(O.length);
      let d = 1;
      if (depth !== undefined) { d = toInt(depth); if (d < 0) d = 0; }
      const A = speciesCreate0(O);
      flattenInto(A, O, len, 0, d, undefined, undefined, O);
      return A;
    },
    flatMap(mapper, thisArg) {
      if (this === null || this === undefined) throw new TypeErrorCtor("Array.prototype.flatMap called on null or undefined");
      const O = Object(this);
      const len = toLength(O.length);
      if (typeof mapper !== "function") return apply(origFlatMap, zeroLength(O), copyArgs([mapper], 0));   // the native TypeError
      const A = speciesCreate0(O);
      flattenInto(A, O, len, 0, 1, mapper, thisArg, O);
      return A;
    },
  };
  for (const name of ["flat", "flatMap"]) {
    defineProperty(methods[name], "name", { value: name });
    defineProperty(methods[name], "length", { value: name === "flat" ? 0 : 1 });
    defineProperty(AP, name, { value: methods[name], writable: true, enumerable: false, configurable: true });
  }
  // String.raw walks raw.length natively: read cooked.raw once, pass a pinned view of it.
  const raw = String.raw;
  defineProperty(String, "raw", { writable: true, enumerable: false, configurable: true,
    value: new ProxyCtor(raw, { __proto__: null, apply(target, self, args) {
      if (args.length === 0 || args[0] === null || args[0] === undefined) return apply(raw, self, args);
      const cooked = Object(args[0]);
      const r = Object(cooked.raw);
      const n = stableLength(r);
      const rest = copyArgs(args, 0);
      rest[0] = { __proto__: null, raw: n >= 0 && n <= FAST ? r : new ProxyCtor(r, pinHandler) };
      return apply(raw, self, rest);
    } }) });
  // Every API taking `locales` runs CanonicalizeLocaleList natively over an object's length.
  function pinLocales(args, at) {
    const l = args.length > at ? args[at] : undefined;
    if (l !== null && typeof l === "object") { args = copyArgs(args, 0); args[at] = new ProxyCtor(l, pinHandler); }
    return args;
  }
  function wrapLocales(holder, name, at, isCtor) {
    const original = holder[name];
    if (typeof original !== "function") return;
    const handler = { __proto__: null, apply(t, self, args) { return apply(original, self, pinLocales(args, at)); } };
    let wrapped;
    if (isCtor) {
      handler.construct = function (t, args, nt) { return Reflect.construct(original, pinLocales(args, at), nt === wrapped ? original : nt); };
    }
    wrapped = new ProxyCtor(original, handler);
    defineProperty(holder, name, { value: wrapped, writable: true, enumerable: false, configurable: true });
    if (isCtor && original.prototype) {   // else new Intl.Collator().constructor is the original
      defineProperty(original.prototype, "constructor", { value: wrapped, writable: true, enumerable: false, configurable: true });
    }
    return wrapped;
  }
  if (typeof Intl === "object") {
    wrapLocales(Intl, "getCanonicalLocales", 0, false);
    for (const name of Object.getOwnPropertyNames(Intl)) {
      const C = Intl[name];
      if (typeof C !== "function" || name === "getCanonicalLocales") continue;
      if (typeof C.supportedLocalesOf === "function") wrapLocales(C, "supportedLocalesOf", 0, false);
      if (name !== "Locale") wrapLocales(Intl, name, 0, true);
    }
  }
  wrapLocales(String.prototype, "localeCompare", 1, false);
  wrapLocales(String.prototype, "toLocaleUpperCase", 0, false);
  wrapLocales(String.prototype, "toLocaleLowerCase", 0, false);
  wrapLocales(Number.prototype, "toLocaleString", 0, false);
  wrapLocales(BigInt.prototype, "toLocaleString", 0, false);
  for (const n of ["toLocaleString", "toLocaleDateString", "toLocaleTimeString"]) wrapLocales(Date.prototype, n, 0, false);
  wrapLocales(TypedArrayProto, "toLocaleString", 0, false);
  // %TypedArray%.prototype.sort / toSorted without comparator: native std::sort, bounded by the
  // memory limit (2**24 doubles: ~3 s unchecked). JS comparator with the numeric default order.
  function numericCompare(a, b) {
    if (a < b) return -1;
    if (a > b) return 1;
    if (a !== a) return b !== b ? 0 : 1;
    if (b !== b) return -1;
    if (a === 0 && b === 0) { const na = 1 / a < 0, nb = 1 / b < 0; return na === nb ? 0 : (na ? -1 : 1); }
    return 0;
  }
  for (const name of ["sort", "toSorted"]) {
    const original = TypedArrayProto[name];
    if (typeof original !== "function") continue;
    defineProperty(TypedArrayProto, name, { writable: true, enumerable: false, configurable: true,
      value: new ProxyCtor(original, { __proto__: null, apply(target, self, args) {
        if ((args.length === 0 || args[0] === undefined) && isView(self) && !isDataView(self) && apply(taLength, self, []) > SORT) {
          args = [numericCompare];
        }
        return apply(original, self, args);
      } }) });
  }
})
