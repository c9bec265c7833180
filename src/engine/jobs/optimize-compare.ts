/**
 * How closely a candidate model answers like its parent on the same inputs: per row, top-1
 * agreement (class-score outputs), the largest and mean absolute difference and the cosine
 * similarity of the row's float outputs; and the task metric (accuracy) when labels are given.
 */
import type { NumericArray, Tensor } from '../../core/tensor.js';
import { captureOutputs, type OutputPlan } from '../serving/prediction-capture.js';

/** Accumulates comparisons over evaluation batches. */
export class OutputComparison {
  private rows = 0;
  private agreeing = 0;
  private judged = 0;
  private maxAbs = 0;
  private sumAbs = 0;
  private values = 0;
  private sumCosine = 0;
  private cosineRows = 0;
  private labelled = 0;
  private parentCorrect = 0;
  private candidateCorrect = 0;

  constructor(private readonly plan: OutputPlan) {}

  /** Add one batch: both models' outputs for the same `rows` rows, and their labels (or nulls). */
  add(
    parent: readonly Tensor[],
    candidate: readonly Tensor[],
    rows: number,
    labels: readonly (number | null)[] | null,
  ): void {
    this.rows += rows;
    for (const p of parent) {
      const c = candidate.find((t) => t.name === p.name);
      if (!c || p.datatype === 'BYTES' || c.datatype === 'BYTES') continue;
      const pd = p.data as NumericArray;
      const cd = c.data as NumericArray;
      if (pd.length !== cd.length) continue;
      const width = pd.length / Math.max(rows, 1);
      const float = p.datatype === 'FP32' || p.datatype === 'FP64' || p.datatype === 'FP16';
      for (let r = 0; r < rows; r++) {
        let dot = 0;
        let np = 0;
        let nc = 0;
        for (let i = r * width; i < (r + 1) * width; i++) {
          const a = Number(pd[i]);
          const b = Number(cd[i]);
          const d = Math.abs(a - b);
          if (Number.isFinite(d)) {
            if (d > this.maxAbs) this.maxAbs = d;
            this.sumAbs += d;
            this.values++;
          }
          dot += a * b;
          np += a * a;
          nc += b * b;
        }
        if (float && width > 1) {
          // Two zero rows are identical; one zero row against another is not similar at all.
          const cosine = np === 0 && nc === 0 ? 1 : np === 0 || nc === 0 ? 0 : dot / Math.sqrt(np * nc);
          this.sumCosine += cosine;
          this.cosineRows++;
        }
      }
    }
    if (this.plan.task === 'classification') {
      for (let r = 0; r < rows; r++) {
        const a = captureOutputs(this.plan, parent, r, rows).predictedClass;
        const b = captureOutputs(this.plan, candidate, r, rows).predictedClass;
        if (a === null || b === null) continue;
        this.judged++;
        if (a === b) this.agreeing++;
        const label = labels?.[r];
        if (label !== null && label !== undefined) {
          this.labelled++;
          if (a === label) this.parentCorrect++;
          if (b === label) this.candidateCorrect++;
        }
      }
    }
  }

  summary(): {
    rows: number;
    agreement: number | null;
    max_abs_diff: number | null;
    mean_abs_diff: number | null;
    mean_cosine: number | null;
    labelled: number;
    parent_accuracy: number | null;
    candidate_accuracy: number | null;
  } {
    return {
      rows: this.rows,
      agreement: this.judged === 0 ? null : this.agreeing / this.judged,
      max_abs_diff: this.values === 0 ? null : this.maxAbs,
      mean_abs_diff: this.values === 0 ? null : this.sumAbs / this.values,
      mean_cosine: this.cosineRows === 0 ? null : this.sumCosine / this.cosineRows,
      labelled: this.labelled,
      parent_accuracy: this.labelled === 0 ? null : this.parentCorrect / this.labelled,
      candidate_accuracy: this.labelled === 0 ? null : this.candidateCorrect / this.labelled,
    };
  }
}
