/** The security layer: tokens and scopes, the access table, per-token limits, model signatures, encryption at rest. */
export { SCOPES, grants, isScope, modelGlobMatches, parseModelGlobs, parseScopes } from './scopes.js';
export type { Scope } from './scopes.js';
export {
  MIN_TOKEN_LENGTH,
  TOKEN_PREFIX,
  deriveTokenId,
  generateToken,
  generateTokenId,
  hashToken,
  isTokenId,
  isWellFormedToken,
  parseAuthorizationHeader,
  parseTokensFile,
} from './tokens.js';
export type { ProvisionedToken } from './tokens.js';
export { GRPC_ACCESS_RULES, HTTP_ACCESS_RULES, decideAccess, requiredAccess, requiredGrpcAccess } from './access-policy.js';
export type { AccessDecision, GrpcAccessRule, HttpAccessRule, HttpMethod, RequiredAccess, TokenGrant } from './access-policy.js';
export { ConcurrencyLimiter, TokenBucket, overloadedError, rateLimitedError, tooManyInFlightError } from './rate-limit.js';
export type { Clock, ConcurrencyDecision, LimitDecision, RateLimit } from './rate-limit.js';
export {
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  generateSigningKeyPair,
  keyIdOf,
  loadTrustedKeys,
  parsePublicKey,
  readSigningKey,
  signModel,
  signatureRefusedError,
  signedMessage,
  verifyModelSignature,
  writeKeyPair,
} from './signing.js';
export type { ModelSignatureRecord, SignatureCheck, SignatureVerdict, SigningKeyPair } from './signing.js';
export {
  KEY_BYTES,
  deriveKeyId,
  generateEncryptionKey,
  keyringOf,
  loadKeyring,
  parseKeyring,
  rotateKeyring,
  serializeKeyring,
  writeKeyringFile,
} from '../core/keyring.js';
export type { EncryptionKey, Keyring } from '../core/keyring.js';
export {
  ENVELOPE_OVERHEAD_BYTES,
  decryptBuffer,
  decryptField,
  encryptBuffer,
  encryptField,
  envelopeKeyId,
  isEncrypted,
  isEncryptedField,
  reencryptBuffer,
} from '../core/encryption.js';
