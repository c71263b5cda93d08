import { RCA_CATEGORIES, type RcaCategory, type RemediationStep } from './types.ts';

const isCategory = (x: string): x is RcaCategory => (RCA_CATEGORIES as readonly string[]).includes(x);

const s = (
  step: string,
  risk: RemediationStep['risk'],
  automatable: boolean,
  effort: RemediationStep['effort'],
): RemediationStep => ({ step, risk, automatable, effort });

/**
 * Remediation steps per category (and subtype), most urgent first. `{root}` is replaced by the
 * root cause (`Kind namespace/name`), `{image}` by the image concerned, `{old}` by the previous
 * image.
 */
export function remediationFor(category: RcaCategory, subtype: string | null): RemediationStep[] {
  switch (category) {
    case 'bad-rollout':
      return [
        s('Roll back {root} to the previous revision ({old}): kubectl rollout undo', 'low', true, 'minutes'),
        s('Pause further rollouts of {root} until the new image {image} is fixed', 'low', true, 'minutes'),
        s(
          'Compare the new revision with the previous one (image, env, config, resources) and fix the change',
          'low',
          false,
          'hours',
        ),
        s(
          'Add a readiness probe and progressive delivery (maxUnavailable 0, canary or progressDeadlineSeconds) so a bad revision stops itself',
          'medium',
          false,
          'days',
        ),
      ];
    case 'dependency-down': {
      // Its own failure known (the subtype): start with that category's first steps, not with
      // "follow its own incident" (this may be that incident).
      const own =
        subtype !== null && subtype !== 'dependency-down' && isCategory(subtype)
          ? remediationFor(subtype, null).slice(0, 2)
          : [];
      const steps = [
        s(
          'Restore {root}: follow its own incident and RCA (it is the failing dependency, not the callers)',
          'medium',
          false,
          'minutes',
        ),
        s(
          'Check {root} endpoints and readiness: kubectl get endpoints / kubectl describe pods',
          'low',
          false,
          'minutes',
        ),
        s(
          'Make callers degrade gracefully: timeouts, retries with back-off, circuit breaker',
          'medium',
          false,
          'days',
        ),
        s('Give {root} redundancy: replicas ≥ 2 and a PodDisruptionBudget', 'medium', true, 'hours'),
      ];
      return own.length > 0 ? [...own, ...steps.slice(1)] : steps;
    }
    case 'oom':
      return subtype === 'leak'
        ? [
            s(
              'Restart {root} to relieve pressure while investigating (rollout restart)',
              'low',
              true,
              'minutes',
            ),
            s(
              'Find the leak: compare heap profiles over time of the growing container',
              'low',
              false,
              'days',
            ),
            s('Raise the memory limit temporarily (e.g. +50 %) to buy time', 'medium', true, 'minutes'),
            s('Alert on memory ÷ limit > 80 % with a growth trend', 'low', true, 'hours'),
          ]
        : [
            s(
              'Raise the memory limit of {root} (e.g. 1.5 × the peak working set) and the request to match',
              'medium',
              true,
              'minutes',
            ),
            s(
              'Cap the runtime heap below the limit (e.g. -XX:MaxRAMPercentage=75, GOMEMLIMIT, --max-old-space-size)',
              'low',
              false,
              'hours',
            ),
            s(
              'Check for a leak: if memory grows steadily between restarts, profile the heap',
              'low',
              false,
              'days',
            ),
          ];
    case 'bad-config':
      return [
        s(
          'Read the start-up error and supply the missing or wrong setting (env var, ConfigMap key, Secret, mounted file) of {root}',
          'low',
          false,
          'minutes',
        ),
        s(
          'If the configuration changed recently, revert it to the last working version',
          'low',
          true,
          'minutes',
        ),
        s(
          'Validate configuration in CI and at start with a clear message; mark required keys optional: false',
          'low',
          false,
          'hours',
        ),
      ];
    case 'image-pull':
      if (subtype === 'unauthorised')
        return [
          s(
            'Create or fix the image pull secret for the registry of {image} and reference it (imagePullSecrets or the ServiceAccount)',
            'low',
            false,
            'minutes',
          ),
          s(
            'Check the secret is not expired (e.g. ECR tokens last 12 h) and automate its refresh',
            'low',
            true,
            'hours',
          ),
        ];
      if (subtype === 'not-found')
        return [
          s(
            'Fix the image reference {image} (tag or digest that exists), or push the missing tag',
            'low',
            false,
            'minutes',
          ),
          s('Roll back {root} to the last image that pulled ({old})', 'low', true, 'minutes'),
          s(
            'Pin images by digest produced by CI, and check they exist before deploying',
            'low',
            false,
            'hours',
          ),
        ];
      return [
        s(
          'Check that {image} exists and that the pull credentials can read it (docker pull with the same credentials)',
          'low',
          false,
          'minutes',
        ),
        s('Fix the image reference or the image pull secret of {root}', 'low', false, 'minutes'),
      ];
    case 'unschedulable':
      switch (subtype) {
        case 'insufficient-cpu':
        case 'insufficient-memory':
          return [
            s(
              'Lower the requests of {root} to what it uses (see rightsizing), or',
              'medium',
              true,
              'minutes',
            ),
            s('Add nodes or enable the cluster autoscaler for the node pool', 'medium', true, 'hours'),
            s(
              'Free capacity: scale down idle workloads, evict low-priority pods via PriorityClasses',
              'medium',
              false,
              'hours',
            ),
          ];
        case 'taint':
          return [
            s(
              'Add the matching toleration to {root}, or remove the taint if it is stale (kubectl taint nodes … -)',
              'medium',
              false,
              'minutes',
            ),
            s('Check that the tainted nodes are meant to exclude this workload', 'low', false, 'minutes'),
          ];
        case 'node-selector':
          return [
            s(
              'Fix the nodeSelector or node affinity of {root}, or label nodes to match',
              'medium',
              false,
              'minutes',
            ),
            s('Make hard affinity preferred when any node will do', 'low', false, 'minutes'),
          ];
        case 'unbound-pvc':
          return [
            s(
              'Check the PersistentVolumeClaim: storage class exists, provisioner runs, a matching PV is available',
              'low',
              false,
              'minutes',
            ),
            s(
              'Use a storage class with dynamic provisioning and volumeBindingMode WaitForFirstConsumer',
              'medium',
              false,
              'hours',
            ),
          ];
        default:
          return [
            s(
              'Read the FailedScheduling message of {root} and relax the constraint it names',
              'low',
              false,
              'minutes',
            ),
          ];
      }
    case 'node-failure':
      return [
        s('Cordon {root} and drain it so its pods reschedule elsewhere', 'medium', true, 'minutes'),
        s(
          'Check the kubelet and container runtime on {root} (journalctl -u kubelet), disk and memory',
          'low',
          false,
          'minutes',
        ),
        s('Replace the node if it does not recover (node pool auto-repair)', 'medium', true, 'hours'),
        s(
          'Spread replicas across nodes (topologySpreadConstraints, PodDisruptionBudgets)',
          'low',
          false,
          'hours',
        ),
      ];
    case 'app-error':
      return subtype === 'connectivity'
        ? [
            s(
              'From a pod of {root}, check the endpoint its error names: DNS resolution, a NetworkPolicy or egress rule, the port (kubectl exec … curl/nc)',
              'low',
              false,
              'minutes',
            ),
            s(
              'Check the status of that dependency (a managed service, another cluster, a third party)',
              'low',
              false,
              'minutes',
            ),
            s(
              'Give the calls timeouts, retries with back-off and a circuit breaker, so {root} degrades instead of failing',
              'medium',
              false,
              'days',
            ),
          ]
        : [
            s(
              'Open the error group of {root}: its stack trace, first occurrence and best sample show where the code fails',
              'low',
              false,
              'minutes',
            ),
            s(
              'If it began after a change (image, config, data, traffic), undo that change: kubectl rollout undo for an image',
              'medium',
              true,
              'minutes',
            ),
            s('Fix the code path and add a test for the failing input', 'low', false, 'days'),
            s("Alert on the error group's rate rather than on single events", 'low', true, 'hours'),
          ];
    case 'probe-failure':
      return [
        s(
          'Check what the failing probe of {root} calls: run it by hand in the pod (kubectl exec)',
          'low',
          false,
          'minutes',
        ),
        s(
          'Tune the probe: timeoutSeconds, failureThreshold, and a startupProbe for slow starts',
          'low',
          false,
          'minutes',
        ),
        s('Make the readiness endpoint check only this process, not its dependencies', 'low', false, 'hours'),
      ];
    case 'volume-mount':
      return [
        s(
          'Create the missing object or fix the volume reference of {root} (names must match, same namespace)',
          'low',
          false,
          'minutes',
        ),
        s(
          'For a Multi-Attach error, make sure only one pod uses the ReadWriteOnce volume (Recreate strategy or StatefulSet)',
          'medium',
          false,
          'hours',
        ),
        s(
          'Check the CSI driver and node attach limits (kubectl describe pod, csinode)',
          'low',
          false,
          'hours',
        ),
      ];
    case 'cpu-saturation':
      return [
        s(
          'Raise the CPU limit of {root} or remove it (keep the request), to stop CFS throttling',
          'medium',
          true,
          'minutes',
        ),
        s('Scale out: more replicas or an HPA on CPU', 'medium', true, 'minutes'),
        s('Profile the hot path if usage grew without more traffic', 'low', false, 'days'),
      ];
    case 'unknown':
      return [
        s(
          'Inspect the incident evidence of {root}: pod status, events and error groups',
          'low',
          false,
          'minutes',
        ),
      ];
  }
}
