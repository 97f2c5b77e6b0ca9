import type { ProductInput } from '../../services/catalog/domain/schemas.js';

/**
 * The deterministic demo catalog: the same 10,000 products on every machine
 * (seeded PRNG), in a few categories, some of them limited-quantity doorbusters.
 * A demo product is exactly what the catalog's admin API accepts.
 */
export type DemoProduct = ProductInput;

export const demoCategories = [
  { slug: 'electronics', name: 'Electronics', nouns: ['Headphones', 'Speaker', 'Charger', 'Monitor', 'Keyboard', 'Camera'] },
  { slug: 'home', name: 'Home', nouns: ['Lamp', 'Rug', 'Blanket', 'Vase', 'Clock', 'Mirror'] },
  { slug: 'kitchen', name: 'Kitchen', nouns: ['Kettle', 'Pan', 'Knife Set', 'Blender', 'Mug', 'Toaster'] },
  { slug: 'toys', name: 'Toys', nouns: ['Puzzle', 'Robot', 'Kite', 'Board Game', 'Plush Bear', 'Train Set'] },
  { slug: 'books', name: 'Books', nouns: ['Cookbook', 'Novel', 'Atlas', 'Notebook', 'Comic', 'Guide'] },
  { slug: 'fashion', name: 'Fashion', nouns: ['Jacket', 'Sneakers', 'Scarf', 'Backpack', 'Watch', 'Sunglasses'] },
  { slug: 'sports', name: 'Sports', nouns: ['Yoga Mat', 'Dumbbell', 'Bike Light', 'Tent', 'Water Bottle', 'Racket'] },
  { slug: 'garden', name: 'Garden', nouns: ['Planter', 'Hose', 'Shears', 'Bird Feeder', 'Lantern', 'Seed Kit'] },
] as const;

const adjectives = ['Classic', 'Compact', 'Deluxe', 'Eco', 'Smart', 'Vintage', 'Pro', 'Ultra', 'Cozy', 'Bold', 'Nordic', 'Urban'];
const colors = ['black', 'white', 'red', 'blue', 'green', 'grey', 'oak', 'sand'];

/** mulberry32: tiny, fast, good enough for demo data, and reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function demoProducts(count = 10_000, seed = 20261127): DemoProduct[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  return Array.from({ length: count }, (_, i) => {
    const category = demoCategories[i % demoCategories.length]!;
    const noun = pick(category.nouns);
    const adjective = pick(adjectives);
    const color = pick(colors);
    const limited = random() < 0.05;
    const sku = `SKU-${String(i + 1).padStart(6, '0')}`;
    const name = `${adjective} ${noun} ${color[0]!.toUpperCase()}${color.slice(1)}`;
    return {
      sku,
      slug: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${i + 1}`,
      name,
      description: `A ${adjective.toLowerCase()} ${noun.toLowerCase()} in ${color}.${limited ? ' Doorbuster: limited quantity.' : ''}`,
      price: { amount: 199 + Math.floor(random() * 49_800), currency: 'EUR' },
      categories: [category.slug],
      attributes: { color, brand: pick(['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli']) },
      images: [{ url: `https://images.example.com/${sku}.jpg`, alt: name }],
      limitedQuantity: limited,
      maxPerOrder: limited ? 2 : 10,
      limitedPolicy: 'per_client',
    };
  });
}
