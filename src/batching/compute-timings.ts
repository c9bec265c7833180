/**
 * How the compute time of one executed batch divides into Triton's phases (compute_input,
 * compute_infer, compute_output). The batcher measures the round trip of `run` and the split;
 * the model's own run time comes from `run` itself, when it reports one.
 */

/** The compute phases of one executed batch, in nanoseconds; never negative. */
export interface ComputeTimings {
  /** Round trip minus the model's run: batch concat, transfer to the worker and back, tensor conversion. */
  computeInputNs: number;
  /** Time inside the model's run (RunOutput.inferNs), or the whole round trip when run does not report it. */
  computeInferNs: number;
  /** Time to cut the batch outputs into per-request slices; 0 for a request run alone. */
  computeOutputNs: number;
}

/**
 * Divide a measured round trip into input and infer time. The run time is measured on another clock
 * (inside the worker), so it is capped at the round trip: input + infer always equals the round trip.
 */
export function computeTimings(
  roundTripNs: number,
  inferNs: number | undefined,
  outputNs: number,
): ComputeTimings {
  const total = roundTripNs > 0 ? roundTripNs : 0;
  // A missing, negative or non-finite report means the run told us nothing: all of it counts as inference.
  const infer = inferNs !== undefined && inferNs >= 0 && inferNs < total ? inferNs : total;
  return {
    computeInputNs: total - infer,
    computeInferNs: infer,
    computeOutputNs: outputNs > 0 ? outputNs : 0,
  };
}
