/// Membership changes.
///
/// The scheme is one change at a time (Ongaro's thesis §4.1): adding or removing a single
/// voter always leaves every majority of the old configuration overlapping every majority
/// of the new one, so no two leaders can be elected in one term whichever configuration
/// each node uses. A change takes effect on every node when its entry commits (the core
/// activates it itself as the commit index passes it). The leader accepts a change only
/// when the previous one has committed, and only after an entry of its own term has
/// committed — the fix for the single-server-change bug Ongaro described in 2015, since a
/// new leader may otherwise hold an uncommitted change of an earlier term.
/// Joint consensus would allow arbitrary changes at once but needs two-phase entries and
/// double-quorum counting everywhere; one change at a time is all `orchestrator cluster
/// add|remove` needs and is simpler to verify.
extension RaftNode {
    /// Proposes one membership change (leader only). It takes effect when it commits.
    ///
    /// Besides the one-at-a-time rule, two checks protect availability (both as in etcd's
    /// server, here in the core so that they are decided on the leader's own progress):
    /// - promoting a learner (`addVoter` of a learner) needs it in sync: heard from within the
    ///   last election timeout and at most ``RaftConfig/promotionLagEntriesMax`` entries
    ///   behind the leader's last index (``ProposalError/learnerNotReady(_:)``);
    /// - with ``RaftConfig/strictReconfigCheck``, every change needs the voters of the
    ///   configuration it produces that are live to be a quorum of it
    ///   (``ProposalError/wouldLoseQuorum(_:)``).
    public mutating func proposeConfigChange(_ change: ConfigChange) throws(ProposalError) -> LogPosition {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard pendingConfigIndex <= log.committed else { throw .configChangePending }
        switch change {
        case .addVoter(let node):
            if configuration.voters.contains(node) { throw .alreadyAMember(node) }
            if configuration.learners.contains(node) {
                let lag = learnerLag(node)
                if !lag.isReady { throw .learnerNotReady(lag) }
            }
        case .addLearner(let node):
            if configuration.members.contains(node) { throw .alreadyAMember(node) }
        case .remove(let node):
            if !configuration.members.contains(node) { throw .notAMember(node) }
            if configuration.voters == [node] { throw .wouldRemoveLastVoter }
        }
        if config.strictReconfigCheck, let shortfall = quorumShortfall(after: change) {
            throw .wouldLoseQuorum(shortfall)
        }
        let position = try proposeEntry(kind: .configChange, data: change.encoded)
        pendingConfigIndex = position.index
        return position
    }

    /// Whether the leader counts `node` as live: itself, or a member it heard from within
    /// the last election timeout. Meaningful on the leader only.
    func isLive(_ node: NodeID) -> Bool {
        node == id || progress[node]?.isLive(electionTicks: config.electionTicks) == true
    }

    /// How far learner `node` is from the leader, as the promotion check sees it.
    func learnerLag(_ node: NodeID) -> LearnerLag {
        LearnerLag(learner: node, match: progress[node]?.match ?? 0, leaderLastIndex: log.lastIndex,
                   lagEntriesMax: config.promotionLagEntriesMax, isLive: isLive(node))
    }

    /// The strict reconfiguration check: nil when the live voters of the configuration
    /// `change` produces are a quorum of it.
    func quorumShortfall(after change: ConfigChange) -> QuorumShortfall? {
        let after = change.applied(to: configuration)
        let live = after.voters.filter { isLive($0) }
        guard live.count < after.quorum else { return nil }
        return QuorumShortfall(change: change, votersAfter: after.voters, liveVoters: live, quorum: after.quorum)
    }

    /// Puts the change carried by a committed entry into force.
    mutating func activate(_ entry: Entry) {
        guard let change = ConfigChange(encoded: entry.data) else {
            preconditionFailure("committed entry \(entry.index) is marked as a membership change but does not decode as one")
        }
        configuration = change.applied(to: configuration)
        configHistory.append((entry.index, configuration))
        guard role == .leader else { return }
        switch change {
        case .addVoter(let node), .addLearner(let node):
            if progress[node] == nil {
                progress[node] = Progress(next: log.lastIndex + 1, inflightCapacity: config.maxInflightMessages)
            }
        case .remove(let node):
            if node != id { progress[node] = nil }
            if node == leadTransferee { leadTransferee = 0 }
        }
    }

    /// Leader follow-up once the membership changed: a removed leader steps down; a
    /// smaller quorum may commit more or confirm reads.
    mutating func afterMembershipChange() {
        guard role == .leader else { return }
        if !configuration.voters.contains(id) {
            becomeFollower(term: term, leader: 0)
            return
        }
        if maybeCommit() { broadcastAppend() }
        broadcastAppend(sendIfEmpty: false)
        resolveReads()
    }

    /// The membership in force at `index` (which must not precede the compacted prefix).
    func configuration(at index: LogIndex) -> Configuration {
        var result = configHistory[0].configuration
        for (start, configuration) in configHistory where start <= index { result = configuration }
        return result
    }
}
