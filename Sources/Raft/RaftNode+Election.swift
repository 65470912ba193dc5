/// Elections: timeouts, pre-vote, voting, role changes, check-quorum and leadership transfer.
extension RaftNode {
    /// Starts an election now (with a pre-vote round first when pre-vote is on).
    public mutating func campaign() {
        campaign(transfer: false)
    }

    /// Asks `target`, a voter, to take over leadership once it has caught up. Proposals are
    /// refused until the transfer completes or aborts (after an election timeout).
    public mutating func transferLeadership(to target: NodeID) throws(ProposalError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard target != id else { return }
        guard configuration.voters.contains(target), progress[target] != nil else { throw .notAMember(target) }
        if leadTransferee == target { return }
        leadTransferee = target
        // The transfer must finish within one election timeout or it is abandoned.
        electionElapsed = 0
        if progress[target]!.match == log.lastIndex {
            send(to: target, .timeoutNow)
        } else {
            sendAppend(to: target)
        }
    }

    enum CampaignKind { case preElection, election, transfer }

    mutating func campaign(transfer: Bool) {
        campaign(transfer ? .transfer : (config.preVote ? .preElection : .election))
    }

    mutating func campaign(_ kind: CampaignKind) {
        guard isPromotable, role != .leader else { return }
        if kind == .preElection { becomePreCandidate() } else { becomeCandidate() }
        let isPreVote = kind == .preElection
        // A pre-vote asks about the term we would campaign in, without moving to it.
        let voteTerm = isPreVote ? term + 1 : term
        if tallyVote(from: id, granted: true) == .won {
            // A cluster where this node alone is a quorum.
            if isPreVote { campaign(.election) } else { becomeLeader() }
            return
        }
        let request = Message.VoteRequest(lastIndex: log.lastIndex, lastTerm: log.lastTerm, preVote: isPreVote,
                                          transfer: kind == .transfer)
        for voter in configuration.voters.sorted() where voter != id {
            messages.append(Message(from: id, to: voter, term: voteTerm, payload: .vote(request)))
        }
    }

    enum VoteResult { case won, lost, pending }

    mutating func tallyVote(from voter: NodeID, granted: Bool) -> VoteResult {
        if configuration.voters.contains(voter) && votes[voter] == nil { votes[voter] = granted }
        let granted = votes.values.filter { $0 }.count
        let rejected = votes.count - granted
        if granted >= configuration.quorum { return .won }
        if rejected > configuration.voters.count - configuration.quorum { return .lost }
        return .pending
    }

    mutating func handleVoteResponse(from voter: NodeID, granted: Bool) {
        switch tallyVote(from: voter, granted: granted) {
        case .won:
            if role == .preCandidate { campaign(.election) } else { becomeLeader() }
        case .lost:
            becomeFollower(term: term, leader: 0)
        case .pending:
            break
        }
    }

    mutating func tickElection() {
        electionElapsed += 1
        if isPromotable && electionElapsed >= randomizedElectionTimeout {
            electionElapsed = 0
            campaign(transfer: false)
        }
    }

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        for member in progress.keys where member != id { progress[member]!.tickSilent() }
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            if config.checkQuorum {
                let active = configuration.voters.filter { $0 == id || progress[$0]?.recentActive == true }.count
                if active < configuration.quorum {
                    becomeFollower(term: term, leader: 0)
                    return
                }
                for member in progress.keys where member != id { progress[member]!.recentActive = false }
            }
            // A transfer that did not finish within an election timeout is abandoned.
            leadTransferee = 0
        }
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
        tickSnapshotTransfers()
    }

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    mutating func becomePreCandidate() {
        precondition(role != .leader, "a leader does not campaign")
        // A pre-candidate changes neither its term nor its vote.
        votes = [:]
        role = .preCandidate
        leader = 0
    }

    mutating func becomeCandidate() {
        precondition(role != .leader, "a leader does not campaign")
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader (was \(role))")
        reset(term: term)
        role = .leader
        leader = id
        let next = log.lastIndex + 1
        for member in configuration.members {
            var pr = Progress(next: next, inflightCapacity: config.maxInflightMessages)
            if member == id {
                pr.match = log.durableIndex
                pr.heard()
                pr.becomeReplicate()
            }
            progress[member] = pr
        }
        // No membership change until an entry of this term commits (the single-server
        // change rule): everything up to the empty entry below counts as pending.
        pendingConfigIndex = log.lastIndex + 1
        appendAsLeader([Entry(term: term, index: log.lastIndex + 1)])
        broadcastAppend()
    }

    /// Clears per-term state; a new term also clears the vote.
    mutating func reset(term newTerm: Term) {
        if newTerm != term {
            term = newTerm
            vote = 0
            incomingSnapshot = nil
        }
        leader = 0
        electionElapsed = 0
        heartbeatElapsed = 0
        resetRandomizedElectionTimeout()
        votes = [:]
        progress = [:]
        leadTransferee = 0
        uncommittedBytes = 0
        pendingBroadcast = false
        pendingReads = []
        readsAwaitingCommit = []
        readRound = 0
        pendingConfigIndex = 0
    }

    mutating func resetRandomizedElectionTimeout() {
        randomizedElectionTimeout = config.electionTicks + Int(random.next() % UInt64(config.electionTicks))
    }
}
