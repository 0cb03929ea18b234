/** What the engine refuses to do, with a code the app can act on and words a person can read. */
export class PeerError extends Error {
  constructor(
    readonly code:
      | 'no_synod'
      | 'not_synod_holder'
      | 'bad_mnemonic'
      | 'bad_pairing'
      | 'synod_not_found'
      | 'not_found'
      | 'bad_input'
      | 'timeout'
      | 'cancelled',
    message: string,
  ) {
    super(message);
  }
}
