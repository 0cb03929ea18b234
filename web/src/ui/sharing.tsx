/** Sharing on the Network screen (docs/protocol.md §13.10): blob bytes served to and received from each peer, their ratio, and what the iwant list does on this device now. */
import { useEffect, useState } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { peer } from '../engine.ts';
import { bytes, shortId } from '../lib/format.ts';
import { displayName, useProfile } from './common.tsx';

function Who({ identity }: { identity: Identity }) {
  return (
    <a href={`#/id/${identity}`} title={identity}>
      {displayName(identity, useProfile(identity))}
    </a>
  );
}

export function Sharing() {
  const p = peer();
  const [, setVersion] = useState(0);
  useEffect(() => p.reciprocity.events.on('changed', () => setVersion((v) => v + 1)), [p]);
  const standings = p.reciprocity.standings().slice(0, 30);
  const policy = p.wants.policy;
  const wanted = p.wants.wanted().length;
  return (
    <section aria-labelledby="sharing-h">
      <h3 id="sharing-h">Sharing</h3>
      <p class="hint" data-testid="want-policy">
        {policy.prefetch
          ? `Images of people you follow are fetched ahead (${policy.reason}).`
          : `Images are fetched only when you open them (${policy.reason}).`}{' '}
        {wanted ? `${wanted} waiting.` : ''}
      </p>
      {standings.length === 0 ? (
        <p class="empty">No images or files exchanged with peers yet.</p>
      ) : (
        <table class="rows" data-testid="reciprocity">
          <thead>
            <tr>
              <th scope="col">Peer</th>
              <th scope="col">You sent</th>
              <th scope="col">You received</th>
              <th scope="col" title="What they gave over what they took; when busy, higher is served first">
                Ratio
              </th>
            </tr>
          </thead>
          <tbody>
            {standings.map((s) => (
              <tr key={s.identity} data-identity={s.identity}>
                <td>
                  <Who identity={s.identity} /> <code>{shortId(s.identity)}</code>
                </td>
                <td>{bytes(s.served)}</td>
                <td>{bytes(s.received)}</td>
                <td data-testid="ratio">{s.ratio.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
