/// Snapshots: taking them, compacting the log, and sending them to followers in chunks.
extension RaftNode {
    /// Records that the application has captured its state as of `index` (≤ applied) in
    /// `data`. The returned snapshot is what the caller persists; it is also what the
    /// leader sends to followers that need entries at or before `index`.
    public mutating func createSnapshot(at index: LogIndex, data: [UInt8]) -> Snapshot {
        precondition(index <= log.applied, "snapshot at \(index) is beyond the applied index \(log.applied)")
        precondition(index >= latestSnapshot.metadata.index,
                     "snapshot at \(index) is older than the current one at \(latestSnapshot.metadata.index)")
        guard let term = log.term(at: index) else {
            preconditionFailure("snapshot at \(index): that entry was compacted (log starts at \(log.firstIndex))")
        }
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: index, term: term, configuration: configuration(at: index)), data: data)
        latestSnapshot = snapshot
        return snapshot
    }

    /// Whether a snapshot at `index` (built from the state applied through it) would be newer
    /// than the latest one and can still be taken: its entry is applied and its term known.
    /// A snapshot built in the background is checked with this before `createSnapshot`,
    /// since a snapshot from the leader may have replaced the log meanwhile.
    public func canSnapshot(at index: LogIndex) -> Bool {
        index <= log.applied && index > latestSnapshot.metadata.index && log.term(at: index) != nil
    }

    /// The metadata `createSnapshot(at:data:)` would give a snapshot at `index` now, or nil
    /// when `canSnapshot(at:)` is false. Lets a node encode the data elsewhere first.
    public func snapshotMetadata(at index: LogIndex) -> SnapshotMetadata? {
        guard canSnapshot(at: index), let term = log.term(at: index) else { return nil }
        return SnapshotMetadata(index: index, term: term, configuration: configuration(at: index))
    }

    /// Forgets the entries up to and including `index`, which the latest snapshot covers.
    /// Keeping some entries below the snapshot lets slightly lagging followers catch up
    /// without a snapshot transfer.
    public mutating func compact(through index: LogIndex) {
        precondition(index <= latestSnapshot.metadata.index,
                     "compacting through \(index) beyond the latest snapshot at \(latestSnapshot.metadata.index)")
        precondition(index <= log.durableIndex, "compacting through \(index), which is not durable yet")
        guard index > log.snapshotIndex else { return }
        log.compact(through: index)
        // Keep the configuration in force at the new start and every later one.
        var kept = configHistory.filter { $0.index > index }
        kept.insert((index, configuration(at: index)), at: 0)
        configHistory = kept
    }

    /// Moves a follower whose next entry was compacted to the snapshot state and sends the
    /// first chunk.
    mutating func startSnapshot(to member: NodeID) {
        guard var pr = progress[member] else { return }
        precondition(latestSnapshot.metadata.index >= log.snapshotIndex,
                     "log compacted through \(log.snapshotIndex) beyond the latest snapshot \(latestSnapshot.metadata.index)")
        pr.becomeSnapshot(index: latestSnapshot.metadata.index)
        progress[member] = pr
        sendSnapshotChunk(to: member)
    }

    mutating func sendSnapshotChunk(to member: NodeID) {
        guard var pr = progress[member], pr.state == .snapshot else { return }
        if pr.pendingSnapshotIndex != latestSnapshot.metadata.index {
            // A newer snapshot replaced the one being sent: start over with it.
            pr.becomeSnapshot(index: latestSnapshot.metadata.index)
        }
        let data = latestSnapshot.data
        let start = min(pr.snapshotOffset, data.count)
        let end = min(start + config.snapshotChunkBytes, data.count)
        send(to: member, .snapshotChunk(Message.SnapshotChunk(metadata: latestSnapshot.metadata, totalBytes: data.count,
                                                              offset: start, data: Array(data[start..<end]))))
        pr.snapshotIdleTicks = 0
        progress[member] = pr
    }

    /// Resends the current chunk to followers that stopped answering mid-transfer.
    mutating func tickSnapshotTransfers() {
        for member in progress.keys.sorted() where member != id && progress[member]!.state == .snapshot {
            progress[member]!.snapshotIdleTicks += 1
            if progress[member]!.snapshotIdleTicks >= config.electionTicks {
                sendSnapshotChunk(to: member)
            }
        }
    }

    mutating func handleSnapshotChunkResponse(from member: NodeID, _ response: Message.SnapshotChunkResponse) {
        guard var pr = progress[member] else { return }
        pr.heard()
        guard pr.state == .snapshot, response.snapshotIndex == pr.pendingSnapshotIndex else {
            progress[member] = pr
            return
        }
        pr.snapshotOffset = response.reject ? 0 : response.nextOffset
        progress[member] = pr
        if response.reject || response.nextOffset < latestSnapshot.data.count {
            sendSnapshotChunk(to: member)
        }
        // After the last chunk the follower's append response moves it on.
    }

    /// Follower: collects chunks; the last one installs the snapshot.
    mutating func handleSnapshotChunk(from leaderID: NodeID, _ chunk: Message.SnapshotChunk) {
        let metadata = chunk.metadata
        func respond(_ node: inout RaftNode, next: Int, reject: Bool) {
            node.send(to: leaderID, .snapshotChunkResponse(Message.SnapshotChunkResponse(snapshotIndex: metadata.index, nextOffset: next, reject: reject)))
        }
        if metadata.index <= log.committed {
            // We have everything the snapshot holds already.
            incomingSnapshot = nil
            respond(&self, next: chunk.totalBytes, reject: false)
            send(to: leaderID, .appendResponse(Message.AppendResponse(index: log.committed)))
            return
        }
        if chunk.offset == 0 {
            incomingSnapshot = (metadata, chunk.totalBytes, chunk.data)
        } else if let incoming = incomingSnapshot, incoming.metadata == metadata, incoming.totalBytes == chunk.totalBytes,
                  incoming.data.count == chunk.offset {
            incomingSnapshot!.data.append(contentsOf: chunk.data)
        } else {
            // A gap (lost or reordered chunk) or a different snapshot: ask for the missing part.
            let have = incomingSnapshot.map { $0.metadata == metadata ? $0.data.count : 0 } ?? 0
            respond(&self, next: have, reject: have == 0)
            return
        }
        guard let incoming = incomingSnapshot, incoming.data.count >= incoming.totalBytes else {
            respond(&self, next: incomingSnapshot?.data.count ?? 0, reject: false)
            return
        }
        incomingSnapshot = nil
        respond(&self, next: incoming.totalBytes, reject: false)
        installSnapshot(Snapshot(metadata: metadata, data: incoming.data))
        send(to: leaderID, .appendResponse(Message.AppendResponse(index: log.committed)))
    }

    /// Follower: replaces the log with a snapshot received from the leader.
    mutating func installSnapshot(_ snapshot: Snapshot) {
        let metadata = snapshot.metadata
        if log.matchTerm(metadata.index, metadata.term) {
            // Our log already has the snapshot's last entry: just commit up to it.
            commit(to: metadata.index)
            return
        }
        log.restore(index: metadata.index, term: metadata.term)
        configuration = metadata.configuration
        configHistory = [(metadata.index, metadata.configuration)]
        latestSnapshot = snapshot
        snapshotToPersist = snapshot
    }
}
