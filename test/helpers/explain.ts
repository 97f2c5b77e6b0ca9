/**
 * The plan the server chose for a query, as text: FerretDB answers with the
 * PostgreSQL plan (and whether the filter was pushed down), MongoDB with its
 * winning plan. Used by the tests that prove request and sweep paths do not scan.
 */
export interface Plan {
  text: string;
  ferret: boolean;
  pushdown: unknown;
}

export async function plan(query: { explain(): Promise<unknown> }): Promise<Plan> {
  const explained = (await query.explain()) as Record<string, unknown> | Array<Record<string, unknown>>;
  const doc = Array.isArray(explained) ? explained[0]! : explained;
  return { text: JSON.stringify(doc.queryPlanner), ferret: 'pushdown' in doc || 'filterPushdown' in doc, pushdown: doc.pushdown ?? doc.filterPushdown };
}

export const usesIndex = (p: Plan) => (p.ferret ? /Index Scan/.test(p.text) : /IXSCAN|IDHACK|EXPRESS_IXSCAN|EXPRESS_IDHACK/.test(p.text));
