/**
 * What `tend optimize` reports: each side (parent, candidate) measured in the same run, and the
 * comparison that decides the quality gate. Apart from the job so that the HTML rendering
 * (optimize-html.ts) reads the report without importing the job that writes it.
 */
import type { SpeedByBatch } from './optimize-gate.js';

export type OptimizeMethod = 'graph' | 'int8-dynamic' | 'int8-static' | 'fp16' | 'prune';

export interface SideReport {
  version: number | null;
  size_bytes: number;
  load_ms: number;
  batch1: { p50_ms: number; p99_ms: number; items_per_s: number } | null;
  best_batch: { size: number; p50_ms: number; p99_ms: number; items_per_s: number } | null;
  accuracy: number | null;
}

export interface OptimizeReport {
  name: string;
  /** The new version, or null when not registered. */
  version: number | null;
  method: OptimizeMethod;
  parameters: Record<string, unknown>;
  parent: SideReport;
  candidate: SideReport;
  size_ratio: number;
  speedup_batch1: number | null;
  speedup_best: number | null;
  agreement: number | null;
  max_abs_diff: number | null;
  mean_abs_diff: number | null;
  mean_cosine: number | null;
  fused_kernels: string[];
  /** Quantized kernels in the graph onnxruntime runs (QLinearConv, QGemm, ...) and how many of each. */
  quantized_kernels: Record<string, number>;
  quantized_nodes: number | null;
  skipped_nodes: { node: string; op: string; reason: string }[];
  evaluation: { source: string; synthetic: boolean; rows: number; labelled: number };
  gate: string;
  /** The speed half of the gate: why the candidate's speed is acceptable, or why not. */
  speed_gate: string;
  /** Median items/s of both sides at every batch size timed. */
  speed_by_batch: SpeedByBatch[];
  /** What the method wants the reader to know. */
  notes: string[];
  registered: boolean;
  reason: string;
}
