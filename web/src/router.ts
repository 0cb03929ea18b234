/** Hash routes (#/people, #/id/@…): work offline from the cached shell, with no server routing. */
import { signal } from '@preact/signals';

export interface Route {
  name: string;
  arg: string;
}

/** Earlier names of screens, so old links and bookmarks still land somewhere sensible. */
const ALIASES: Record<string, string> = { timeline: 'home', post: 'compose', inbox: 'messages', private: 'messages' };

function parse(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const slash = path.indexOf('/');
  const raw = (slash < 0 ? path : path.slice(0, slash)) || 'home';
  let arg = slash < 0 ? '' : path.slice(slash + 1);
  try {
    arg = decodeURIComponent(arg);
  } catch {
    // keep as is
  }
  // "#/inbox/@…" was "write to this person": now their conversation.
  if (raw === 'inbox' && arg) return { name: 'thread', arg };
  return { name: ALIASES[raw] ?? raw, arg };
}

export const route = signal<Route>(parse(typeof location === 'undefined' ? '' : location.hash));
if (typeof window !== 'undefined') window.addEventListener('hashchange', () => (route.value = parse(location.hash)));

/** Open a screen (a hash path such as "thread/@…"); the argument is encoded for the URL. */
export function go(name: string, arg = ''): void {
  location.hash = `#/${name}${arg ? `/${encodeURIComponent(arg)}` : ''}`;
}
