/** Me → Notifications: opt in to being woken, while Effigy is closed, for messages and calls (Web Push). */
import { useEffect, useState } from 'preact/hooks';
import type { PushKind } from '../../../src/protocol/index.ts';
import { notify } from '../engine.ts';
import { disablePush, enablePush, loadPushStatus, pushStatus } from '../push.ts';
import { ScreenTitle } from './common.tsx';
import { Alert, useAction } from './forms.tsx';

const KIND_TEXT: Record<PushKind, { label: string; hint: string }> = {
  message: { label: 'Messages', hint: '“You have a new message”: never who wrote or what.' },
  call: { label: 'Calls', hint: '“Call from Ada” for people who may call you; any other caller shows as a missed call, unnamed.' },
};

export function Notifications() {
  useEffect(() => void loadPushStatus(), []);
  const status = pushStatus.value;
  const on = status.kinds.length > 0;
  const [kinds, setKinds] = useState<PushKind[]>(on ? [...status.kinds] : ['message', 'call']);
  useEffect(() => {
    if (on) setKinds([...status.kinds]);
  }, [status.kinds.join(' ')]);
  const { busy, error, run } = useAction();
  const toggle = (k: PushKind) => setKinds((now) => (now.includes(k) ? now.filter((x) => x !== k) : [...now, k]));
  const unavailable = !status.supported
    ? 'This browser cannot show notifications from a web app. On iPhone and iPad, add Effigy to the Home Screen first.'
    : status.configured === false
      ? 'The server this app came from does not send notifications (its operator has not set it up).'
      : status.permission === 'denied'
        ? 'Notifications are blocked for this site. Allow them in the browser’s site settings, then come back.'
        : null;
  return (
    <>
      <ScreenTitle>Notifications</ScreenTitle>
      <section class="card" aria-label="Status">
        <p data-testid="push-state" data-on={String(on)}>
          {on
            ? `On: this device is woken for ${status.kinds.map((k) => KIND_TEXT[k].label.toLowerCase()).join(' and ')}, even with Effigy closed.`
            : 'Off: you see new messages and calls while Effigy is open.'}
        </p>
        <p class="hint">
          A notification says nothing about what was sent. The server asks your browser’s push service to wake this device; the push is
          encrypted for this browser, so the push service sees only that something arrived. Callers are named only from the people on this
          device’s “may call me” list.
        </p>
      </section>
      <Alert>{unavailable}</Alert>
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          await run(async () => {
            await enablePush(kinds);
            notify(kinds.length ? 'Notifications are on.' : 'Notifications are off.');
          });
        }}
      >
        <fieldset class="plain" disabled={busy || unavailable !== null}>
          <legend>Wake this device for</legend>
          {(['message', 'call'] as const).map((k) => (
            <label class="check wrap" key={k}>
              <input type="checkbox" checked={kinds.includes(k)} onChange={() => toggle(k)} />
              <span>
                {KIND_TEXT[k].label}
                <span class="hint"> — {KIND_TEXT[k].hint}</span>
              </span>
            </label>
          ))}
          <Alert>{error}</Alert>
          <div class="row">
            <button type="submit" disabled={kinds.length === 0}>
              {on ? 'Save' : 'Turn on notifications'}
            </button>
            {on && (
              <button
                type="button"
                class="secondary"
                onClick={() =>
                  run(async () => {
                    await disablePush();
                    notify('Notifications are off.');
                  })
                }
              >
                Turn off
              </button>
            )}
          </div>
        </fieldset>
      </form>
    </>
  );
}
