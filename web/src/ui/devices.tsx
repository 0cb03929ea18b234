/** Me → Devices: the account's devices (rename, remove) and linking a new one by QR code or 12 digits. */
import { useState } from 'preact/hooks';
import type { DeviceRecord } from '../../../src/protocol/index.ts';
import { notify, peer, tick, transportOf } from '../engine.ts';
import { exactTime, shortId } from '../lib/format.ts';
import { ScreenTitle } from './common.tsx';
import { Alert, Confirm, Field, useAction } from './forms.tsx';
import { KEY_NOTE } from './me.tsx';
import { PairingPanel } from './pairing.tsx';
import { StartOver } from './start.tsx';

function Rename({ device, onDone }: { device: DeviceRecord; onDone: () => void }) {
  const [name, setName] = useState(device.name ?? '');
  const { busy, error, setError, run } = useAction();
  return (
    <form
      class="respond"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!name.trim()) return setError('Type a name first.');
        await run(async () => {
          await peer().renameDevice(device.device, name.trim());
          notify('Device renamed.');
          onDone();
        });
      }}
    >
      <Field bare label="New name" maxLength={64} value={name} onValue={setName} />
      <Alert>{error}</Alert>
      <div class="row">
        <button type="submit" disabled={busy}>
          Save name
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DeviceRow({ d }: { d: DeviceRecord }) {
  const p = peer();
  const [renaming, setRenaming] = useState(false);
  const self = d.device === p.identity;
  const transport = transportOf(d.device);
  const active = d.cut === null;
  return (
    <li class={`device ${active ? '' : 'revoked'}`} data-device={d.device}>
      <div>
        <strong>{d.name || 'Unnamed device'}</strong>
        {self && <span class="badge ok">This device</span>}
        {!active && <span class="badge warn">Removed (its posts after {exactTime(d.cut ?? 0)} are refused)</span>}
        {transport && <span class={`badge transport ${transport}`}>online</span>}
        <p class="hint">
          <code title={d.device}>{shortId(d.device)}</code>
        </p>
      </div>
      {p.holdsSynodKey && active && (
        <div class="row">
          {!renaming && (
            <button type="button" class="secondary small" onClick={() => setRenaming(true)}>
              Rename
            </button>
          )}
          {!self && (
            <Confirm
              label="Remove"
              confirmLabel="Remove this device"
              warning={
                <p>
                  Everyone will refuse what this device posts from now on, and it can never be added again. Use this for a lost or stolen
                  device.
                </p>
              }
              onConfirm={async () => {
                await p.revokeDevice(d.device);
                notify('Device removed.');
              }}
            />
          )}
        </div>
      )}
      {renaming && <Rename device={d} onDone={() => setRenaming(false)} />}
    </li>
  );
}

export function Devices({ code = '' }: { code?: string }) {
  const p = peer();
  void tick.value;
  const [linking, setLinking] = useState(!!code);
  const devices = [...(p.synodState()?.devices.values() ?? [])];
  return (
    <>
      <ScreenTitle>Devices</ScreenTitle>
      <p class="hint">Each device has its own key and joins your account. People who follow you follow all of them.</p>
      <ul class="devices" aria-label="Devices of this account">
        {devices.map((d) => (
          <DeviceRow key={d.device} d={d} />
        ))}
      </ul>
      {p.holdsSynodKey ? (
        linking ? (
          <>
            <h3>Link a new device</h3>
            <PairingPanel role="holder" initialCode={code} onBack={() => setLinking(false)} />
          </>
        ) : (
          <p>
            <button type="button" onClick={() => setLinking(true)}>
              Link a new device
            </button>
          </p>
        )
      ) : (
        <p class="hint">{KEY_NOTE}</p>
      )}
      <StartOver />
    </>
  );
}
