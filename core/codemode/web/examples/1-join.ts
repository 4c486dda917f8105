// Join: Norway's customers with how many orders each placed and when they last ordered.
const customers = await external_query_table({
  table: "customers",
  filters: [{ column: "country", op: "=", value: "Norway" }],
  columns: ["id", "name", "city"],
  limit: 1000,
});
const ids = customers.rows.map((c) => c.id as number);
const orders = await external_query_table({
  table: "orders",
  filters: [{ column: "customer_id", op: "in", value: ids }],
  columns: ["customer_id", "ordered_at"],
  limit: 1000,
});
const byCustomer = new Map<number, string[]>();
for (const order of orders.rows) {
  const id = order.customer_id as number;
  byCustomer.set(id, [...(byCustomer.get(id) ?? []), order.ordered_at as string]);
}
return customers.rows
  .map((c) => {
    const dates = (byCustomer.get(c.id as number) ?? []).sort();
    return { name: c.name, city: c.city, orders: dates.length, last: dates.at(-1) ?? null };
  })
  .sort((a, b) => b.orders - a.orders)
  .slice(0, 5);
