import Cluster
import Raft
import RaftTransport
import Synchronization
import XCTest

/// A leader writes its log on a thread of its own: a slow leader disk does not hold up what
/// a quorum of followers already made durable, a failed write stops the node, and nothing is
/// acknowledged on the leader's copy alone.
final class BackgroundLogWriterTests: XCTestCase {
    private func cluster(_ ids: [NodeID], background: Bool = true)
        async throws -> (nodes: [NodeID: ClusterNode], disks: [NodeID: GatedPersistence]) {
        let hub = InMemoryNetwork(inboxMaxMessages: 100_000)
        var nodes: [NodeID: ClusterNode] = [:]
        var disks: [NodeID: GatedPersistence] = [:]
        for id in ids {
            var config = ClusterConfig(nodeID: id)
            config.tickMillis = 10
            config.requestTimeoutMillis = 10_000
            config.leaderWritesInBackground = background
            let disk = GatedPersistence(.bootstrap(Set(ids)))
            addTeardownBlock { disk.resume() }  // a failed test never leaves a loop blocked
            let transport = hub.transport(for: id)
            try await transport.start()
            let node = try ClusterNode(config: config, persistence: disk, transport: transport,
                                       stateMachine: KeyValueMachine(), addresses: [:])
            node.start()
            nodes[id] = node
            disks[id] = disk
        }
        return (nodes, disks)
    }

    private func leader(of nodes: [NodeID: ClusterNode]) async throws -> ClusterNode {
        var found: ClusterNode?
        _ = try await waitUntil {
            found = nodes.values.first { $0.status.role == .leader }
            return found != nil
        }
        return try XCTUnwrap(found)
    }

    func testALeaderWhoseDiskStallsStillCommitsWhatItsFollowersMadeDurable() async throws {
        let (nodes, disks) = try await cluster([1, 2, 3])
        let leader = try await leader(of: nodes)
        _ = try await leader.propose(Array("before=1".utf8))
        // The leader's disk stops returning from writes (a stalled fsync).
        let disk = disks[leader.id]!
        disk.stall()
        let proposed = try await leader.propose(Array("during=2".utf8))
        XCTAssertEqual(proposed.result as? [UInt8], [], "a fresh key: no previous value")
        XCTAssertLessThan(disk.lastIndex, proposed.index,
                          "committed and applied while the leader's own copy is still being written")
        // Its loop goes on: status and further proposals are answered.
        let status = try await leader.liveStatus(timeoutMillis: 2_000)
        XCTAssertEqual(status.role, .leader)
        _ = try await leader.propose(Array("during=3".utf8))
        disk.resume()
        _ = try await waitUntil { disk.lastIndex >= proposed.index + 1 }
        for node in nodes.values { await node.shutdown() }
    }

    func testASingleVoterAcknowledgesOnlyWhatItsWriteMadeDurable() async throws {
        let (nodes, disks) = try await cluster([1])
        let leader = try await leader(of: nodes)
        _ = try await leader.propose(Array("a=1".utf8))
        let disk = disks[1]!
        disk.stall()
        let answered = Atomic<Bool>(false)
        let proposal = Task {
            defer { answered.store(true, ordering: .relaxed) }
            return try await leader.propose(Array("a=2".utf8))
        }
        // The loop is free (it answers), but the proposal waits for the disk: it is the quorum.
        for _ in 0..<20 {
            let status = try await leader.liveStatus(timeoutMillis: 2_000)
            XCTAssertEqual(status.role, .leader)
            XCTAssertFalse(answered.load(ordering: .relaxed), "acknowledged before its only copy was durable")
        }
        disk.resume()
        let result = try await proposal.value
        XCTAssertLessThanOrEqual(result.index, disk.lastIndex)
        for node in nodes.values { await node.shutdown() }
    }

    func testAFailedBackgroundWriteStopsTheNodeWithTheReason() async throws {
        let (nodes, disks) = try await cluster([1])
        let leader = try await leader(of: nodes)
        _ = try await leader.propose(Array("x=1".utf8))
        disks[1]!.failing.store(true, ordering: .relaxed)
        do {
            _ = try await leader.propose(Array("x=2".utf8))
            XCTFail("a proposal was acknowledged although its entry could not be saved")
        } catch {}
        _ = try await waitUntil { leader.status.storageFailure != nil }
        XCTAssertTrue(leader.status.storageFailure?.contains("no space left") == true, "\(leader.status)")
        do {
            _ = try await leader.propose(Array("x=3".utf8))
            XCTFail("a stopped node took a proposal")
        } catch {}
        for node in nodes.values { await node.shutdown() }
    }

    func testLeadershipMovesAwayWhileWritesAreQueuedAndNothingIsLost() async throws {
        let (nodes, disks) = try await cluster([1, 2, 3])
        let leader = try await leader(of: nodes)
        for i in 0..<20 { _ = try await leader.propose(Array("k\(i)=\(i)".utf8)) }
        disks[leader.id]!.stall()
        var acknowledged: [LogIndex] = []
        for i in 20..<40 { acknowledged.append(try await leader.propose(Array("k\(i)=\(i)".utf8)).index) }
        // Hand leadership over while the old leader's writes are still queued; it must write
        // them (in order) before it persists anything as a follower.
        let target = nodes.keys.first { $0 != leader.id }!
        let transfer = Task { try await leader.transferLeadership(to: target) }
        disks[leader.id]!.resume()
        try await transfer.value
        let newLeader = try await self.leader(of: nodes)
        _ = try await newLeader.propose(Array("after=1".utf8))
        let last = try XCTUnwrap(acknowledged.last)
        _ = try await waitUntil { nodes.values.allSatisfy { $0.status.appliedIndex > last } }
        for (id, disk) in disks {
            XCTAssertGreaterThan(disk.lastIndex, last, "node \(id) holds every acknowledged entry durably")
        }
        for node in nodes.values { await node.shutdown() }
    }
}

/// An in-memory disk whose writes can be held (a stalled fsync) or made to fail.
final class GatedPersistence: RaftPersistence, Sendable {
    let inner: MemoryPersistence
    let failing = Atomic<Bool>(false)
    private let gate = Mutex<Bool>(false)

    init(_ state: DurableState) { inner = MemoryPersistence(state) }

    func stall() { gate.withLock { $0 = true } }
    func resume() { gate.withLock { $0 = false } }

    /// The last entry written.
    var lastIndex: LogIndex {
        let state = inner.initialState()
        return state.entries.last?.index ?? state.snapshot.metadata.index
    }

    private func waitWhileStalled() {
        while gate.withLock({ $0 }) { usleep(1_000) }
    }

    func initialState() -> DurableState { inner.initialState() }

    func save(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) throws {
        waitWhileStalled()
        if failing.load(ordering: .relaxed) { throw FailingPersistence.NoSpace() }
        try inner.save(hardState: hardState, entries: entries, snapshot: snapshot)
    }

    func saveCommitIndex(_ hardState: HardState) throws {
        waitWhileStalled()
        if failing.load(ordering: .relaxed) { throw FailingPersistence.NoSpace() }
        try inner.saveCommitIndex(hardState)
    }

    func saveLocalSnapshot(_ snapshot: Snapshot) throws { try inner.saveLocalSnapshot(snapshot) }
    func compact(through index: LogIndex) throws { try inner.compact(through: index) }
    func close() {}
}
