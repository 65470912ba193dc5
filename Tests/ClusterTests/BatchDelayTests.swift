import Cluster
import Raft
import RaftTransport
import Synchronization
import XCTest

/// `ClusterConfig.proposalBatchDelayMicros`: a leader holds proposals that arrive while
/// others are in flight, and appends what it held in one round.
final class BatchDelayTests: XCTestCase {
    /// Memory persistence that remembers which log indexes each save wrote together.
    final class RecordingPersistence: RaftPersistence, Sendable {
        let inner: MemoryPersistence
        let saves = Mutex<[[LogIndex]]>([])

        init(_ state: DurableState) { inner = MemoryPersistence(state) }

        func initialState() -> DurableState { inner.initialState() }
        func save(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) throws {
            let written = entries.filter { $0.kind == .normal && !$0.data.isEmpty }.map(\.index)
            if !written.isEmpty { saves.withLock { $0.append(written) } }
            try inner.save(hardState: hardState, entries: entries, snapshot: snapshot)
        }
        func saveLocalSnapshot(_ snapshot: Snapshot) throws { try inner.saveLocalSnapshot(snapshot) }
        func compact(through index: LogIndex) throws { try inner.compact(through: index) }
        func close() {}
    }

    struct Cluster {
        let hub = InMemoryNetwork(inboxMaxMessages: 100_000)
        var nodes: [NodeID: ClusterNode] = [:]
        var persistence: [NodeID: RecordingPersistence] = [:]

        static func start(batchDelayMicros: Int) async throws -> Cluster {
            var cluster = Cluster()
            let ids: [NodeID] = [1, 2, 3]
            for id in ids {
                var config = ClusterConfig(nodeID: id)
                config.tickMillis = 10
                config.requestTimeoutMillis = 20_000
                config.proposalBatchDelayMicros = batchDelayMicros
                let persistence = RecordingPersistence(.bootstrap(Set(ids)))
                let transport = cluster.hub.transport(for: id)
                try await transport.start()
                let node = try ClusterNode(config: config, persistence: persistence, transport: transport,
                                           stateMachine: KeyValueMachine(), addresses: [:])
                cluster.nodes[id] = node
                cluster.persistence[id] = persistence
                node.start()
            }
            return cluster
        }

        func leader() async throws -> ClusterNode {
            var found: ClusterNode?
            _ = try await waitUntil {
                found = nodes.values.first { $0.status.role == .leader && $0.status.appliedIndex >= $0.status.commitIndex }
                return found != nil
            }
            return try XCTUnwrap(found, "no leader was elected")
        }

        func shutdown() async {
            for node in nodes.values { await node.shutdown() }
        }
    }

    /// Collects the outcomes of proposals made with a completion, by name.
    final class Outcomes: Sendable {
        let results = Mutex<[String: Result<Proposed, any Error>]>([:])

        func propose(_ name: String, on node: ClusterNode) {
            node.propose(Array("\(name)=v".utf8)) { result in self.results.withLock { $0[name] = result } }
        }

        func index(_ name: String) throws -> LogIndex {
            guard let result = results.withLock({ $0[name] }) else { throw Missing(name: name) }
            return try result.get().index
        }

        var count: Int { results.withLock { $0.count } }

        struct Missing: Error { var name: String }
    }

