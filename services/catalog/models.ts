import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

const imageSchema = new Schema({ url: { type: String, required: true }, alt: { type: String, default: '' } }, { _id: false });

const productSchema = new Schema(
  {
    sku: { type: String, required: true, unique: true },
    slug: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    price: {
      amount: { type: Number, required: true },
      currency: { type: String, required: true },
    },
    categories: { type: [String], default: [] },
    attributes: { type: Schema.Types.Mixed, default: {} },
    images: { type: [imageSchema], default: [] },
    limitedQuantity: { type: Boolean, default: false },
    maxPerOrder: { type: Number, default: null },
    /** Who may put a limited product in a cart: signed-in customers only, or guests too, capped per client (docs/carts.md). */
    limitedPolicy: { type: String, enum: ['customers_only', 'per_client'], default: 'per_client' },
    /** Lower-case tokens of name, sku and categories: index-backed search that works on MongoDB and FerretDB alike. */
    searchTerms: { type: [String], default: [] },
  },
  { timestamps: true, versionKey: false, minimize: false },
);
// Keyset pagination sorts on (field, _id); each list order has its index.
productSchema.index({ categories: 1, name: 1, _id: 1 });
productSchema.index({ name: 1, _id: 1 });
productSchema.index({ 'price.amount': 1, _id: 1 });
productSchema.index({ createdAt: -1, _id: -1 });
productSchema.index({ searchTerms: 1 });

const categorySchema = new Schema(
  {
    slug: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    sortOrder: { type: Number, default: 0 },
  },
  { timestamps: true, versionKey: false },
);

export type ProductDoc = InferSchemaType<typeof productSchema> & { _id: unknown; createdAt: Date; updatedAt: Date };
export type CategoryDoc = InferSchemaType<typeof categorySchema> & { _id: unknown };

export interface CatalogModels {
  Product: Model<InferSchemaType<typeof productSchema>>;
  Category: Model<InferSchemaType<typeof categorySchema>>;
}

/** Registers the catalog's models on a connection and builds their indexes. */
export async function createCatalogModels(connection: Connection): Promise<CatalogModels> {
  const Product = connection.model('Product', productSchema);
  const Category = connection.model('Category', categorySchema);
  await Promise.all([Product.init(), Category.init()]);
  return { Product, Category };
}
