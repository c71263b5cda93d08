/**
 * Grouping accuracy (GA, Zhu et al., ICSE-SEIP 2019): a line is correct when the set of lines
 * in its predicted group is exactly the set of lines in its true group; GA = correct ÷ all.
 * Used by the benchmark and the tests; pure.
 */
export function groupingAccuracy(predicted: readonly string[], truth: readonly string[]): number {
  if (predicted.length !== truth.length) throw new RangeError('predicted and truth differ in length');
  if (truth.length === 0) return 1;
  const byPred = new Map<string, number[]>();
  const trueSize = new Map<string, number>();
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i] as string;
    let g = byPred.get(p);
    if (g === undefined) byPred.set(p, (g = []));
    g.push(i);
    const t = truth[i] as string;
    trueSize.set(t, (trueSize.get(t) ?? 0) + 1);
  }
  let correct = 0;
  for (const g of byPred.values()) {
    const t = truth[g[0] as number] as string;
    if (trueSize.get(t) !== g.length) continue;
    let same = true;
    for (const i of g) {
      if (truth[i] !== t) {
        same = false;
        break;
      }
    }
    if (same) correct += g.length;
  }
  return correct / truth.length;
}

/** The naive baseline: every run of digits becomes `<num>`, the rest of the line is the key. */
export function digitMask(line: string): string {
  let out = '';
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      while (i < n && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i++;
      out += '<num>';
    } else {
      out += line[i];
      i++;
    }
  }
  return out.trim();
}
