/**
 * The client address a request came from, as the key of per-address budgets:
 * `CF-Connecting-IP`, which Cloudflare sets on every request (a client's own
 * header is overwritten), and which `wrangler dev` sets to the socket's
 * source address. An IPv6 address counts by its /64 (one subscriber's
 * network: anyone holding one holds billions of addresses); IPv4 by itself.
 * Never shown to anyone: it only keys budgets.
 */

/** The budget key of a request, or null when it carries no client address (never on Cloudflare). */
export function clientAddress(headers: Headers): string | null {
  const raw = headers.get('CF-Connecting-IP')?.trim();
  return raw ? budgetKey(raw) : null;
}

/** "192.0.2.1" → itself; "2001:db8:1:2:3:4:5:6" → "2001:db8:1:2::/64"; anything else → itself, lower-cased, at most 64 characters. */
export function budgetKey(address: string): string {
  const a = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1] as string;
  if (!a.includes(':')) return a.slice(0, 64);
  const groups = expandV6(a);
  return groups
    ? `${groups
        .slice(0, 4)
        .map((g) => g.replace(/^0+(?=.)/, ''))
        .join(':')}::/64`
    : a.slice(0, 64);
}

/** The eight groups of an IPv6 address, or null when it is not one. */
function expandV6(a: string): string[] | null {
  const halves = a.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (tail.length > 0 && tail[tail.length - 1]!.includes('.')) tail.splice(-1, 1, '0', '0');
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array.from({ length: halves.length === 2 ? missing : 0 }, () => '0'), ...tail];
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? groups : null;
}
