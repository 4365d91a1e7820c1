/**
 * The speed targets of issue 15, recorded by the sections where they measure them and printed
 * together at the end of `npm run bench`, each with its measured value, its goal and whether it
 * was met. A goal may be relative to a PyTorch figure (`vs`): bench.ts resolves it against PyTorch
 * measured in the same run (`--vs-torch`), or else against the dated anchor in docs/benchmarks.md,
 * and says which. A section that cannot measure a target says why with skipTarget().
 */

/** The PyTorch side of the LeNet figures (src/main/bench/torch.ts measures them). */
export type TorchFigure = 'trainEpochSeconds' | 'inference128' | 'gradient128';

export interface Target {
  /** Short id, numbered as the issue numbers its targets: '1 training', '2 lenet gradient', ... */
  id: string;
  /** What was measured, in words a reader of the table understands. */
  what: string;
  value: number;
  /** 's', 'images/s', 'x forward', 'ratio', ... */
  unit: string;
  /** value <= goal ('at most') or value >= goal ('at least'); with `vs`, goal is a factor of that PyTorch figure. */
  goal: { op: '<=' | '>='; value: number; vs?: TorchFigure };
}

export type TorchFigures = Record<TorchFigure, number>;

const recorded: Target[] = [];
const skipped: { id: string; why: string }[] = [];

export function recordTarget(t: Target): void {
  recorded.push(t);
}

/** A target that could not be measured on this machine (no ../shared, say): said, not hidden. */
export function skipTarget(id: string, why: string): void {
  skipped.push({ id, why });
}

const show = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The summary table; `torch` holds the PyTorch figures of this run or of the anchor (`source` says which). */
export function targetRows(torch: { figures: TorchFigures; source: string } | undefined): (string | number)[][] {
  const rows: (string | number)[][] = [['target', 'what', 'measured', 'goal', 'met']];
  for (const t of [...recorded].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))) {
    let goal = t.goal.value;
    let goalText = `${t.goal.op} ${show(goal)} ${t.unit}`;
    if (t.goal.vs) {
      if (!torch) {
        rows.push([t.id, t.what, `${show(t.value)} ${t.unit}`, `${t.goal.op} ${t.goal.value}x PyTorch`, 'no PyTorch figure']);
        continue;
      }
      const ref = torch.figures[t.goal.vs];
      goal = t.goal.value * ref;
      goalText = `${t.goal.op} ${t.goal.value}x PyTorch (${show(ref)} ${t.unit}, ${torch.source}) = ${show(goal)}`;
    }
    const met = t.goal.op === '<=' ? t.value <= goal : t.value >= goal;
    const ratio = t.goal.vs && torch ? ` (${show(t.value / torch.figures[t.goal.vs])}x PyTorch)` : '';
    rows.push([t.id, t.what, `${show(t.value)} ${t.unit}${ratio}`, goalText, met ? 'yes' : 'NO']);
  }
  for (const s of skipped) rows.push([s.id, s.why, '-', '-', 'not measured']);
  return rows;
}
