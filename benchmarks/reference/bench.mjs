// The reference: the same workloads as benchmarks/run.py, run with TanStack AI Code Mode's own
// drivers, through the same path its users call (the execute_typescript tool: strip types with
// sucrase, a fresh context, execute, dispose).
//
// Usage: node bench.mjs --driver isolated-vm|quickjs-wasm --workload W1 --samples N --warmup N
//        node bench.mjs --driver isolated-vm --first-run     (W0: one run of `return 1 + 1`)
//
// Prints one JSON object on stdout: {median, min, max, samples, unit, peak_rss_mb} in the
// units benchmarks/run.py uses, or {error} for a wrong result. A crash of the engine kills the
// process: benchmarks/run.py records the signal and the last lines of stderr.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";

const PROGRAMS = new URL("../programs/", import.meta.url);
const ROW_COUNT = 20_000;
const GROUPS = 50;
const TIMEOUT_MS = 60_000;
const MEMORY_LIMIT_MB = 128;

const W2 =
  "let s = 0; for (let i = 0; i < 1000; i++) { s += (await external_echo({ i })).i } return s";
const W3 =
  "const all = await Promise.all(Array.from({ length: 100 }, () => external_sleep({ ms: 20 })));" +
  "\nreturn all.reduce((total, r) => total + r.slept, 0);";
const W7 =
  "let total = 0;\n" +
  "for (let i = 0; i < 10; i++) { total += (await external_sleep({ ms: 10 })).slept }\n" +
  "return total;";
const W7_CONCURRENCY = 20;

const program = (name) => readFileSync(new URL(name, PROGRAMS), "utf8");

function groupSums() {
  const sums = {};
  for (let g = 0; g < GROUPS; g++) sums[g] = 0;
  for (let i = 0; i < ROW_COUNT; i++) sums[i % GROUPS] += i * 1.5;
  return { rows: ROW_COUNT, sums };
}

// unit: how a sample is reported; perSample: W2 reports time per tool call.
const WORKLOADS = {
  W1: { code: "return 1 + 1", expected: 2, unit: "ms" },
  W2: { code: W2, expected: 499_500, unit: "us", perSample: 1000 },
  W3: { code: W3, expected: 2000, unit: "ms" },
  W4: {
    code: program("sieve.ts"),
    expected: { limit: 2_000_000, primes: 148_933, largest: 1_999_993 },
    unit: "ms",
  },
  W6: { code: program("sum_by_group.ts"), expected: groupSums(), unit: "ms" },
  W7: { code: W7, expected: 100, unit: "ms", concurrency: W7_CONCURRENCY },
};
const SCALE = { ms: 1e3, us: 1e6 };

async function loadDriver(name) {
  if (name === "isolated-vm") {
    const { createNodeIsolateDriver } = await import("@tanstack/ai-isolate-node");
    // Node 20 is below the package's declared engine (>=22); its probe (a child process that
    // makes an isolate) still tells whether isolated-vm works here, so it stays on.
    return createNodeIsolateDriver();
  }
  if (name === "quickjs-wasm") {
    const { createQuickJSIsolateDriver } = await import("@tanstack/ai-isolate-quickjs");
    return createQuickJSIsolateDriver();
  }
  throw new Error(`unknown reference driver ${name}`);
}

async function tools() {
  const { toolDefinition } = await import("@tanstack/ai");
  const { z } = await import("zod");
  const rows = Array.from({ length: ROW_COUNT }, (_, i) => ({
    id: i,
    group: i % GROUPS,
    value: i * 1.5,
    name: `row-${i}`,
  }));
  return [
    toolDefinition({
      name: "echo",
      description: "Return the input {i} unchanged.",
      inputSchema: z.object({ i: z.number().int() }),
    }).server(async ({ i }) => ({ i })),
    toolDefinition({
      name: "sleep",
      description: "Wait ms milliseconds, then return {slept: ms}.",
      inputSchema: z.object({ ms: z.number().int() }),
    }).server(async ({ ms }) => {
      await sleep(ms);
      return { slept: ms };
    }),
    toolDefinition({
      name: "get_rows",
      description: "Rows {id, group, value, name} for ids 0 to count - 1.",
      inputSchema: z.object({ count: z.number().int().default(ROW_COUNT) }),
    }).server(async ({ count }) => rows.slice(0, count)),
  ];
}

