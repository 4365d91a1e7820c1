import { kebab, paramsSchema, splitList, type ParamSpec } from '../../../shared/experiment-params';

/**
 * An experiment kind's start form, drawn from its parameters' description (experiments.kinds): the
 * fields' values as the form holds them, and those values as the kind's parameters. The form names
 * no kind and no parameter; the host validates what it is sent and names what is wrong.
 */

/** A field as the form holds it: typed text, the picked items of a list, or a switch. */
export type FieldValue = string | string[] | boolean;

/** Values by field key: a parameter's name, or `group.name` for a group's field. */
export type FormValues = Record<string, FieldValue>;

/** One field of the form, in order: a group's fields follow it, with their keys. */
export interface FormField {
  key: string;
  spec: ParamSpec;
  /** The group it belongs to, if any. */
  group?: string;
}

/**
 * A number field's text as a number; empty is undefined (the default), anything else is passed on
 * as typed so that the host names the problem ("-1", "ten").
 */
export function asNumber(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : (t as unknown as number);
}

/** Pickers of many (a list of checkboxes) hold a list; the rest hold text or a switch. */
const isList = (s: ParamSpec): boolean => s.type === 'choices' || s.type === 'models' || s.type === 'runs';

/** The fields of a kind's form, groups flattened (a group shows as one box around its fields). */
export function formFields(specs: readonly ParamSpec[]): FormField[] {
  return specs.flatMap((s) => (s.type === 'group' ? (s.fields ?? []).map((f) => ({ key: `${s.name}.${f.name}`, spec: f, group: s.name })) : [{ key: s.name, spec: s }]));
}

/** What a field starts with: the parameter's default, or empty. */
function initial(s: ParamSpec): FieldValue {
  const d = s.default;
  if (s.type === 'bool') return d === true;
  if (isList(s)) return Array.isArray(d) ? d.map(String) : [];
  if (Array.isArray(d)) return d.join(',');
  return d === undefined || typeof d === 'object' ? '' : String(d);
}

export function initialValues(specs: readonly ParamSpec[]): FormValues {
  return Object.fromEntries(formFields(specs).map((f) => [f.key, initial(f.spec)]));
}

/** Whether a field shows: one that only applies while a switch is on hides while it is off. */
export function shown(f: FormField, values: FormValues): boolean {
  const on = f.spec.onlyWith;
  return on === undefined || values[f.group ? `${f.group}.${on}` : on] === true;
}

/** A number as typed, as a number; anything else goes as typed, so the host names it in its error. */
const num = (s: string): number | string => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim());

/** One field's value as the parameter's, or undefined to leave it out (the host's default, or its "required"). */
function paramValue(s: ParamSpec, v: FieldValue): unknown {
  if (typeof v === 'boolean') return v;
  if (Array.isArray(v)) {
    // Nothing picked: left out where that means "required", sent empty where a default would hide it.
    if (v.length === 0) return s.default === undefined ? undefined : [];
    return s.type === 'runs' ? v.map(num) : v;
  }
  if (v.trim() === '') return undefined;
  if (s.type === 'int' || s.type === 'run') return num(v);
  if (s.type === 'ints') return splitList(v).map(num);
  return v.trim();
}

/** The form's values as the kind's parameters (hidden fields left out: their defaults stand). */
export function formParams(specs: readonly ParamSpec[], values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of formFields(specs)) {
    if (!shown(f, values)) continue;
    const v = paramValue(f.spec, values[f.key] ?? initial(f.spec));
    if (v === undefined) continue;
    if (f.group) ((out[f.group] ??= {}) as Record<string, unknown>)[f.spec.name] = v;
    else out[f.spec.name] = v;
  }
  return out;
}

/**
 * The first thing the kind's own schema (the one the host checks with) refuses in the form's
 * parameters, named by the field's label, so the form can say it before sending; null when none.
 */
export function formProblem(specs: readonly ParamSpec[], params: Record<string, unknown>): { key: string; message: string } | null {
  const parsed = paramsSchema(specs).safeParse(params);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  const [top, ...rest] = issue.path.map(String);
  const spec = specs.find((s) => s.name === top);
  const field = spec?.type === 'group' ? spec.fields?.find((f) => f.name === rest[0]) : spec;
  const key = spec?.type === 'group' && field ? `${spec.name}.${field.name}` : (top ?? '');
  const item = spec?.type !== 'group' && rest.length > 0 && /^\d+$/.test(rest[0]) ? ` (item ${Number(rest[0]) + 1})` : '';
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], params);
  return { key, message: `${field?.label ?? issue.path.join('.')}${item}: ${plain(issue, value)}` };
}

/** A schema's complaint in the form's words. */
function plain(issue: { code: string; message: string; origin?: string; minimum?: unknown; maximum?: unknown }, value: unknown): string {
  if (value === undefined) return 'required';
  if (issue.code === 'invalid_type' && typeof value === 'string') return `a whole number, not "${value}"`;
  if (issue.code === 'too_small' && issue.origin === 'array') return 'pick at least one';
  if (issue.code === 'too_small' && issue.origin === 'number') return `at least ${String(issue.minimum)}, not ${String(value)}`;
  if (issue.code === 'too_big' && issue.origin === 'number') return `at most ${String(issue.maximum)}, not ${String(value)}`;
  return issue.message;
}

/** A field's help as the form shows it: a field shown only with a switch on need not say "with --switch:". */
export function formHelp(s: ParamSpec): string {
  return s.onlyWith ? s.help.replace(new RegExp(`^with --${kebab(s.onlyWith)}: `), '') : s.help;
}
