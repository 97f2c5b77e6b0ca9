/**
 * Keeps this replica's ProductIndex (domain/product-index.ts) in step with
 * MongoDB and with the other replicas.
 *
 * - At start, and every CATALOG_INDEX_REFRESH_MS, it reads every product
 *   (streamed, in batches) into a new index and swaps it in. Until the first
 *   load ends, pages come from the database as before. Each full read is also
 *   stored in Redis as a snapshot labelled with the change counter; a replica
 *   that starts while no write has been counted since loads that instead (a
 *   restart under load then costs the database nothing).
 * - A write through this replica's API is applied here at once (so a client
 *   reads its own write) and published on Redis with the written documents
 *   and a number from a change counter (one Lua script: INCR, then PUBLISH
 *   with the new value).
 *   Other replicas apply the documents as they arrive: no database read. The
 *   routes publish before they invalidate the response cache, and a replica
 *   handles the two messages in that order, so it does not cache a page of the
 *   old products under the new cache generation.
 * - Pub/sub loses messages (a reconnect, a Redis failover). A replica knows
 *   up to which number it holds every change (a full load covers what was
 *   counted before it began reading). Every CATALOG_INDEX_CHECK_MS it reads
 *   the counter; still behind the same number at the next check (a message is
 *   not that slow), or a counter that went back (Redis lost its data), means
 *   a lost message, and it loads everything again.
 *   A write whose message could not be published (Redis down) is owed: the
 *   writer publishes a "reload" notice as soon as Redis answers again.
 * - Writes that bypass the API (a script writing to MongoDB directly, a
 *   restore from backup) show up at the next periodic load, also in replicas
 *   started meanwhile (the snapshot is still labelled current). To make every
 *   replica read the database now: `INCR <name>:index:counter` in Redis (they
 *   take it for a lost message). A cheaper check of the snapshot against the
 *   database does not exist on FerretDB: counting the products costs as much
 *   as reading them.
 *
 * Metrics: catalog_index_products (gauge), catalog_index_loads_total{reason}
 * (`snapshot` for a start from Redis),
 * catalog_index_reads_total{source="index"|"database"}.
 */
import { randomUUID } from 'node:crypto';
import type { Logger, Metrics, Redis } from '../kit/index.js';
import type { CatalogModels } from './models.js';
import { ProductIndex } from './domain/product-index.js';
import type { ListQuery } from './domain/schemas.js';
import type { Product, ProductPage } from './domain/products.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Lean = Record<string, any>;

export interface CatalogIndexOptions {
  models: CatalogModels;
  redis: Redis;
  /** The catalog's pub/sub connection (shared with the response cache). */
  subscriber: Redis;
  /** Redis namespace; tests use one per file. */
  name: string;
  logger: Logger;
  metrics: Metrics;
  refreshMs: number;
  checkMs: number;
}

interface Message {
  from: string;
  upserts?: Lean[];
  deletes?: string[];
  reload?: boolean;
}

type LoadReason = 'start' | 'periodic' | 'lost_message' | 'notice';

/** INCR the change counter and publish `<new value> <message>`: every message carries its number. */
const PUBLISH_CHANGE = "local n = redis.call('INCR', KEYS[1]) redis.call('PUBLISH', ARGV[1], n .. ' ' .. ARGV[2]) return n";

/** Larger catalogs are not snapshotted in Redis (every replica then reads the database at start). */
const SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024;

export class CatalogIndex {
  private index: ProductIndex | undefined;
  private readonly me = randomUUID();
  private readonly channel: string;
  private readonly counterKey: string;
  private readonly snapshotKey: string;
  /** Every change numbered up to this is in the index; undefined until a load says from where. */
  private covered: number | undefined;
  /** Numbers received above `covered` (a gap below them is a message still on its way, or lost). */
  private readonly arrived = new Set<number>();
  /** The counter seen by the last check while behind it. */
  private suspect: number | undefined;
  private loading: Promise<void> | undefined;
  private reloadAgain: LoadReason | undefined;
  /** Messages that arrived while a load was running, applied again on top of it. */
  private duringLoad: Message[] = [];
  private owedNotice = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly loads;
  private readonly reads;
  private readonly size;

  constructor(private readonly options: CatalogIndexOptions) {
    this.channel = `${options.name}:index:changes`;
    this.counterKey = `${options.name}:index:counter`;
    this.snapshotKey = `${options.name}:index:snapshot`;
    this.loads = options.metrics.counter('catalog_index_loads_total', 'Full loads of the in-memory product index, by reason', ['reason']);
    this.reads = options.metrics.counter('catalog_index_reads_total', 'Product lists and reads by where they were answered from', ['source']);
    this.size = options.metrics.gauge('catalog_index_products', 'Products in this replica\'s in-memory index (0 until loaded)');
  }

