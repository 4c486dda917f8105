// W5: an inventory report of the kind a model writes, using the TypeScript it commonly uses:
// enums, interfaces, generics, type aliases, a class with parameter properties, `as`, `!`,
// type predicates, overloads, optional and default parameters, and typed arrow functions.
enum Category {
  Tool = "tool",
  Part = "part",
  Kit = "kit",
}

enum Priority {
  Low,
  Normal,
  High = 10,
}

interface Dimensions {
  width: number;
  height: number;
  depth?: number;
}

interface Item {
  readonly sku: string;
  name: string;
  category: Category;
  price: number; // cents
  stock: number;
  priority: Priority;
  size?: Dimensions;
  tags: string[];
}

type Totals = Record<string, { count: number; value: number }>;
type Maybe<T> = T | undefined;
type Predicate<T> = (item: T, index: number) => boolean;
type Pair<A, B> = [A, B];

interface Page<T> {
  items: T[];
  total: number;
  next?: number;
}

class Inventory<T extends Item> {
  private readonly bySku = new Map<string, T>();
  protected added: number = 0;

  constructor(
    private readonly label: string,
    public currency: string = "EUR",
  ) {}

  add(item: T): this {
    this.bySku.set(item.sku, item);
    this.added += 1;
    return this;
  }

  get(sku: string): Maybe<T> {
    return this.bySku.get(sku);
  }

  require(sku: string): T {
    const found: Maybe<T> = this.get(sku);
    if (found === undefined) {
      throw new Error(`${this.label}: unknown sku ${sku}`);
    }
    return found!;
  }

  filter(predicate: Predicate<T>): T[] {
    return [...this.bySku.values()].filter(predicate);
  }

  page(size: number, start: number = 0): Page<T> {
    const all: T[] = [...this.bySku.values()];
    const next: number | undefined = start + size < all.length ? start + size : undefined;
    return { items: all.slice(start, start + size), total: all.length, next };
  }

  get count(): number {
    return this.bySku.size;
  }
}

function groupBy<T, K extends string | number>(
  values: readonly T[],
  key: (value: T) => K,
): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const value of values) {
    const k: K = key(value);
    const bucket: T[] | undefined = groups.get(k);
    if (bucket) bucket.push(value);
    else groups.set(k, [value]);
  }
  return groups;
}

function format(cents: number): string;
function format(cents: number, currency: string): string;
function format(cents: number, currency?: string): string {
  return `${(cents / 100).toFixed(2)} ${currency ?? "EUR"}`;
}

const volume = (size: Maybe<Dimensions>): number =>
  size ? size.width * size.height * (size.depth ?? 1) : 0;

const isExpensive = (item: Item, threshold: number = 5000): item is Item & { price: number } =>
  item.price >= threshold;

const byValue = <T extends Item>(a: T, b: T): number => b.price * b.stock - a.price * a.stock;

const raw: unknown = JSON.parse(`[
  {"sku": "T-1", "name": "Hammer", "category": "tool", "price": 1250, "stock": 4, "priority": 1,
   "size": {"width": 30, "height": 12, "depth": 3}, "tags": ["steel"]},
  {"sku": "T-2", "name": "Drill", "category": "tool", "price": 8900, "stock": 2, "priority": 10,
   "size": {"width": 25, "height": 20}, "tags": ["power", "cordless"]},
  {"sku": "P-1", "name": "Screw M4", "category": "part", "price": 5, "stock": 1000, "priority": 0,
   "tags": ["steel", "m4"]},
  {"sku": "P-2", "name": "Hinge", "category": "part", "price": 320, "stock": 25, "priority": 1,
   "size": {"width": 5, "height": 4, "depth": 1}, "tags": []},
  {"sku": "K-1", "name": "Shelf kit", "category": "kit", "price": 4500, "stock": 3, "priority": 10,
   "size": {"width": 80, "height": 30, "depth": 2}, "tags": ["wood"]}
]`);

const items = raw as Item[];
const inventory = new Inventory<Item>("main", "EUR");
items.forEach((item: Item): void => void inventory.add(item));

const totals: Totals = {};
for (const [category, group] of groupBy<Item, Category>(items, (i: Item) => i.category)) {
  totals[category] = {
    count: group.length,
    value: group.reduce((sum: number, i: Item): number => sum + i.price * i.stock, 0),
  };
}

const urgent: string[] = inventory
  .filter((item: Item): boolean => item.priority === Priority.High)
  .map((item) => item.sku);
const expensive: Pair<string, string>[] = items
  .filter((item) => isExpensive(item))
  .map((item): Pair<string, string> => [item.sku, format(item.price, inventory.currency)]);
const biggest: Item = [...items].sort((a, b) => volume(b.size) - volume(a.size))[0]!;
const ranked: string[] = [...items].sort(byValue).map((i) => i.sku);
const firstPage: Page<Item> = inventory.page(2);
const hinge = inventory.require("P-2") as Item & { size: Dimensions };

return {
  count: inventory.count,
  totals,
  urgent,
  expensive,
  biggest: biggest.sku,
  ranked,
  next: firstPage.next!,
  hingeDepth: hinge.size.depth as number,
  categories: Object.values(Category),
  priorityName: Priority[Priority.Normal],
};
