/** What the server says about itself on `GET /v2` and gRPC `ServerMetadata`. */
import { TEND_VERSION } from '../../core/version.js';

/** The protocol extensions tend implements, named as Triton names them. */
export const SERVER_EXTENSIONS = [
  'binary_tensor_data',
  'classification',
  'model_configuration',
  'model_repository',
  'statistics',
] as const;

export const SERVER_METADATA = { name: 'tend', version: TEND_VERSION, extensions: [...SERVER_EXTENSIONS] };
