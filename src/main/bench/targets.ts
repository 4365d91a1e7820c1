/**
 * The speed targets of issue 15, collected while the sections run and printed together at the
 * end of `npm run bench`, each with its measured value, its goal and whether it was met. A section
 * records a target where it measures it; a section that is skipped records nothing (the summary
 * then says which targets were not measured and why).
 */
export interface Target {
  /** Short id, as the issue numbers them: '1 training', '2 lenet gradient', ... */
  id: string;
  /** What was measured, in words a reader of the table understands. */
  what: string;
  /** The measured value, formatted with its unit ('7.4 s', '2.31x PyTorch', '1.06'). */
  value: string;
  /** The goal, formatted the same way ('<= 8 s', '>= 2x PyTorch'). */
  goal: string;
  met: boolean;
}

const recorded: Target[] = [];
const skipped: { id: string; why: string }[] = [];

export function recordTarget(t: Target): void {
  recorded.push(t);
}

/** A target that could not be measured on this machine (no ../shared, no torch): said, not hidden. */
export function skipTarget(id: string, why: string): void {
  skipped.push({ id, why });
}

export function targetRows(): (string | number)[][] {
  const rows: (string | number)[][] = [['target', 'what', 'measured', 'goal', 'met']];
  for (const t of [...recorded].sort((a, b) => a.id.localeCompare(b.id))) rows.push([t.id, t.what, t.value, t.goal, t.met ? 'yes' : 'NO']);
  for (const s of skipped) rows.push([s.id, s.why, '-', '-', 'not measured']);
  return rows;
}
