import { conflict, notFound } from '../../kit/index.js';
import type { CatalogModels } from '../models.js';
import type { z } from 'zod';
import type { categoryInputSchema } from './schemas.js';

export type CategoryInput = z.infer<typeof categoryInputSchema>;

export interface Category {
  slug: string;
  name: string;
  description: string;
  sortOrder: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const toCategory = (doc: Record<string, any>): Category => ({ slug: doc.slug, name: doc.name, description: doc.description ?? '', sortOrder: doc.sortOrder ?? 0 });

export async function listCategories(models: CatalogModels): Promise<Category[]> {
  const docs = await models.Category.find({}).sort({ sortOrder: 1, slug: 1 }).limit(1_000).lean();
  return docs.map(toCategory);
}

/** Creates or replaces a category by slug (PUT semantics: idempotent). */
export async function putCategory(models: CatalogModels, input: CategoryInput): Promise<Category> {
  const doc = await models.Category.findOneAndUpdate({ slug: input.slug }, { $set: input }, { upsert: true, new: true }).lean();
  return toCategory(doc);
}

export async function createCategory(models: CatalogModels, input: CategoryInput): Promise<Category> {
  try {
    const doc = await models.Category.create(input);
    return toCategory(doc.toObject());
  } catch (error) {
    if ((error as { code?: number }).code === 11000) throw conflict('duplicate', 'a category with this slug already exists', { field: 'body.slug' });
    throw error;
  }
}

export async function deleteCategory(models: CatalogModels, slug: string): Promise<void> {
  const result = await models.Category.deleteOne({ slug });
  if (result.deletedCount === 0) throw notFound(`category ${slug} does not exist`);
}
