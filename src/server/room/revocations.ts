/**
 * Revocations as the room knows them (docs/room.md §7, docs/protocol.md §9.7),
 * kept at the device's home shard beside its head: what a synod's verified
 * `revoke_device` entries said, and which synods each device has claimed.
 *
 * A revocation binds a device only for a synod the device itself named in an
 * entry the room verified (its own signed claim, `synod: [S, …]`), so a synod
 * cannot cut off an identity that never claimed it. A device cannot shed a
 * revocation by claiming another synod, or none, afterwards: once it claimed
 * S, S's cut applies to all its later heads.
 */
import type { Identity } from '../../protocol/index.ts';

/** One revocation the room holds: device, synod, the effective (lowest) cut, and whether the device ever claimed that synod. */
export interface Revocation {
  device: Identity;
  synod: Identity;
  cut: number;
  bound: boolean;
}

export function initRevocations(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS revocations (
    device TEXT NOT NULL,
    synod TEXT NOT NULL,
    cut INTEGER NOT NULL,
    PRIMARY KEY (device, synod)
  )`);
  sql.exec(`CREATE TABLE IF NOT EXISTS device_synods (
    device TEXT NOT NULL,
    synod TEXT NOT NULL,
    PRIMARY KEY (device, synod)
  )`);
}

export class RevocationTable {
  constructor(private readonly sql: SqlStorage) {}

  /** `device` signed an entry claiming `synod`. */
  claim(device: Identity, synod: Identity): void {
    this.sql.exec('INSERT OR IGNORE INTO device_synods (device, synod) VALUES (?, ?)', device, synod);
  }

  /** `synod` revoked `device` at `cut`; a second revocation only moves the cut earlier (§9.2 rule 3). */
  record(synod: Identity, device: Identity, cut: number): void {
    this.sql.exec(
      `INSERT INTO revocations (device, synod, cut) VALUES (?, ?, ?)
       ON CONFLICT (device, synod) DO UPDATE SET cut = MIN(cut, excluded.cut)`,
      device,
      synod,
      cut,
    );
  }

  /** The lowest cut binding `device`, counting `also` (the synod an entry being stored claims) as claimed; null when none. */
  cutOf(device: Identity, also: Identity | null = null): number | null {
    const row = this.sql
      .exec<{ cut: number | null }>(
        `SELECT MIN(r.cut) AS cut FROM revocations r
         WHERE r.device = ? AND (r.synod = ? OR r.synod IN (SELECT synod FROM device_synods WHERE device = ?))`,
        device,
        also,
        device,
      )
      .toArray()[0];
    return row?.cut ?? null;
  }

  /** Every revocation of these devices, bound or not. */
  of(devices: readonly Identity[]): Revocation[] {
    const out: Revocation[] = [];
    for (const device of new Set(devices)) {
      for (const r of this.sql
        .exec<{ synod: Identity; cut: number; bound: number }>(
          `SELECT r.synod AS synod, r.cut AS cut,
                  EXISTS (SELECT 1 FROM device_synods d WHERE d.device = r.device AND d.synod = r.synod) AS bound
           FROM revocations r WHERE r.device = ?`,
          device,
        )
        .toArray())
        out.push({ device, synod: r.synod, cut: r.cut, bound: r.bound === 1 });
    }
    return out;
  }
}
