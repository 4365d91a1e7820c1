import { z } from 'zod';

/**
 * An experiment kind's parameters, described once as data: the API validates `experiments.start`
 * with the schema built from it (paramsSchema), the CLI turns it into the kind's command's options
 * and arguments, and the app draws the kind's start form from it (experiments.kinds hands it over).
 * Adding a parameter to a kind is one entry in its list; nothing else names it.
 */

/**
 * What a parameter holds, which says how each side shows it:
 * - 'int' / 'ints': a whole number / a comma-separated list of them, in [min, max]
 * - 'text' / 'path': a string (a path is a file or folder on the lab's machine)
 * - 'choice' / 'choices': one of `choices` / a non-empty list of them
 * - 'bool': a switch (a CLI flag without a value, a checkbox)
 * - 'model' / 'models': a model name / a non-empty list of them (the app offers the lab's models)
 * - 'run' / 'runs': a run id / a non-empty list of them (the app offers the lab's runs)
 * - 'group': an object of `fields` (its fields are plain options on the CLI and one box in the form)
 */
export type ParamType = 'int' | 'ints' | 'text' | 'path' | 'choice' | 'choices' | 'bool' | 'model' | 'models' | 'run' | 'runs' | 'group';

export type ParamValue = number | string | boolean | readonly number[] | readonly string[] | Readonly<Record<string, never>>;

export interface ParamSpec {
  /** The key in `experiments.start { params }`, the form field's name, and (kebab-cased) the CLI option. */
  name: string;
  type: ParamType;
  /** The form's label, e.g. 'Control seed'. */
  label: string;
  /** What it is, in one line: the CLI's --help text and the form's hint. */
  help: string;
  /** Taken when absent (the CLI shows it in --help, the form starts with it). */
  default?: ParamValue;
  /** No default, and the experiment cannot run without it. Otherwise a parameter without a default may be left out. */
  required?: boolean;
  /** For 'choice' and 'choices'. */
  choices?: readonly string[];
  /** For 'int' and 'ints' (each number): bounds, inclusive. Default: 1 .. Number.MAX_SAFE_INTEGER. */
  min?: number;
  max?: number;
  /** For 'group': its parameters. */
  fields?: readonly ParamSpec[];
  /**
   * The CLI's spelling when it is not `--kebab-name <n>`: commander flags ('--fill <f>'), or a
   * positional argument ('<run>').
   */
  cli?: string;
  /** The form shows it only while this 'bool' parameter is on (e.g. the genome ablation's options). */
  onlyWith?: string;
  /** The form's text when a field without a default is empty, e.g. 'the paper’s'. */
  placeholder?: string;
}

/** The smallest and largest whole number a parameter takes. */
export const intBounds = (s: ParamSpec): { min: number; max: number } => ({ min: s.min ?? 1, max: s.max ?? Number.MAX_SAFE_INTEGER });

function valueSchema(s: ParamSpec): z.ZodType {
  const { min, max } = intBounds(s);
  const int = () => z.number().int().min(min).max(max);
  const choices = () => {
    if (!s.choices?.length) throw new Error(`parameter ${s.name} is a ${s.type} without choices`);
    return z.enum(s.choices as [string, ...string[]]);
  };
  switch (s.type) {
    case 'int':
      return int();
    case 'ints':
      return z.array(int()).min(1);
    case 'run':
      return z.number().int().positive();
    case 'runs':
      return z.array(z.number().int().positive()).min(1);
    case 'text':
    case 'path':
    case 'model':
      return z.string().min(1);
    case 'models':
      return z.array(z.string().min(1)).min(1);
    case 'choice':
      return choices();
    case 'choices':
      return z.array(choices()).min(1);
    case 'bool':
      return z.boolean();
    case 'group':
      return paramsSchema(s.fields ?? []);
  }
}

/** The schema `experiments.start` validates a kind's parameters with (unknown keys refused). */
export function paramsSchema(specs: readonly ParamSpec[]): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const s of specs) {
    const v = valueSchema(s);
    const dflt = s.default ?? (s.type === 'group' ? {} : undefined);
    shape[s.name] = dflt !== undefined ? v.default(dflt as never) : s.required ? v : v.optional();
  }
  return z.object(shape).strict();
}

/** 'runsPerIteration' -> 'runs-per-iteration' (the CLI's spelling of a parameter). */
export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A comma-separated list as typed (CLI or form): the items, trimmed, empty ones dropped. */
export const splitList = (text: string): string[] => text.split(',').map((x) => x.trim()).filter(Boolean);
