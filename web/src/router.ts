/** Hash routes (#/people, #/id/@…): work offline from the cached shell, with no server routing. */
import { signal } from '@preact/signals';

export interface Route {
  name: string;
  arg: string;
}

function parse(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const slash = path.indexOf('/');
  const name = (slash < 0 ? path : path.slice(0, slash)) || 'timeline';
  let arg = slash < 0 ? '' : path.slice(slash + 1);
  try {
    arg = decodeURIComponent(arg);
  } catch {
    // keep as is
  }
  return { name, arg };
}

export const route = signal<Route>(parse(typeof location === 'undefined' ? '' : location.hash));
if (typeof window !== 'undefined') window.addEventListener('hashchange', () => (route.value = parse(location.hash)));
