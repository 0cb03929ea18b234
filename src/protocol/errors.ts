/**
 * Every parse of untrusted bytes answers a Result: a typed error with a code a
 * program can branch on and a message a person can read. Nothing throws past
 * a protocol boundary.
 */
export type ErrorCode =
  | 'too_big'
  | 'bad_encoding'
  | 'bad_json'
  | 'bad_hash'
  | 'bad_signature'
  | 'bad_key'
  | 'wrong_identity'
  | 'bad_schema'
  | 'unknown_type'
  | 'revoked'
  | 'not_member'
  | 'final_synod'
  | 'broken_chain'
  | 'decrypt_failed';

export interface ProtocolError {
  readonly code: ErrorCode;
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ProtocolError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export const fail = <T = never>(code: ErrorCode, message: string): Result<T> => ({
  ok: false,
  error: { code, message },
});
