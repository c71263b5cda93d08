/**
 * Error-line parsing, detection, multi-line stitching and fingerprinting (SPEC §4).
 * Pure and deterministic: no I/O, no clock, no randomness.
 */
export { parseLine, parseOccurrence, parseLogfmt } from './parse.ts';
export type { LineFormat, ParsedLine, ParseOptions } from './parse.ts';
export { detect, classify, REASONS } from './detect.ts';
export type { Detection, Kind, Reason } from './detect.ts';
export { Stitcher, DEFAULT_STITCHER_OPTIONS } from './stitch.ts';
export type { Completed, StitchInput, StitcherOptions, StitcherSnapshot } from './stitch.ts';
export {
  fingerprint,
  Fingerprinter,
  messageText,
  templateTokens,
  MAX_TEMPLATE_TOKENS,
  MAX_TEMPLATE_TOKEN_CHARS,
} from './fingerprint.ts';
export type { FingerprintResult, FingerprinterSnapshot } from './fingerprint.ts';
export { TemplateMiner, DEFAULT_MINER_OPTIONS } from './cluster.ts';
export type { ClusterMatch, MinerOptions, MinerSnapshot } from './cluster.ts';
export { maskTokens, maskToken, PH } from './mask.ts';
export { stripHeader } from './header.ts';
export type { Header } from './header.ts';
export { normaliseLevel, levelRank, findTextLevel } from './levels.ts';
export type { Level } from './levels.ts';
export { sanitizeLine, MAX_LINE_CHARS } from './sanitize.ts';
export type { Sanitized } from './sanitize.ts';
export { analyseStack, normaliseName, parseFrame, TOP_FRAMES } from './stack.ts';
export type { StackInfo, StackLang, Frame } from './stack.ts';
export { hash64 } from './hash.ts';
export { groupingAccuracy, digitMask } from './accuracy.ts';
