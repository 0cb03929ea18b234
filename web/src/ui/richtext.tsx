/** Note text with its links: hashtags open the tag's view, mentions (@ and an identity) open the person, web addresses open. */
import { parseIdentity, type Identity } from '../../../src/protocol/index.ts';
import { tagHref, TEXT_TOKENS } from '../lib/text.ts';
import { displayName, useProfile } from './common.tsx';

export { hashtagsOf, tagHref } from '../lib/text.ts';

function Mention({ identity }: { identity: Identity }) {
  const profile = useProfile(identity);
  return (
    <a class="mention" href={`#/id/${identity}`} title={identity}>
      @{displayName(identity, profile)}
    </a>
  );
}

export function RichText({ text, class: cls = 'note' }: { text: string; class?: string }) {
  const parts: (string | preact.JSX.Element)[] = [];
  let at = 0;
  for (const m of text.matchAll(TEXT_TOKENS)) {
    const start = m.index ?? 0;
    if (start > at) parts.push(text.slice(at, start));
    const [whole, tag, mention, url] = m;
    if (tag) {
      parts.push(
        <a key={start} class="hashtag" href={tagHref(tag)}>
          #{tag}
        </a>,
      );
    } else if (mention && parseIdentity(mention).ok) {
      parts.push(<Mention key={start} identity={mention as Identity} />);
    } else if (url) {
      parts.push(
        <a key={start} href={url} target="_blank" rel="noopener noreferrer nofollow">
          {url}
        </a>,
      );
    } else parts.push(whole);
    at = start + whole.length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <p class={cls}>{parts}</p>;
}
