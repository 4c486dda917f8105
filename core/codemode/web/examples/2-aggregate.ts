// Aggregate: revenue by country, from every order item (the rows stay in the sandbox).
type Row = Record<string, unknown>;
async function all(table: "customers" | "orders" | "order_items", columns: string[]): Promise<Row[]> {
  const first = await external_query_table({ table, columns, limit: 1000 });
  const pages = Math.ceil(first.total / 1000);
  const rest = await Promise.all(
    Array.from({ length: pages - 1 }, (_, i) =>
      external_query_table({ table, columns, limit: 1000, offset: (i + 1) * 1000 }),
    ),
  );
  return [first, ...rest].flatMap((page) => page.rows);
}
const [customers, orders, items] = await Promise.all([
  all("customers", ["id", "country"]),
  all("orders", ["id", "customer_id", "status"]),
  all("order_items", ["order_id", "quantity", "unit_price"]),
]);
const country = new Map(customers.map((c) => [c.id, c.country as string]));
const delivered = new Map(
  orders.filter((o) => o.status === "delivered").map((o) => [o.id, country.get(o.customer_id)]),
);
const revenue: Record<string, number> = {};
for (const item of items) {
  const where = delivered.get(item.order_id);
  if (where) revenue[where] = (revenue[where] ?? 0) + (item.quantity as number) * (item.unit_price as number);
}
console.log(`${items.length} order items read, ${delivered.size} delivered orders`);
return Object.entries(revenue)
  .sort(([, a], [, b]) => b - a)
  .map(([name, total]) => ({ country: name, revenue: Math.round(total * 100) / 100 }));
