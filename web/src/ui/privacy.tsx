/** Privacy settings: who sees this device online, who may reach it, whether its address shows, whether it serves strangers. */
import { useId } from 'preact/hooks';
import { privacy, setPrivacy, turnStatus, notify, explain, type Privacy } from '../engine.ts';

function Toggle({ name, label, hint }: { name: keyof Privacy; label: string; hint: string }) {
  const hintId = useId();
  return (
    <div class="toggle">
      <label>
        <input
          type="checkbox"
          name={name}
          checked={privacy.value[name]}
          aria-describedby={hintId}
          onChange={(e) =>
            void setPrivacy({ [name]: (e.target as HTMLInputElement).checked }).catch((err) => notify(explain(err), 'error'))
          }
        />
        <span>{label}</span>
      </label>
      <p class="hint" id={hintId}>
        {hint}
      </p>
    </div>
  );
}

export function PrivacySettings() {
  const turn = turnStatus.value?.turn;
  return (
    <section class="card privacy" aria-labelledby="privacy-h" data-testid="privacy">
      <h3 id="privacy-h">Privacy</h3>
      <Toggle
        name="seenByAnyone"
        label="Anyone may see me online"
        hint="Off: only people you follow and your own devices can see when this device is online."
      />
      <Toggle
        name="strangersMayMessage"
        label="Accept messages from strangers"
        hint="Off: people you don’t follow cannot reach this device through the server, nor tell whether it is online. They can still leave you a message in your dropbox."
      />
      <Toggle
        name="hideAddress"
        label="Hide my address"
        hint={
          turn === false
            ? 'This server has no TURN relay, so with this on, connections go through the server and calls are off. Nobody sees your IP address.'
            : 'Connections and calls go through the TURN relay, so nobody you connect to sees your IP address. A little slower.'
        }
      />
      <Toggle
        name="pub"
        label="Serve strangers (be a pub)"
        hint="This device shares what it holds with people you don’t know and lets them connect to it; anyone can see it online and reach it."
      />
    </section>
  );
}
