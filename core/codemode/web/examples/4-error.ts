// A deliberate error: the program reads a field that is not there, and the line is marked.
const page = await external_query_table({ table: "products", limit: 3 });
console.log(`got ${page.rows.length} products`);
const first = page.rows[0] as { supplier?: { name: string } };
return first.supplier.name;
