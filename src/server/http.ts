/**
 * Every HTTP error the Worker answers has one body, `{"error": {"code",
 * "message"}}` (docs/room.md §1, docs/hosted.md §2), with a code of
 * HTTP_ERRORS (src/protocol/codes.ts) and a message for people.
 */
import type { HttpErrorBody, HttpErrorCode } from '../protocol/index.ts';

export function errorResponse(status: number, code: HttpErrorCode, message: string, headers?: HeadersInit): Response {
  const body: HttpErrorBody = { error: { code, message: message.slice(0, 1000) } };
  return Response.json(body, { status, ...(headers && { headers }) });
}
