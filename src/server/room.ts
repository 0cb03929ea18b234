import { DurableObject } from "cloudflare:workers";
import type { Env } from "./env.ts";

/**
 * One relay room per name. Placeholder: it accepts hibernatable WebSockets
 * and ignores their messages until the room server replaces it.
 */
export class Room extends DurableObject<Env> {
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(): Promise<void> {}

  // Answer the peer's close frame so it sees a clean close, not 1006.
  // 1005/1006 are reserved (no code / abnormal) and may not be sent back.
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    if (code === 1005 || code === 1006) ws.close();
    else ws.close(code, reason);
  }
}
