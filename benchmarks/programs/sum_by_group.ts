// W6: fetch 20,000 rows from one tool call and sum `value` by `group` in the sandbox.
interface Row {
  id: number;
  group: number;
  value: number;
  name: string;
}

const rows: Row[] = await external_get_rows({ count: 20_000 });
const sums: Record<string, number> = {};
for (const row of rows) {
  sums[row.group] = (sums[row.group] ?? 0) + row.value;
}
return { rows: rows.length, sums };
