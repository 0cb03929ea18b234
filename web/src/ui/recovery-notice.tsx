/** A banner in the shell while a friend waits for an answer to a recovery request (answered under Me → Recovery friends). */
import { peer, recoveryTick } from '../engine.ts';
import { useAsync } from './common.tsx';

/** In the shell: a friend is waiting for an answer. */
export function RecoveryNotice() {
  // Only when recovery changed: not on every sync tick.
  const requests = useAsync(() => peer().recovery.requests(), [recoveryTick.value], { onTick: false });
  const n = requests.value?.length ?? 0;
  if (n === 0) return null;
  return (
    <p class="banner" role="status" data-testid="recovery-notice">
      {n === 1 ? 'A friend asks' : `${n} friends ask`} for help to get their account back. <a href="#/recovery">Answer</a>
    </p>
  );
}
