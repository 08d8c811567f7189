/**
 * NCRONTAB schedules of Azure Functions timer triggers (`{second} {minute} {hour} {day} {month} {day-of-week}`), in
 * UTC as the host runs them by default: parse once, then find the next time a schedule fires.
 */

export interface Schedule {
  expression: string;
  /** Next firing strictly after `after`. */
  next(after: Date): Date;
}

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day-of-week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** Parses a six-field NCRONTAB expression; throws naming the field that is wrong. */
export function parseNcrontab(expression: string): Schedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6) throw new Error(`Schedule "${expression}" must have 6 fields (second minute hour day month day-of-week).`);
  const [sec, min, hour, day, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i] as Field, expression)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  // Sunday may be written 7 as well.
  if (dow.has(7)) dow.add(0);
  const dayAny = parts[3] === '*' || parts[3] === '?';
  const dowAny = parts[5] === '*' || parts[5] === '?';
  const dayMatches = (d: Date): boolean => {
    const byDay = day.has(d.getUTCDate());
    const byDow = dow.has(d.getUTCDay());
    // As in cron: when both are restricted, either may match.
    if (!dayAny && !dowAny) return byDay || byDow;
    return byDay && byDow;
  };
  return {
    expression,
    next(after: Date): Date {
      const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      // Eight years covers every valid schedule (Feb 29 included); an impossible one (Feb 31) ends here.
      const limit = after.getTime() + 8 * 366 * 24 * 60 * 60 * 1000;
      while (t.getTime() < limit) {
        if (!month.has(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!dayMatches(t)) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!hour.has(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
          continue;
        }
        if (!min.has(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
          continue;
        }
        if (!sec.has(t.getUTCSeconds())) {
          t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
          continue;
        }
        return t;
      }
      throw new Error(`Schedule "${expression}" never fires.`);
    },
  };
}

function parseField(text: string, f: Field, expression: string): Set<number> {
  const values = new Set<number>();
  const bad = (why: string): Error => new Error(`Schedule "${expression}": ${f.name} "${text}" ${why}.`);
  const value = (s: string): number => {
    const named = f.names?.indexOf(s.toLowerCase()) ?? -1;
    const n = named >= 0 ? named + (f.name === 'month' ? 1 : 0) : /^\d+$/.test(s) ? Number(s) : NaN;
    const max = f.name === 'day-of-week' ? 7 : f.max;
    if (!Number.isInteger(n) || n < f.min || n > max) throw bad(`is not ${f.min}-${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw bad('has an invalid step');
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = f.min;
      hi = f.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      lo = value(a);
      hi = value(b);
      if (hi < lo) throw bad('is a backwards range');
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : f.max;
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}
