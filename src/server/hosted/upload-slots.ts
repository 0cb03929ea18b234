/**
 * Blob uploads in flight, capped per identity (UPLOADS_PER_IDENTITY) and per
 * client address (UPLOADS_PER_IP) across the whole deployment: a slot is a
 * D1 row taken before the body is read and deleted when the upload ends. A
 * slot whose upload died with its isolate stops counting at its deadline
 * (the body's own deadline), and the cleanup removes it.
 */
export interface SlotRequest {
  identity: string;
  /** The client address's budget key, or null (no per-address cap). */
  ip: string | null;
  /** When the upload's body must have arrived. */
  deadline: number;
  perIdentity: number;
  perIp: number;
}

/** Takes a slot; null when the identity or the address already has its most uploads in flight. */
export async function takeSlot(db: D1Database, r: SlotRequest, now = Date.now()): Promise<string | null> {
  const id = crypto.randomUUID();
  const res = await db
    .prepare(
      `INSERT INTO upload_slots (id, identity, ip, deadline)
       SELECT ?1, ?2, ?3, ?4
       WHERE (SELECT COUNT(*) FROM upload_slots WHERE identity = ?2 AND deadline > ?5) < ?6
         AND (?3 = '' OR (SELECT COUNT(*) FROM upload_slots WHERE ip = ?3 AND deadline > ?5) < ?7)`,
    )
    .bind(id, r.identity, r.ip ?? '', r.deadline, now, r.perIdentity, r.perIp)
    .run();
  return (res.meta.changes ?? 0) > 0 ? id : null;
}

export async function releaseSlot(db: D1Database, id: string): Promise<void> {
  await db.prepare('DELETE FROM upload_slots WHERE id = ?').bind(id).run();
}