async function executeTypescript(driverName) {
  const { createCodeModeTool } = await import("@tanstack/ai-code-mode");
  const tool = createCodeModeTool({
    driver: await loadDriver(driverName),
    tools: await tools(),
    timeout: TIMEOUT_MS,
    memoryLimit: MEMORY_LIMIT_MB,
  });
  return (code) => tool.execute({ typescriptCode: code });
}

function difference(expected, got, path = "result") {
  if (expected && typeof expected === "object") {
    if (!got || typeof got !== "object") return `${path}: expected an object, got ${got}`;
    const keys = Object.keys(expected);
    if (keys.length !== Object.keys(got).length) return `${path}: keys differ`;
    for (const key of keys) {
      const found = difference(expected[key], got[key], `${path}.${key}`);
      if (found) return found;
    }
    return null;
  }
  return expected === got ? null : `${path}: expected ${expected}, got ${JSON.stringify(got)}`;
}

function check(outcome, expected) {
  if (!outcome || !outcome.success) {
    throw new Error(`the program failed: ${JSON.stringify(outcome?.error ?? outcome)}`);
  }
  const problem = difference(expected, outcome.result);
  if (problem) throw new Error(problem);
}

function peakRssMb() {
  // VmHWM, as benchmarks/run.py reads for itself; maxRSS elsewhere.
  try {
    const line = readFileSync("/proc/self/status", "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmHWM:"));
    if (line) return Math.round(Number(line.split(/\s+/)[1]) / 102.4) / 10;
  } catch {}
  return Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
}

function summary(values, unit) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const round = (x) => Math.round(x * 1000) / 1000;
  return {
    unit,
    median: round(median),
    min: round(sorted[0]),
    max: round(sorted.at(-1)),
    samples: values.length,
  };
}

async function measure(run, workload, samples, warmup) {
  const action = workload.concurrency
    ? () => Promise.all(Array.from({ length: workload.concurrency }, () => run(workload.code)))
    : () => run(workload.code);
  const verify = (outcome) =>
    workload.concurrency
      ? outcome.forEach((o) => check(o, workload.expected))
      : check(outcome, workload.expected);
  for (let i = 0; i < warmup; i++) verify(await action());
  const scale = SCALE[workload.unit] / (workload.perSample ?? 1);
  const values = [];
  for (let i = 0; i < samples; i++) {
    const started = process.hrtime.bigint();
    const outcome = await action();
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    verify(outcome);
    values.push(elapsed * scale);
  }
  return values;
}

async function measureStrip(samples, warmup) {
  const { stripTypeScript } = await import("@tanstack/ai-code-mode");
  const source = program("strip_sample.ts");
  for (let i = 0; i < warmup; i++) await stripTypeScript(source);
  const values = [];
  for (let i = 0; i < samples; i++) {
    const started = process.hrtime.bigint();
    await stripTypeScript(source);
    values.push(Number(process.hrtime.bigint() - started) / 1e3);
  }
  return values;
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      driver: { type: "string" },
      workload: { type: "string" },
      samples: { type: "string", default: "10" },
      warmup: { type: "string", default: "1" },
      "first-run": { type: "boolean", default: false },
    },
  });
  if (args["first-run"]) {
    const run = await executeTypescript(args.driver);
    const outcome = await run("return 1 + 1");
    check(outcome, 2);
    process.stdout.write(JSON.stringify({ result: outcome.result }) + "\n");
    return;
  }
  const samples = Number(args.samples);
  const warmup = Number(args.warmup);
  if (args.workload === "W5") {
    const values = await measureStrip(samples, warmup);
    process.stdout.write(JSON.stringify({ ...summary(values, "us"), peak_rss_mb: peakRssMb() }));
    return;
  }
  const workload = WORKLOADS[args.workload];
  if (!workload) throw new Error(`unknown workload ${args.workload}`);
  const run = await executeTypescript(args.driver);
  const baseline = peakRssMb();
  const values = await measure(run, workload, samples, warmup);
  const entry = { ...summary(values, workload.unit), baseline_rss_mb: baseline };
  process.stdout.write(JSON.stringify({ ...entry, peak_rss_mb: peakRssMb() }) + "\n");
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stdout.write(JSON.stringify({ error: String(error?.message ?? error) }) + "\n");
    process.exit(1);
  },
);
