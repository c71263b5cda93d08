import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * Assigns partition number p of every subscribed topic to the same member (members sorted by id,
 * p mod members), so a processor task that joins several co-partitioned inputs and its changelog
 * partition p is owned by exactly one instance — the embedded log assigns the same way.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'HetuCoPartitioned',
  version: 0,
  async assign({ members, topics }) {
    const sorted = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>();
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = sorted[partitionId % sorted.length]!;
        let a = assignment.get(member);
        if (!a) assignment.set(member, (a = {}));
        (a[topic] ??= []).push(partitionId);
      }
    }
    return sorted.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: assignment.get(memberId) ?? {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'HetuCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});

/**
 * Assigns every partition of every subscribed topic to the first member (by id): a single-task
 * group (`SubscribeOptions.singleTask`), whose other members stand by until it leaves.
 */
export const singleTaskAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'HetuSingleTask',
  version: 0,
  async assign({ members, topics }) {
    const sorted = members.map((m) => m.memberId).sort();
    const all: Record<string, number[]> = {};
    for (const topic of topics)
      all[topic] = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
    return sorted.map((memberId, i) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: i === 0 ? all : {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'HetuSingleTask',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
