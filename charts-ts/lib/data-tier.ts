/**
 * The data tier: MongoDB replica set and Redis in the cluster, or nothing at all when the
 * environment uses managed services (their URIs live in the Secret, their CIDRs in the
 * settings for the egress NetworkPolicy).
 */
import { Construct } from 'constructs';
import type { DataTierSettings } from '../settings.js';
import { MongoReplicaSet } from './mongo-replica-set.js';
import { RedisStore } from './redis.js';

/** Props of {@link DataTier}. */
export interface DataTierProps {
  readonly namespace: string;
  readonly settings: DataTierSettings;
}

/** MongoDB + Redis when in-cluster; an empty construct when external. */
export class DataTier extends Construct {
  constructor(scope: Construct, id: string, props: DataTierProps) {
    super(scope, id);
    const s = props.settings;
    if (s.mode === 'external') return;
    new MongoReplicaSet(this, 'Mongo', { namespace: props.namespace, settings: s.mongo, spread: s.spread });
    new RedisStore(this, 'Redis', { namespace: props.namespace, settings: s.redis, spread: s.spread });
  }
}
