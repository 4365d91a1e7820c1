import type { Rule } from './context';
import { linearRules } from './rules-linear';
import { pointwiseRules } from './rules-pointwise';
import { spatialRules } from './rules-spatial';
import { tensorRules } from './rules-tensor';

/** The backward rule of each supported op, one table built from the rule files (which import only context.ts). */
export const RULES: Record<string, Rule> = { ...pointwiseRules, ...linearRules, ...tensorRules, ...spatialRules };

/** Ops whose outputs carry no gradient (shapes, masks, constants). */
export const NON_DIFFERENTIABLE = new Set(['Shape', 'Size', 'Constant', 'ConstantOfShape', 'Equal', 'Greater', 'Less', 'ArgMax', 'ArgMin', 'NonZero']);

/** What an unsupported op's error lists. */
export function supportedOps(): string {
  return `Supported: ${Object.keys(RULES).sort().join(', ')}; carrying no gradient: ${[...NON_DIFFERENTIABLE].sort().join(', ')}`;
}
