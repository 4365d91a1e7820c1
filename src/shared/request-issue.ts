import type { z } from 'zod';

type Issue = z.ZodError['issues'][number];

/**
 * A request's schema problem in the lab's words, as the CLI words its own checks: the field, what
 * it must be, and what was sent ("generations must be >= 1 (got -1)"). Zod's own sentences ("Too
 * small: expected number to be >=1", "expected number, received string") reached the app's
 * messages as they were. Problems this does not know keep zod's text after the field.
 */
export function describeIssue(issue: Issue, input: unknown): string {
  const field = issue.path.map(String).join('.') || 'the request';
  const value = valueAt(input, issue.path);
  const got = value === undefined ? '' : ` (got ${show(value)})`;
  const must = mustBe(issue, value);
  return must === null ? `${field}: ${issue.message}` : `${field} ${must}${must === 'is required' ? '' : got}`;
}

function mustBe(issue: Issue, value: unknown): string | null {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required';
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      const op = small ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') return `must be ${op} ${bound}`;
      if (issue.origin === 'string') return small && bound === 1 ? 'must not be empty' : `must have ${small ? 'at least' : 'at most'} ${bound} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return small && bound === 1 ? 'must list at least one item' : `must list ${small ? 'at least' : 'at most'} ${bound} items`;
      return null;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return null;
  }
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** A sent value, short: text quoted and cut, a list or an object only named (never serialised: a hostile body may nest deeply). */
function show(v: unknown): string {
  if (typeof v === 'string') {
    return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  }
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'an object';
  return String(v);
}
