/** Shipments, one per order (`_id` = order id, read by the gameday verdict): a job run twice ships once. */
import { Schema, type Connection, type Model } from 'mongoose';

export interface ShipmentDoc {
  _id: string;
  status: 'shipped';
  shippedAt: Date;
  carrierRef: string;
}

export interface FulfillmentModels {
  Shipment: Model<ShipmentDoc>;
}

export async function createFulfillmentModels(connection: Connection): Promise<FulfillmentModels> {
  const shipment = new Schema<ShipmentDoc>(
    { _id: { type: String, required: true }, status: { type: String, required: true }, shippedAt: { type: Date, required: true }, carrierRef: { type: String, required: true } },
    { collection: 'shipments', versionKey: false },
  );
  const models = { Shipment: connection.model<ShipmentDoc>('Shipment', shipment) };
  await models.Shipment.init();
  return models;
}
