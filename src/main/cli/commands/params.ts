import { Command, InvalidArgumentError, Option } from 'commander';
import { intBounds, kebab, splitList, type ParamSpec } from '../../../shared/experiment-params';
import { parseIntOption } from '../common';

/**
 * Parameters described as data (src/shared/experiment-params.ts) as commander arguments and
 * options, and the parsed command line back as the parameters: the experiment commands, and the
 * engine's named options of every command that evolves. A parser's error is a usage error (exit 2).
 */

const isArgument = (s: ParamSpec): boolean => s.cli?.startsWith('<') ?? false;

/** Commander's flags for a parameter: its own spelling, or `--kebab-name <n>` (a switch for 'bool'). */
function flagsOf(s: ParamSpec): string {
  return s.cli ?? `--${kebab(s.name)}${s.type === 'bool' ? '' : ' <value>'}`;
}

/** How the command line's text becomes the value (undefined: taken as typed, or checked by choices). */
function parserOf(s: ParamSpec, name: string): ((v: string) => unknown) | undefined {
  const { min, max } = intBounds(s);
  switch (s.type) {
    case 'int':
      return parseIntOption(name, min, max);
    case 'run':
      return parseIntOption(name);
    case 'ints':
    case 'runs':
      return (v) => {
        const ns = splitList(v).map(Number);
        const ok = (n: number) => Number.isSafeInteger(n) && (s.type === 'runs' ? n >= 1 : n >= min && n <= max);
        if (ns.length === 0 || !ns.every(ok)) {
          const what = s.type === 'runs' ? 'run ids' : s.max === undefined ? `whole numbers >= ${min}` : `whole numbers from ${min} to ${max}`;
          throw new InvalidArgumentError(`${name} takes ${what} separated by commas, got "${v}"`);
        }
        return ns;
      };
    case 'choices':
      return (v) => {
        const picked = splitList(v);
        const known = s.choices ?? [];
        if (picked.length === 0 || picked.some((c) => !known.includes(c))) throw new InvalidArgumentError(`${name} takes ${known.join(' and/or ')} separated by commas, got "${v}"`);
        return picked;
      };
    case 'models':
      return splitList;
    default:
      return undefined;
  }
}

/** One parameter as a commander option (a group's fields are options of their own). */
export function paramOptions(s: ParamSpec): Option[] {
  if (s.type === 'group') return (s.fields ?? []).flatMap(paramOptions);
  const opt = new Option(flagsOf(s), s.help);
  const parse = parserOf(s, opt.long ?? opt.name());
  if (parse) opt.argParser(parse);
  if (s.type === 'choice' && s.choices) opt.choices([...s.choices]);
  if (s.default !== undefined && s.default !== false) opt.default(s.default);
  if (s.required) opt.makeOptionMandatory();
  return [opt];
}

/** Adds a kind's parameters to its command: positional arguments first, in order, then the options. */
export function withParams(cmd: Command, specs: readonly ParamSpec[]): Command {
  for (const s of specs.filter(isArgument)) {
    const parse = parserOf(s, s.help);
    if (parse) cmd.argument(s.cli!, s.help, parse);
    else cmd.argument(s.cli!, s.help);
  }
  for (const s of specs.filter((x) => !isArgument(x))) for (const o of paramOptions(s)) cmd.addOption(o);
  return cmd;
}

/** The parsed command line as the parameters (what was not given and has no default is left out). */
export function paramsFrom(specs: readonly ParamSpec[], opts: Record<string, unknown>, args: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let arg = 0;
  for (const s of specs) {
    if (isArgument(s)) {
      out[s.name] = args[arg++];
    } else if (s.type === 'group') {
      out[s.name] = paramsFrom(s.fields ?? [], opts, []);
    } else {
      const v = opts[new Option(flagsOf(s)).attributeName()];
      if (s.type === 'bool') out[s.name] = v === true;
      else if (v !== undefined) out[s.name] = v;
    }
  }
  return out;
}
