/** Voice and video calls: the ringing prompt, the call itself (both streams), and its controls. */
import { useEffect, useRef } from 'preact/hooks';
import type { Identity } from '../../../src/protocol/index.ts';
import { calls, currentCall, explain, notify, permittedTick } from '../engine.ts';
import { checkIdentity, displayName, ScreenTitle, useAsync, useProfile } from './common.tsx';

function Video({ stream, label, muted }: { stream: MediaStream | null; label: string; muted: boolean }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== stream) {
      ref.current.srcObject = stream;
      if (stream) void ref.current.play().catch(() => undefined);
    }
  }, [stream]);
  return <video ref={ref} autoPlay playsInline muted={muted} aria-label={label} data-testid={muted ? 'local-video' : 'remote-video'} />;
}

const STATE_TEXT: Record<string, string> = {
  calling: 'Calling…',
  ringing: 'is calling you',
  connecting: 'Connecting…',
  active: 'In call',
  ended: 'Call ended',
};

export function CallPanel() {
  const call = currentCall.value;
  const who = call ? (call.person ?? call.device) : null;
  const profile = useProfile((who ?? '@') as Identity);
  if (!call) return null;
  const name = displayName(who as Identity, profile);
  const act = (f: () => unknown) => () => {
    try {
      const r = f();
      if (r instanceof Promise) r.catch((err) => notify(explain(err), 'error'));
    } catch (err) {
      notify(explain(err), 'error');
    }
  };
  return (
    <section class="call card" aria-label="Call" data-testid="call" data-state={call.state}>
      <p>
        <strong>{name}</strong> {STATE_TEXT[call.state]}
        {call.state === 'ended' && call.reason ? `: ${call.reason}` : ''}
      </p>
      {call.state !== 'ringing' && call.state !== 'ended' && (
        <div class="streams">
          <Video stream={call.remote} label={`${name}'s video`} muted={false} />
          <Video stream={call.local} label="Your video" muted />
        </div>
      )}
      <p class="actions">
        {call.state === 'ringing' ? (
          <>
            <button type="button" onClick={act(() => calls().accept())}>
              Accept
            </button>{' '}
            <button type="button" class="secondary" onClick={act(() => calls().decline())}>
              Decline
            </button>
          </>
        ) : call.state === 'ended' ? (
          <button type="button" class="secondary" onClick={() => (currentCall.value = null)}>
            Close
          </button>
        ) : (
          <>
            <button type="button" class="secondary" aria-pressed={call.muted} onClick={act(() => calls().setMuted(!call.muted))}>
              {call.muted ? 'Unmute microphone' : 'Mute microphone'}
            </button>{' '}
            {call.video && (
              <button
                type="button"
                class="secondary"
                aria-pressed={call.cameraOff}
                onClick={act(() => calls().setCameraOff(!call.cameraOff))}
              >
                {call.cameraOff ? 'Camera on' : 'Camera off'}
              </button>
            )}{' '}
            <button type="button" class="danger" onClick={act(() => calls().hangUp())}>
              Hang up
            </button>
          </>
        )}
      </p>
    </section>
  );
}

/** For a linked peer device: "may call me" (per person, this device only) and the call buttons. */
export function CallControls({ device }: { device: Identity }) {
  const profile = useProfile(device);
  const person = profile?.synod ?? null;
  void permittedTick.value;
  const permitted = useAsync(() => calls().permitted(), [permittedTick.value]).value ?? [];
  if (!person) return null;
  const allowed = permitted.includes(person);
  const busy = currentCall.value !== null && currentCall.value.state !== 'ended';
  const place = (video: boolean) =>
    calls()
      .call(device, video)
      .catch((err) => notify(explain(err), 'error'));
  return (
    <span class="call-controls">
      <label>
        <input
          type="checkbox"
          checked={allowed}
          onChange={(e) =>
            void calls()
              .setPermitted(person, (e.target as HTMLInputElement).checked)
              .then(() => permittedTick.value++)
          }
        />{' '}
        may call me
      </label>{' '}
      {allowed && !busy && (
        <>
          <button type="button" class="small" onClick={() => void place(true)}>
            Video call
          </button>{' '}
          <button type="button" class="small secondary" onClick={() => void place(false)}>
            Voice call
          </button>
        </>
      )}
    </span>
  );
}

/** Opened from a call notification: the call rings here once the caller's app, told we are back, rings again. */
export function CallWaiting({ device }: { device: string }) {
  const check = checkIdentity(device);
  const profile = useProfile((check.identity ?? '@') as Identity);
  const call = currentCall.value;
  const name = check.identity ? displayName(check.identity, profile) : 'someone';
  return (
    <>
      <ScreenTitle>Call</ScreenTitle>
      {call && call.device === check.identity ? (
        <p class="hint">The call is above.</p>
      ) : (
        <p role="status" aria-live="polite" data-testid="call-waiting">
          Connecting to {name}’s call… It rings here as soon as their app sees you are back. If nothing rings within a minute, the call has
          ended.
        </p>
      )}
    </>
  );
}