  /** Subscribes, then loads in the background; resolves before the load ends. */
  async start(): Promise<void> {
    const { subscriber, logger } = this.options;
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== this.channel) return;
      try {
        const space = raw.indexOf(' ');
        this.arrive(Number(raw.slice(0, space)));
        this.onMessage(JSON.parse(raw.slice(space + 1)) as Message);
      } catch (error) {
        logger.warn({ err: error }, 'catalog index: unreadable change message, loading everything');
        this.load('lost_message');
      }
    });
    await subscriber.subscribe(this.channel);
    this.load('start');
    const every = (ms: number, run: () => Promise<void> | void) => {
      const timer = setInterval(() => void Promise.resolve(run()).catch((error) => logger.warn({ err: error }, 'catalog index: background step failed')), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.checkMs, () => this.check());
    every(this.options.refreshMs, () => this.load('periodic'));
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.loading?.catch(() => undefined);
  }

  /** Resolves when the current load (if any) has ended; for tests and the bench. */
  async ready(): Promise<boolean> {
    while (this.loading) await this.loading.catch(() => undefined);
    return this.index !== undefined;
  }

  /** Whether a load has ended (before that, pages come from the database). */
  get loaded(): boolean {
    return this.index !== undefined;
  }

  /** A page from memory, or undefined while the index is not loaded (the caller asks the database). */
  list(query: ListQuery): ProductPage | undefined {
    const page = this.index?.list(query);
    this.reads.inc({ source: page ? 'index' : 'database' });
    return page;
  }

  /** A product from memory; undefined when not held (new on another replica a moment ago, or no such product). */
  get(idOrSlug: string): Product | undefined {
    const product = this.index?.get(idOrSlug);
    this.reads.inc({ source: product ? 'index' : 'database' });
    return product;
  }

  /** A lookup of products by SKU while the index is loaded (bulk imports use it), else undefined. */
  skuLookup(): ((sku: string) => Product | undefined) | undefined {
    const index = this.index;
    return index ? (sku) => index.getBySku(sku) : undefined;
  }

  /**
   * After a write of which it is not known what landed (a bulk import that
   * failed part way): every replica, this one included, reads the database
   * again. Never throws.
   */
  async changedUnknown(): Promise<void> {
    this.load('notice');
    await this.tell({ from: this.me, reload: true });
  }

  /**
   * Applies a write made through this replica's API, then tells the other
   * replicas. Never throws: the write is in MongoDB already.
   */
  async changed(change: { upserts?: Lean[]; deletes?: string[] }): Promise<void> {
    const message: Message = { from: this.me, ...change };
    this.apply(message);
    if (this.loading) this.duringLoad.push(message);
    await this.tell(message);
  }

  /** Publishes `message`; if Redis cannot take it, a reload notice is owed (sent by the next check that reaches Redis). */
  private async tell(message: Message): Promise<void> {
    try {
      await this.publish(message);
    } catch (error) {
      this.owedNotice = true;
      this.options.logger.warn({ err: error }, 'catalog index: change not published; every replica reloads when redis answers');
    }
  }

  private async publish(message: Message): Promise<void> {
    await this.options.redis.eval(PUBLISH_CHANGE, 1, this.counterKey, this.channel, JSON.stringify(message));
  }

  /** Notes change number `n` as received, and moves `covered` over every number now without a gap. */
  private arrive(n: number): void {
    if (Number.isSafeInteger(n)) this.arrived.add(n);
    if (this.covered === undefined) return;
    for (const m of this.arrived) if (m <= this.covered) this.arrived.delete(m);
    while (this.arrived.delete(this.covered + 1)) this.covered += 1;
  }

  private onMessage(message: Message): void {
    if (message.from === this.me) return;
    if (message.reload) {
      this.load('notice');
      return;
    }
    this.apply(message);
    if (this.loading) this.duringLoad.push(message);
  }

  private apply(message: Message): void {
    if (!this.index) return;
    for (const doc of message.upserts ?? []) this.index.upsert(doc);
    for (const id of message.deletes ?? []) this.index.delete(id);
    this.size.set(this.index.size);
  }

  /** Compares the change counter with what this index covers; behind twice at the same mark means a lost message. */
  private async check(): Promise<void> {
    // A first load that failed (database down at start) is tried again here, not only after refreshMs.
    if (!this.index && !this.loading) this.load('start');
    if (this.owedNotice) {
      await this.publish({ from: this.me, reload: true });
      this.owedNotice = false;
    }
    if (this.loading) return;
    // `covered` never passes the counter, unless Redis lost the counter; messages may move it on while we read.
    const before = this.covered;
    const counter = await this.readCounter();
    if (this.loading) return;
    const covered = before === undefined || counter < before ? undefined : this.covered;
    if (covered !== undefined && covered >= counter) {
      this.suspect = undefined;
      return;
    }
    if (covered !== undefined && (this.suspect === undefined || covered >= this.suspect)) {
      // Behind: the messages may still be on their way. Look again at the next check.
      this.suspect = counter;
      return;
    }
    // Still behind the mark of the last check, or the counter went back (Redis lost it), or no load could read it.
    this.options.logger.warn({ counter, covered }, 'catalog index: change messages were lost, loading everything');
    this.suspect = undefined;
    this.covered = undefined;
    this.arrived.clear();
    this.load('lost_message');
  }

  private async readCounter(): Promise<number> {
    return Number((await this.options.redis.get(this.counterKey)) ?? 0);
  }

  /**
   * The products of the last full read from the database, from Redis, if no
   * write has been counted since that read began (same counter value); else
   * undefined. A starting replica then costs the database nothing: FerretDB
   * takes seconds to read every product (README, "Cold catalog pages").
   */
  private async readSnapshot(): Promise<{ counter: number; docs: Lean[] } | undefined> {
    try {
      const [counter, raw] = await this.options.redis.mget(this.counterKey, this.snapshotKey);
      if (!raw) return undefined;
      const snapshot = JSON.parse(raw) as { counter: number; docs: Lean[] };
      return snapshot.counter === Number(counter ?? 0) ? snapshot : undefined;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'catalog index: snapshot unreadable, reading the database');
      return undefined;
    }
  }

  /** Stores what a full read found, with the counter read before it began; skipped past SNAPSHOT_MAX_BYTES. */
  private async writeSnapshot(counter: number, docs: Lean[]): Promise<void> {
    try {
      const json = JSON.stringify({ counter, docs });
      if (json.length > SNAPSHOT_MAX_BYTES) return;
      await this.options.redis.set(this.snapshotKey, json, 'EX', Math.ceil((this.options.refreshMs * 2) / 1000));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'catalog index: snapshot not stored');
    }
  }

  /** Starts a full load, or queues one more after the running one. */
  private load(reason: LoadReason): void {
    if (this.loading) {
      this.reloadAgain = reason;
      return;
    }
    this.loading = this.loadAll(reason).finally(() => {
      this.loading = undefined;
      const again = this.reloadAgain;
      this.reloadAgain = undefined;
      if (again) this.load(again);
    });
  }

  private async loadAll(reason: LoadReason): Promise<void> {
    const started = Date.now();
    this.duringLoad = [];
    try {
      const next = new ProductIndex();
      const snapshot = reason === 'start' ? await this.readSnapshot() : undefined;
      let source: LoadReason | 'snapshot' = reason;
      // Every change counted before the read began is in what it reads (a writer counts after writing).
      let counter: number | undefined;
      if (snapshot) {
        for (const doc of snapshot.docs) next.upsert(doc);
        counter = snapshot.counter;
        source = 'snapshot';
      } else {
        counter = await this.readCounter().catch(() => undefined);
        const docs: Lean[] = [];
        for await (const doc of this.options.models.Product.find({}).lean().cursor({ batchSize: 1_000 })) {
          next.upsert(doc as Lean);
          docs.push(doc as Lean);
        }
        if (counter !== undefined) await this.writeSnapshot(counter, docs);
      }
      // Writes that landed while the cursor ran: newer versions win in upsert.
      for (const message of this.duringLoad) {
        for (const doc of message.upserts ?? []) next.upsert(doc);
        for (const id of message.deletes ?? []) next.delete(id);
      }
      this.index = next;
      if (counter !== undefined) {
        this.covered = Math.max(this.covered ?? counter, counter);
        this.arrive(Number.NaN);
      }
      this.size.set(next.size);
      this.loads.inc({ reason: source });
      this.options.logger.info({ reason, source, products: next.size, ms: Date.now() - started }, 'catalog index loaded');
    } catch (error) {
      // The previous index (or the database path) keeps serving; the next check or period tries again.
      this.options.logger.warn({ err: error, reason }, 'catalog index: load failed');
    } finally {
      this.duringLoad = [];
    }
  }
}
