/**
 * A merge that keeps both sides by hand can leave its conflict markers behind in prose, where no compiler looks (the
 * README carried a pair for a while). Every tracked text file is checked for a line that is a conflict marker.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const TEXT = /\.(md|ts|mts|mjs|js|json|bicep|yaml|yml|css|html|txt)$/;
const MARKER = /^(<{7} |>{7} |={7}$)/m;

function tracked(): string[] {
  try {
    return execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => TEXT.test(f));
  } catch {
    return [];
  }
}

describe('the repository', () => {
  const files = tracked();
  it.skipIf(files.length === 0)('has no merge conflict markers left in any tracked text file', () => {
    const marked = files.filter((f) => {
      try {
        return MARKER.test(readFileSync(path.join(root, f), 'utf8'));
      } catch {
        return false;
      }
    });
    expect(marked).toEqual([]);
  });
});
