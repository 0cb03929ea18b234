/**
 * The Worker that owns entry validation for a page (validator.ts): it runs
 * openEntry on each text it is sent and answers each with its hash or its
 * error, in order.
 */
import { openEntry } from '../protocol/index.ts';
import type { ValidationAnswer, ValidationJob, Verdict } from './validator.ts';

self.onmessage = async (e: MessageEvent<ValidationJob>) => {
  const { id, texts, identity } = e.data;
  const opened = await Promise.all(texts.map((t) => openEntry(t, identity === undefined ? {} : { identity })));
  const verdicts = opened.map((r): Verdict => (r.ok ? { hash: r.value.hash } : { code: r.error.code, message: r.error.message }));
  self.postMessage({ id, verdicts } satisfies ValidationAnswer);
};
