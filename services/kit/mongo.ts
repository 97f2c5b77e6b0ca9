import mongoose, { type Connection } from 'mongoose';
import type { Logger } from './log.js';

export interface MongoOptions {
  logger: Logger;
  /** How long an operation waits for a reachable server before failing. */
  serverSelectionTimeoutMs?: number;
  socketTimeoutMs?: number;
  maxPoolSize?: number;
  /** Database name; overrides the one in the URI (tests use one per file). */
  dbName?: string;
  /** Emit driver command events (tests count queries with them). */
  monitorCommands?: boolean;
}

/**
 * Opens a mongoose connection with bounded timeouts. Commands are not buffered
 * while disconnected: a request fails fast instead of hanging until its timeout.
 */
export async function connectMongo(uri: string, options: MongoOptions): Promise<Connection> {
  const { logger } = options;
  const connection = mongoose.createConnection(uri, {
    dbName: options.dbName,
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 3_000,
    connectTimeoutMS: 3_000,
    socketTimeoutMS: options.socketTimeoutMs ?? 15_000,
    heartbeatFrequencyMS: 2_000,
    maxPoolSize: options.maxPoolSize ?? 20,
    bufferCommands: false,
    autoIndex: true,
    retryWrites: true,
    monitorCommands: options.monitorCommands ?? false,
  });
  connection.on('disconnected', () => logger.warn('mongo disconnected'));
  connection.on('reconnected', () => logger.info('mongo reconnected'));
  connection.on('error', (error) => logger.error({ err: error }, 'mongo error'));
  await connection.asPromise();
  return connection;
}

/** Readiness check: a round trip to the server. */
export async function pingMongo(connection: Connection): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error('mongo not connected');
  await db.command({ ping: 1 });
}

/**
 * Readiness check that costs no round trip: whether the driver holds a live
 * connection to the server (its monitor learns of an outage within a heartbeat,
 * 2 s). A ping would queue behind the requests in a saturated pool, and a
 * replica busy with a rush would drop out of the load balancer for being busy.
 */
export async function mongoConnected(connection: Connection): Promise<void> {
  if (connection.readyState !== 1) throw new Error('mongo not connected');
}
