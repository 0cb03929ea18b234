/**
 * Directory blobs: a collection is a Merkle tree of blobs. A directory is a
 * JSON blob listing named children by hash and size (files, or further
 * directories); its own hash names the whole tree, so changing any leaf
 * changes the root. Items are sorted by name and names are unique, so one set
 * of children has one directory blob.
 */
import * as z from 'zod/mini';
import { fromUtf8, utf8 } from './bytes.ts';
import type { Hash } from './encoding.ts';
import { fail, ok, type Result } from './errors.ts';
import { hashOf } from './hash.ts';
import { LIMITS } from './limits.ts';
import { blobRefSchema, chars, list, type BlobRef } from './schema.ts';

const itemSchema = z.strictObject({
  name: chars(255, 1).check(
    z.refine((n: string) => n !== '.' && n !== '..' && !/[/\\\u0000]/u.test(n), { message: 'a name has no slash, NUL, "." or ".."' }),
  ),
  kind: z.enum(['file', 'directory']),
  blob: blobRefSchema,
  mime: z.optional(chars(100)),
});
export type DirectoryItem = z.infer<typeof itemSchema>;

const directorySchema = z.strictObject({
  type: z.literal('directory'),
  items: list(itemSchema, LIMITS.directoryItems),
});

export interface Directory {
  readonly ref: BlobRef;
  readonly bytes: Uint8Array;
  readonly items: readonly DirectoryItem[];
}

const byName = (a: DirectoryItem, b: DirectoryItem) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function buildDirectory(items: readonly DirectoryItem[]): Directory {
  const sorted = [...items].sort(byName);
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as DirectoryItem).name === (sorted[i - 1] as DirectoryItem).name) {
      throw new RangeError(`duplicate name "${(sorted[i] as DirectoryItem).name}"`);
    }
  }
  const checked = directorySchema.parse({ type: 'directory', items: sorted });
  const bytes = utf8(JSON.stringify(checked));
  return { ref: { hash: hashOf(bytes), size: bytes.length }, bytes, items: checked.items };
}

export function parseDirectory(bytes: Uint8Array, expected?: Hash): Result<Directory> {
  const hash = hashOf(bytes);
  if (expected !== undefined && hash !== expected) return fail('bad_hash', `directory hashes to ${hash}, not ${expected}`);
  let raw: unknown;
  try {
    raw = JSON.parse(fromUtf8(bytes));
  } catch {
    return fail('bad_json', 'directory blob is not JSON');
  }
  const parsed = directorySchema.safeParse(raw);
  if (!parsed.success) return fail('bad_schema', z.prettifyError(parsed.error));
  const items = parsed.data.items;
  for (let i = 1; i < items.length; i++) {
    if (byName(items[i - 1] as DirectoryItem, items[i] as DirectoryItem) >= 0) {
      return fail('bad_schema', 'directory items must be sorted by name with no duplicates');
    }
  }
  return ok({ ref: { hash, size: bytes.length }, bytes, items });
}
