// A slow program: one step a second for 25 s, with progress in the timeline. Press Stop to end it.
for (let step = 1; step <= 25; step++) {
  const orders = await external_query_table({
    table: "orders",
    filters: [{ column: "id", op: "<=", value: step * 25 }],
    limit: 1,
  });
  console.log(`step ${step} of 25: ${orders.total} orders so far`);
  const until = Date.now() + 1000;
  while (Date.now() < until) {} // the sandbox has no timers: this step just keeps it busy
}
return "done";
