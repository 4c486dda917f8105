// Counts ArrayBuffer and typed-array memory against the context's memory limit.
//
// V8 keeps the bytes of ArrayBuffers outside its heap, where the heap limit does not see
// them: without this, `new Uint8Array(2 ** 30)` in a loop exhausts the host's memory under a
// 32 MB limit. Every way the language offers to allocate such memory is counted here, before
// the allocation when its size is known: the ArrayBuffer and typed-array constructors (also
// reached through `from`, `of`, subclasses and species), their allocating methods (`slice`,
// `map`, `filter`, `toReversed`, `toSorted`, `with`, `resize`, `transfer`), and
// `Uint8Array.fromBase64` / `fromHex`. SharedArrayBuffer is removed (there is nothing to
// share with). The count only grows (JavaScript cannot observe frees), so it bounds the bytes
// a program allocates this way, not the bytes it holds. Typed arrays of up to 64 bytes live on
// V8's heap and are counted by the heap limit instead.
//
// Evaluated once per context after the prelude and setup.js, with the limit in bytes.
(function __cm_buffers(limitBytes) {
  "use strict";
  const ON_HEAP_BYTES = 64;
  const ArrayBufferIntrinsic = ArrayBuffer;
  const ErrorCtor = Error;
  const ProxyCtor = Proxy;
  const construct = Reflect.construct;
  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf;
  const isArray = Array.isArray;
  const byteLengthOf = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
  const iteratorSymbol = Symbol.iterator;
  let used = 0;

  function __cm_limit_error() {
    const megabytes = Math.round(limitBytes / 1048576);
    const error = new ErrorCtor(
      "the program allocated more than its memory limit of " + megabytes +
      " MB in ArrayBuffers and typed arrays; process data in smaller pieces");
    error.name = "MemoryLimitError";
    return error;
  }

  function __cm_charge(bytes) {
    if (!(bytes > ON_HEAP_BYTES)) return;
    used += bytes;
    if (used > limitBytes) throw __cm_limit_error();
  }

  function __cm_is_array_buffer(value) {
    try {
      apply(byteLengthOf, value, []);
      return true;
    } catch (e) {
      return false;
    }
  }

  // A size the engine will accept as a length, or NaN when it will throw anyway.
  function __cm_index(value) {
    const n = Math.trunc(Number(value));
    return n >= 0 && n <= Number.MAX_SAFE_INTEGER ? n : NaN;
  }

  // The prototype methods that allocate, counted by their result unless the constructor
  // trap already counted them (species construction goes through it).
  function __cm_count_result(owner, name, sizeOf) {
    const original = owner[name];
    if (typeof original !== "function") return;
    defineProperty(owner, name, {
      // Named __cm_ so a limit error raised here points at the program's line, not ours.
      value: function __cm_counted(...args) {
        const before = used;
        const result = apply(original, this, args);
        if (used === before) __cm_charge(sizeOf(result, this, args));
        return result;
      },
      writable: true,
      configurable: true,
    });
  }

  // Handlers have a null prototype: a trap the program defined on Object.prototype (a `get`,
  // say) would otherwise be this proxy's trap, and hand it the uncounted intrinsic.
  const arrayBufferProxy = new ProxyCtor(ArrayBufferIntrinsic, {
    __proto__: null,
    construct: function __cm_new_buffer(target, args, newTarget) {
      const length = __cm_index(args[0]);
      const options = args[1];
      if (options !== null && typeof options === "object" && options.maxByteLength !== undefined) {
        // A resizable buffer reserves its maximum up front: keep that within the limit too.
        if (__cm_index(options.maxByteLength) > limitBytes) throw __cm_limit_error();
      }
      if (length === length) __cm_charge(length);
      return construct(target, args, newTarget === arrayBufferProxy ? target : newTarget);
    },
  });
  const bufferPrototype = ArrayBufferIntrinsic.prototype;
  defineProperty(bufferPrototype, "constructor", { value: arrayBufferProxy, writable: true, configurable: true });
  __cm_count_result(bufferPrototype, "slice", function __cm_size(result) { return apply(byteLengthOf, result, []); });
  __cm_count_result(bufferPrototype, "transfer", function __cm_size(result) { return apply(byteLengthOf, result, []); });
  __cm_count_result(bufferPrototype, "transferToFixedLength", function __cm_size(result) { return apply(byteLengthOf, result, []); });
  const resize = bufferPrototype.resize;
  if (typeof resize === "function") {
    defineProperty(bufferPrototype, "resize", {
      value: function __cm_resize(newLength) {
        const growth = __cm_index(newLength) - apply(byteLengthOf, this, []);
        if (growth > 0) __cm_charge(growth);
        return apply(resize, this, [newLength]);
      },
      writable: true,
      configurable: true,
    });
  }
  defineProperty(globalThis, "ArrayBuffer", { value: arrayBufferProxy, writable: true, configurable: true });
  delete globalThis.SharedArrayBuffer;

  const typedArrayNames = [
    "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
    "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
  ];
  let typedArrayPrototype = null;
  for (let i = 0; i < typedArrayNames.length; i++) {
    const name = typedArrayNames[i];
    const intrinsic = globalThis[name];
    if (typeof intrinsic !== "function") continue;
    const perElement = intrinsic.BYTES_PER_ELEMENT;
    typedArrayPrototype = getPrototypeOf(intrinsic.prototype);
    const proxy = new ProxyCtor(intrinsic, {
      __proto__: null,
      construct: function __cm_new_typed_array(target, args, newTarget) {
        const source = args[0];
        let counted = false;
        if (source === null || typeof source !== "object") {
          const length = __cm_index(source);
          if (length === length) __cm_charge(length * perElement);
          counted = true;
        } else if (__cm_is_array_buffer(source)) {
          counted = true; // a view on an existing buffer allocates nothing
        } else if (isArray(source) || typeof source[iteratorSymbol] !== "function") {
          __cm_charge(__cm_index(source.length) * perElement || 0);
          counted = true;
        }
        const made = construct(target, args, newTarget === proxy ? target : newTarget);
        if (!counted) __cm_charge(made.byteLength);
        return made;
      },
    });
    defineProperty(intrinsic.prototype, "constructor", { value: proxy, writable: true, configurable: true });
    defineProperty(globalThis, name, { value: proxy, writable: true, configurable: true });
    if (name === "Uint8Array") {
      __cm_count_result(intrinsic, "fromBase64", function __cm_size(result) { return result.byteLength; });
      __cm_count_result(intrinsic, "fromHex", function __cm_size(result) { return result.byteLength; });
    }
  }
  if (typedArrayPrototype !== null) {
    const resultSize = function __cm_size(result) { return result.byteLength; };
    const methods = ["slice", "map", "filter", "toReversed", "toSorted", "with"];
    for (let i = 0; i < methods.length; i++) __cm_count_result(typedArrayPrototype, methods[i], resultSize);
  }
  return function __cm_buffer_bytes() {
    return used;
  };
})
