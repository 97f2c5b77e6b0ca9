import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { notFound, type Clock } from '../../kit/index.js';
import type { FaqDoc, SupportModels } from '../models.js';

const tag = z.string().trim().toLowerCase().regex(/^[a-z0-9-]{1,40}$/, 'must be a tag (a-z, 0-9, -)');
export const faqInputSchema = z.object({
  question: z.string().trim().min(3).max(300),
  answer: z.string().trim().min(1).max(5_000),
  tags: z.array(tag).max(10).default([]),
  order: z.number().int().min(0).max(1_000_000).default(0),
}).strict();
export type FaqInput = z.infer<typeof faqInputSchema>;

export const faqQuerySchema = z.object({ q: z.string().trim().min(1).max(100).optional(), tag: tag.optional() }).strict();
export type FaqQuery = z.infer<typeof faqQuerySchema>;
export const faqIdSchema = z.object({ id: z.string().regex(/^f_[A-Za-z0-9_-]{16}$/, 'must be a FAQ id') }).strict();

export interface FaqView {
  id: string;
  question: string;
  answer: string;
  tags: string[];
  order: number;
  updatedAt: string;
}

const toView = (doc: FaqDoc): FaqView => ({ id: doc._id, question: doc.question, answer: doc.answer, tags: doc.tags, order: doc.order, updatedAt: doc.updatedAt.toISOString() });

/** Most entries an FAQ holds: it is read whole and searched in memory (behind the cache). */
const MAX_ENTRIES = 1_000;

/**
 * The FAQ, in `order`, filtered by tag and by a search: every word of `q` must
 * appear (case-insensitive) in the question, the answer or a tag. In memory:
 * an FAQ is small, the result is cached, and FerretDB has no text index.
 */
export async function listFaq(models: SupportModels, query: FaqQuery): Promise<{ items: FaqView[] }> {
  const docs = await models.faq.find({}).sort({ order: 1, _id: 1 }).limit(MAX_ENTRIES).lean<FaqDoc[]>();
  const words = (query.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const items = docs.filter((doc) => {
    if (query.tag && !doc.tags.includes(query.tag)) return false;
    const text = `${doc.question}\n${doc.answer}\n${doc.tags.join(' ')}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
  return { items: items.map(toView) };
}

export async function getFaq(models: SupportModels, id: string): Promise<FaqView | null> {
  const doc = await models.faq.findById(id).lean<FaqDoc>();
  return doc ? toView(doc) : null;
}

export async function createFaq(models: SupportModels, clock: Clock, input: FaqInput): Promise<FaqView> {
  const doc: FaqDoc = { _id: `f_${randomBytes(12).toString('base64url')}`, ...input, updatedAt: new Date(clock.now()) };
  await models.faq.create(doc);
  return toView(doc);
}

export async function updateFaq(models: SupportModels, clock: Clock, id: string, input: FaqInput): Promise<FaqView> {
  const doc = await models.faq.findOneAndUpdate({ _id: id }, { $set: { ...input, updatedAt: new Date(clock.now()) } }, { new: true, lean: true });
  if (!doc) throw notFound(`FAQ entry ${id} does not exist`);
  return toView(doc as FaqDoc);
}

export async function deleteFaq(models: SupportModels, id: string): Promise<void> {
  if ((await models.faq.deleteOne({ _id: id })).deletedCount === 0) throw notFound(`FAQ entry ${id} does not exist`);
}
