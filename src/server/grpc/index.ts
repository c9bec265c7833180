export { startGrpcServer, type RunningGrpcServer } from './listen.js';
export { inferenceService } from './service.js';
export { PROTO_PATH, LOADER_OPTIONS, inferenceServiceDefinition } from './definition.js';
