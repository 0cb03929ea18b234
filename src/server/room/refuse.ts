/**
 * Answers a WebSocket upgrade that cannot be served: the socket is accepted
 * (outside any hibernation set, so it counts nowhere), sent
 * `error {code, message}` and closed with `closeCode` at once. A browser sees
 * the code and reason, where a refused upgrade is an opaque failure.
 */
import { encodeWire, type WireErrorCode } from '../../protocol/index.ts';

export function refuseSocket(code: WireErrorCode, message: string, closeCode: number): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.send(encodeWire({ type: 'error', code, message }));
  server.close(closeCode, message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}
