/** The security layer: tokens and scopes, the access table, per-token limits, model signatures, encryption at rest. */
export { parseModelGlobs, parseScopes } from './scopes.js';
export type { Scope } from './scopes.js';
export {
  generateToken,
  generateTokenId,
  hashToken,
  parseAuthorizationHeader,
  parseTokensFile,
} from './tokens.js';
export {
  GRPC_ACCESS_RULES,
  HTTP_ACCESS_RULES,
  decideAccess,
  requiredAccess,
  requiredGrpcAccess,
} from './access-policy.js';
export type { RequiredAccess } from './access-policy.js';
export {
  ConcurrencyLimiter,
  TokenBucket,
  overloadedError,
  rateLimitedError,
  tooManyInFlightError,
} from './rate-limit.js';
export {
  loadTrustedKeys,
  readSigningKey,
  signModel,
  signatureRefusedError,
  verifyModelSignature,
  writeKeyPair,
} from './signing.js';
export type { ModelSignatureRecord, SignatureVerdict } from './signing.js';
