/** The five places: a bottom tab bar on phones (in reach of a thumb), a rail beside the column on wide screens. */
import { unread } from '../conversations.ts';
import { route } from '../router.ts';

interface Tab {
  name: string;
  label: string;
  /** Route names that belong under this tab. */
  covers: string[];
  /** A 24×24 stroke icon. */
  icon: string;
}

export const TABS: Tab[] = [
  { name: 'home', label: 'Home', covers: ['home', 'entry', 'tag'], icon: 'M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z' },
  { name: 'compose', label: 'Compose', covers: ['compose'], icon: 'M12 5v14M5 12h14' },
  {
    name: 'people',
    label: 'People',
    covers: ['people', 'id', 'add'],
    icon: 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21v-1a6 6 0 0 1 12 0v1M16 3.5a4 4 0 0 1 0 7.5M22 21v-1a6 6 0 0 0-4-5.6',
  },
  {
    name: 'messages',
    label: 'Messages',
    covers: ['messages', 'thread', 'write', 'calls'],
    icon: 'M21 12a8 8 0 0 1-11.6 7.1L3 21l1.9-6.4A8 8 0 1 1 21 12z',
  },
  {
    name: 'me',
    label: 'Me',
    covers: ['me', 'profile', 'devices', 'servers', 'network', 'words', 'pair', 'recovery', 'notifications'],
    icon: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0',
  },
];

export const tabOf = (routeName: string): string => TABS.find((t) => t.covers.includes(routeName))?.name ?? 'home';

export function TabBar() {
  const current = tabOf(route.value.name);
  return (
    <nav aria-label="Main" class="tabs">
      <ul>
        {TABS.map((t) => (
          <li key={t.name}>
            <a href={`#/${t.name}`} aria-current={current === t.name ? 'page' : undefined}>
              <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
                <path d={t.icon} />
              </svg>
              <span class="label">{t.label}</span>
              {t.name === 'messages' && unread.value > 0 && (
                <span class="count" aria-label={`, ${unread.value} unread`}>
                  {unread.value}
                </span>
              )}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
