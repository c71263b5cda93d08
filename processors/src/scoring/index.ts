export type {
  ContainerRequests,
  ContainerSecurityContext,
  ContainerSpec,
  CostEfficiency,
  Deduction,
  DeductionResource,
  Dimension,
  EnvVar,
  EvidenceRef,
  IncidentScope,
  Level,
  PodSecurityContext,
  PodTemplateSpec,
  PodUsage,
  PolicyRule,
  RbacSubject,
  ScopeScore,
  ScoringAnomaly,
  ScoringClusterRole,
  ScoringClusterRoleBinding,
  ScoringErrorGroup,
  ScoringIncident,
  ScoringInput,
  ScoringNamespace,
  ScoringNamespacedObject,
  ScoringNode,
  ScoringPod,
  ScoringPvc,
  ScoringRecommendation,
  ScoringWorkload,
  Severity,
  WorkloadRef,
} from './types.ts';
export { RULES, RULE_IDS, DIMENSIONS, SYSTEM_NAMESPACES, DISTINCT_RULES, ruleSpec } from './rules.ts';
export type { RuleSpec, RuleScope } from './rules.ts';
export { overallScore, levelOf } from './overall.ts';
export { efficiency, costEfficiency, emptyCostSums, addCostSums } from './cost.ts';
export type { CostSums } from './cost.ts';
export { parseScope, workloadKey, workloadScope, namespaceScope, clusterScope } from './scope.ts';
export type { ParsedScope } from './scope.ts';
export { collect } from './collect.ts';
export type { Anchor, Collected, CostItem, Item, ItemResource } from './collect.ts';
export { combine, emptyPartial, partialOf, compareResources, MAX_RESOURCES } from './partial.ts';
export type { RuleTally, ScorePartial } from './partial.ts';
export {
  scoreScope,
  scoreAll,
  scoreFromPartial,
  scoreStaged,
  stagedPartials,
  shareOf,
  mustParseScope,
} from './score.ts';
export type { StagedPartials } from './score.ts';
export { impactOf } from './impact.ts';
export type { Impact, ResourceRef } from './impact.ts';
export { scoreChange } from './change.ts';
export type { ChangeCause, ChangedResource, DimensionChange, ScoreChange } from './change.ts';