    func testProposalsArrivingWhileOthersAreInFlightShareOneAppend() async throws {
        let cluster = try await Cluster.start(batchDelayMicros: 1_000_000)
        let leader = try await cluster.leader()
        let outcomes = Outcomes()
        // p0 finds nothing in flight and leaves at once; p1, posted right behind it, finds p0
        // in flight and is held; p2…p10 arrive over the next ~20 ms and join it.
        outcomes.propose("p0", on: leader)
        outcomes.propose("p1", on: leader)
        for i in 2...10 {
            try await Task.sleep(for: .milliseconds(2))
            outcomes.propose("p\(i)", on: leader)
        }
        let done = try await waitUntil(timeout: 15) { outcomes.count == 11 }
        XCTAssertTrue(done, "every proposal was answered")
        let indexes = try (0...10).map { try outcomes.index("p\($0)") }
        XCTAssertEqual(indexes, indexes.sorted(), "held proposals keep their arrival order: \(indexes)")
        let saves = cluster.persistence[leader.id]!.saves.withLock { $0 }
        XCTAssertTrue(saves.contains([indexes[0]]), "p0 was written on its own: \(saves)")
        XCTAssertTrue(saves.contains(Array(indexes[1...])), "p1…p10 were appended in one round: \(saves)")
        for (id, persistence) in cluster.persistence where id != leader.id {
            let followerSaves = persistence.saves.withLock { $0 }
            XCTAssertTrue(followerSaves.contains(Array(indexes[1...])), "node \(id) got p1…p10 in one append: \(followerSaves)")
        }
        await cluster.shutdown()
    }

    func testALoneProposalIsNotHeld() async throws {
        // A 60 s delay: a lone proposal that were held would not be answered within the wait.
        let cluster = try await Cluster.start(batchDelayMicros: 60_000_000)
        let leader = try await cluster.leader()
        let outcomes = Outcomes()
        for i in 0..<3 {
            outcomes.propose("alone\(i)", on: leader)
            let answered = try await waitUntil(timeout: 10) { outcomes.count == i + 1 }
            XCTAssertTrue(answered, "proposal \(i), with nothing in flight, was answered without waiting out the delay")
            XCTAssertNoThrow(try outcomes.index("alone\(i)"))
        }
        await cluster.shutdown()
    }

    func testAFullBatchLeavesWithoutWaitingOutTheDelay() async throws {
        // A 60 s delay: only the batch cap can release held proposals within the wait. 33
        // follow `first`: whether or not the first of them still finds `first` in flight, 32
        // of them end up held together and must leave at once.
        let cluster = try await Cluster.start(batchDelayMicros: 60_000_000)
        let leader = try await cluster.leader()
        let outcomes = Outcomes()
        outcomes.propose("first", on: leader)
        for i in 0..<33 { outcomes.propose("burst\(i)", on: leader) }
        let done = try await waitUntil(timeout: 10) { outcomes.count >= 33 }
        XCTAssertTrue(done, "a full batch (32) was proposed at once; \(outcomes.count) of 34 answered")
        let answered = (0..<33).compactMap { try? outcomes.index("burst\($0)") }
        let saves = cluster.persistence[leader.id]!.saves.withLock { $0 }
        XCTAssertTrue(saves.contains { Set($0).intersection(answered).count >= 32 }, "32 left in one append: \(saves)")
        await cluster.shutdown()
    }

    func testHeldProposalsFailAsNotAppliedWhenTheNodeStops() async throws {
        let cluster = try await Cluster.start(batchDelayMicros: 60_000_000)
        let leader = try await cluster.leader()
        let outcomes = Outcomes()
        outcomes.propose("first", on: leader)
        outcomes.propose("held", on: leader)
        let firstDone = try await waitUntil(timeout: 10) { outcomes.count >= 1 }
        XCTAssertTrue(firstDone)
        XCTAssertNoThrow(try outcomes.index("first"), "the proposal that found nothing in flight committed")
        XCTAssertEqual(outcomes.count, 1, "the one behind it is still held")
        await leader.shutdown()
        let heldDone = try await waitUntil(timeout: 10) { outcomes.count == 2 }
        XCTAssertTrue(heldDone, "stopping answers the held proposal")
        let held = outcomes.results.withLock { $0["held"] }
        guard case .failure(let error as ClusterError)? = held else {
            return XCTFail("the held proposal should fail with a cluster error, got \(String(describing: held))")
        }
        XCTAssertEqual(error, .shuttingDown, "a held proposal was never appended: it definitely did not apply")
        await cluster.shutdown()
    }
}
