import API
import Cluster
import Raft

/// The API's view of this node and its cluster, implemented with a ``ClusterNode``.
final class ServerGateway: ClusterGateway {
    let node: ClusterNode

    init(node: ClusterNode) {
        self.node = node
    }

    private static func roleName(_ status: NodeStatus) -> String {
        if status.configuration.learners.contains(status.id) { return "learner" }
        switch status.role {
        case .leader: return "leader"
        case .follower: return "follower"
        case .candidate: return "candidate"
        case .preCandidate: return "pre_candidate"
        }
    }

    func health() async -> HealthInfo {
        let s = node.status
        return HealthInfo(node: s.id, role: Self.roleName(s), leader: s.leader == 0 ? nil : s.leader,
                          leaderAPI: s.leader == 0 ? nil : s.addresses[s.leader]?.api, term: s.term,
                          commitIndex: s.commitIndex, appliedIndex: s.appliedIndex)
    }

    func clusterInfo() async -> ClusterInfo {
        let s = node.status
        let members = s.configuration.members.sorted().map { id in
            MemberInfo(id: id, raft: s.addresses[id].map { "\($0.raft)" } ?? "", api: s.addresses[id]?.api ?? "",
                       isLearner: s.configuration.learners.contains(id), matchIndex: s.progress[id]?.match)
        }
        return ClusterInfo(node: s.id, leader: s.leader == 0 ? nil : s.leader, term: s.term, commitIndex: s.commitIndex,
                           appliedIndex: s.appliedIndex, members: members)
    }

    func leaderAPIAddress() async -> String? {
        let s = node.status
        guard s.leader != 0, s.leader != s.id else { return nil }
        return s.addresses[s.leader]?.api
    }

    func addMember(id: UInt64, raft: String, api: String, learner: Bool) async throws {
        guard id != 0 else { throw ClusterAdminError.invalid(field: "id", reason: "must be a positive integer") }
        guard let raftAddress = PeerAddressParser.parse(raft) else {
            throw ClusterAdminError.invalid(field: "raft", reason: "must be host:port, not '\(raft)'")
        }
        let status = node.status
        if status.configuration.voters.contains(id) || (learner && status.configuration.learners.contains(id)) {
            throw ClusterAdminError.conflict(reason: "node \(id) is already a member")
        }
        let apiURL = api.hasPrefix("http") ? api : "http://\(api)"
        try await mapping { try await self.node.addMember(id, address: MemberAddress(raft: raftAddress, api: apiURL), asLearner: learner) }
    }

    func promoteMember(id: UInt64) async throws {
        let status = node.status
        guard status.configuration.members.contains(id) else { throw ClusterAdminError.unknownMember(id: id) }
        guard status.configuration.learners.contains(id) else { throw ClusterAdminError.conflict(reason: "node \(id) is already a voter") }
        try await mapping { try await self.node.changeMembership(.addVoter(id)) }
    }

    func removeMember(id: UInt64) async throws {
        guard node.status.configuration.members.contains(id) else { throw ClusterAdminError.unknownMember(id: id) }
        try await mapping { try await self.node.changeMembership(.remove(id)) }
    }

    func transferLeadership(to id: UInt64) async throws {
        let status = node.status
        guard status.configuration.members.contains(id) else { throw ClusterAdminError.unknownMember(id: id) }
        guard status.configuration.voters.contains(id) else { throw ClusterAdminError.conflict(reason: "node \(id) is a learner and cannot lead") }
        try await mapping { try await self.node.transferLeadership(to: id) }
    }

    /// Cluster errors as the API's admin errors; leadership problems keep their meaning.
    private func mapping(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ClusterError {
            switch error {
            case .rejected(let why): throw ClusterAdminError.conflict(reason: why)
            case .notLeader(let leader):
                throw ClusterAdminError.conflict(reason: leader == 0 ? "no leader is known; retry" : "node \(leader) leads; send this to it")
            default: throw error
            }
        }
    }
}

import RaftTransport

enum PeerAddressParser {
    static func parse(_ text: String) -> PeerAddress? {
        let stripped = text.hasPrefix("http://") ? String(text.dropFirst(7)) : text
        return PeerAddress(stripped)
    }
}
