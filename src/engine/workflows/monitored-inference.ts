/**
 * A routed request as the frontends run it: traffic picks the version and runs the request (with
 * its shadow and canary), and monitoring captures the sampled ones for the prediction log. The
 * capture is taken before the run (the batcher may hand the inputs' buffers to a worker) and
 * recorded after the caller's answer is ready; it never fails the request.
 */
import type { MonitoringApp } from '../monitoring/monitoring-app.js';
import type { InferRequest, InferResponse } from '../serving/run-request.js';
import type { DeploymentControl } from '../traffic/deployment-control.js';
import { runRouted, type RoutedRequest } from '../traffic/routed-inference.js';

/** Run a routed request and log it when monitoring samples it. */
export async function inferMonitored(
  deployments: DeploymentControl,
  monitoring: MonitoringApp | undefined,
  endpoint: string,
  routed: RoutedRequest,
  request: InferRequest,
): Promise<InferResponse> {
  const capture = monitoring?.begin(routed.target, request.inputs);
  if (!monitoring || capture === undefined) return runRouted(deployments, endpoint, routed, request);
  const started = performance.now();
  const response = await runRouted(deployments, endpoint, routed, request);
  monitoring.finish(
    capture,
    routed.route,
    response.id,
    response.model_version,
    response.outputs,
    performance.now() - started,
  );
  return response;
}
