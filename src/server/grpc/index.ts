export { startGrpcServer, type RunningGrpcServer } from './listen.js';
export { PROTO_PATH, LOADER_OPTIONS } from './definition.js';
