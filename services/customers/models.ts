import { Schema, type Connection, type Model } from 'mongoose';

/** An account. `email` is normalised (trimmed, lower case) and unique by index. */
export interface CustomerDoc {
  /** Random, URL-safe: it is the customer id inside tokens and the cart id `c-<id>`. */
  _id: string;
  email: string;
  /** `scrypt$<logN>$<r>$<p>$<salt>$<hash>` (domain/passwords.ts); never logged or answered. */
  passwordHash: string;
  name: string | null;
  createdAt: Date;
}

export interface CustomersModels {
  customers: Model<CustomerDoc>;
}

const customerSchema = new Schema<CustomerDoc>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true },
    passwordHash: { type: String, required: true },
    name: { type: String, default: null },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'customers' },
);
customerSchema.index({ email: 1 }, { unique: true });

/** Registers the models and builds their indexes (the unique email index is what makes sign-up race-free). */
export async function createCustomersModels(connection: Connection): Promise<CustomersModels> {
  const customers = connection.model<CustomerDoc>('Customer', customerSchema);
  await customers.createIndexes();
  return { customers };
}
