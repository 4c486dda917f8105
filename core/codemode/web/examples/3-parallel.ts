// Parallel lookups: the five best-selling products, each looked up at the same time.
const best = await external_top_n({
  table: "order_items",
  group_by: "product_id",
  metric: "sum",
  column: "quantity",
  n: 5,
});
const products = await Promise.all(
  best.map((top) =>
    external_query_table({
      table: "products",
      filters: [{ column: "id", value: top.group }],
      columns: ["name", "category", "price"],
    }),
  ),
);
return best.map((top, i) => ({ ...products[i].rows[0], unitsSold: top.value }));
