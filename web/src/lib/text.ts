/** What note text links to: hashtags (a tag's view), mentions (an identity), web addresses. */

/** One match per token: group 1 a hashtag's word, group 2 a mention ("@" and 43 base64url characters), group 3 a web address. */
export const TEXT_TOKENS = /(?<![\p{L}\p{N}_&/#])#([\p{L}\p{N}_]{1,64})|(@[A-Za-z0-9_-]{43})|(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)])/gu;

/** The hashtags a text uses, lower-cased, without "#". */
export function hashtagsOf(text: string): string[] {
  return [...text.matchAll(TEXT_TOKENS)].flatMap((m) => (m[1] ? [m[1].toLowerCase()] : []));
}

export const tagHref = (tag: string): string => `#/tag/${encodeURIComponent(tag.toLowerCase())}`;
