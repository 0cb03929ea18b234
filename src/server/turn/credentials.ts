/**
 * TURN credentials by the TURN REST API scheme coturn implements with
 * `--use-auth-secret`: username = "<unix expiry>:<identity>", password =
 * base64(HMAC-SHA1(shared secret, username)). The identity is the
 * authentication, as the design wishes; coturn checks the HMAC and the expiry
 * itself, so the Worker and coturn share only the secret.
 */
export interface TurnCredentials {
  readonly urls: readonly string[];
  readonly username: string;
  readonly credential: string;
  /** Unix milliseconds. */
  readonly expires: number;
}

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

export async function mintTurnCredentials(
  secret: string,
  urls: readonly string[],
  identity: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): Promise<TurnCredentials> {
  const expirySeconds = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expirySeconds}:${identity}`;
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(username)));
  return { urls, username, credential: toBase64(mac), expires: expirySeconds * 1000 };
}
