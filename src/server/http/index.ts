export { buildHttpApp } from './app.js';
export { startHttpServer, type RunningServer } from './listen.js';
export { decodeInferRequest, encodeInferResponse, parseJsonBody } from './v2-json.js';
