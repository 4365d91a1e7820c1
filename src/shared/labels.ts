/**
 * Class labels as Caffe's synset files write them ("n01440764 tench, Tinca tinca": a WordNet id,
 * then names that hold commas themselves); other labels ("7", "cat") pass through unchanged.
 */

/** The label without its WordNet id: "tench, Tinca tinca". */
export const shortLabel = (label: string): string => label.replace(/^n\d{8}\s+/, '');

/** The label's first name: "tench". */
export const firstName = (label: string): string => shortLabel(label).split(',')[0].trim();
