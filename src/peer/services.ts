/**
 * Services on request, client side (docs/protocol.md §13.2–13.3): a room
 * grants `datalease` and collecting from its `dropbox` only when asked, so
 * the engine asks before it uses them. It shows its account's `add_device`
 * entry as `member`, which a server that grants to member accounts needs
 * (and others ignore).
 */
import type { Identity, Service } from '../protocol/index.ts';
import type { Keys } from './keys.ts';
import type { Link } from './link.ts';
import type { Replica } from './replica.ts';

/** The text of the synod entry that admitted this device, when this device is in a synod whose feed we hold. */
export async function memberCard(keys: Keys, replica: Replica): Promise<string | undefined> {
  const synod: Identity | null = keys.synodIdentity;
  if (!synod || synod === keys.device.identity) return undefined;
  for (const entry of await replica.chain(synod)) {
    const p = entry.body.payload;
    if (p.type === 'synod' && p.op === 'add_device' && p.device === keys.device.identity) return entry.text;
  }
  return undefined;
}

/** Ask the peer behind `link` for `service`; resolves once granted, rejects with the refusal's code and reason. */
export async function requestService(link: Link, service: Service, member?: string): Promise<void> {
  if (link.services.includes(service)) return;
  const reply = await link.request({ type: 'request_service', service, ...(member !== undefined && { member }) });
  if (reply.type === 'error') throw new Error(`${service} refused: ${reply.code}: ${reply.message}`);
  if (reply.type !== 'ok') throw new Error(`request_service ${service} was answered with ${reply.type}`);
}
