/// ReadIndex (Raft thesis §6.4): linearizable reads without writing to the log.
///
/// The leader notes its commit index as the read point, then confirms it still leads by
/// a round of heartbeats that a quorum acknowledges. Only then is the read point handed
/// out. A leader that has not yet committed an entry of its own term does not know the
/// true commit index, so reads wait for that first. A deposed leader never gets the
/// quorum, so it never confirms a stale read.
extension RaftNode {
    /// Requests a linearizable read point for `context` (chosen by the caller, unique on
    /// this node). It arrives in ``Ready/readStates``; on a follower it is asked of the
    /// leader. With no leader known the request is dropped: the caller times out and retries.
    public mutating func requestRead(context: UInt64) {
        if role == .leader {
            handleReadRequest(context: context, from: id)
        } else if leader != 0 {
            send(to: leader, .readIndex(context: context))
        }
    }

    mutating func handleReadRequest(context: UInt64, from requester: NodeID) {
        guard log.term(at: log.committed) == term else {
            readsAwaitingCommit.append((context, requester))
            return
        }
        if configuration.voters == [id] {
            deliverRead(ReadState(index: log.committed, context: context), to: requester)
            return
        }
        readRound += 1
        pendingReads.append(PendingRead(context: context, from: requester, index: log.committed, round: readRound))
        broadcastHeartbeat()
    }

    mutating func releaseReadsAwaitingCommit() {
        let waiting = readsAwaitingCommit
        readsAwaitingCommit = []
        for read in waiting { handleReadRequest(context: read.context, from: read.from) }
    }

    /// Hands out every read whose round a quorum of voters has acknowledged.
    mutating func resolveReads() {
        guard role == .leader, !pendingReads.isEmpty else { return }
        var acked = configuration.voters.map { $0 == id ? readRound : (progress[$0]?.readRoundAcked ?? 0) }
        acked.sort(by: >)
        let confirmedRound = acked[configuration.quorum - 1]
        var remaining: [PendingRead] = []
        for read in pendingReads {
            if read.round <= confirmedRound {
                deliverRead(ReadState(index: read.index, context: read.context), to: read.from)
            } else {
                remaining.append(read)
            }
        }
        pendingReads = remaining
    }

    private mutating func deliverRead(_ state: ReadState, to requester: NodeID) {
        if requester == id {
            readStates.append(state)
        } else {
            send(to: requester, .readIndexResponse(index: state.index, context: state.context))
        }
    }
}
