import Cluster
import Raft
import RaftTransport
import XCTest

final class ClusterNodeTests: XCTestCase {
    struct Harness {
        var hub = InMemoryNetwork(inboxMaxMessages: 100_000)
        var nodes: [NodeID: ClusterNode] = [:]
        var machines: [NodeID: KeyValueMachine] = [:]
        var persistence: [NodeID: MemoryPersistence] = [:]
        let ids: [NodeID]
        let configure: (inout ClusterConfig) -> Void

        init(ids: [NodeID], configure: @escaping (inout ClusterConfig) -> Void = { _ in }) throws {
            self.ids = ids
            self.configure = configure
            for id in ids {
                persistence[id] = MemoryPersistence(.bootstrap(Set(ids)))
            }
        }

        static func make(ids: [NodeID], configure: @escaping (inout ClusterConfig) -> Void = { _ in }) async throws -> Harness {
            var harness = try Harness(ids: ids, configure: configure)
            for id in ids { try await harness.start(id) }
            return harness
        }

        mutating func start(_ id: NodeID) async throws {
            var config = ClusterConfig(nodeID: id)
            config.tickMillis = 10
            config.requestTimeoutMillis = 3_000
            configure(&config)
            let machine = KeyValueMachine()
            machines[id] = machine
            let transport = hub.transport(for: id)
            try await transport.start()
            let node = try ClusterNode(config: config, persistence: persistence[id]!, transport: transport,
                                       stateMachine: machine, addresses: [:])
            nodes[id] = node
            node.start()
        }

        func leader() async throws -> ClusterNode? {
            var found: ClusterNode?
            _ = try await waitUntil {
                found = nodes.values.first { $0.status.role == .leader }
                return found != nil
            }
            return found
        }

        func shutdown() async {
            for node in nodes.values { await node.shutdown() }
        }
    }

    func testSingleNodeCommitsAndReturnsTheResult() async throws {
        let h = try await Harness.make(ids: [1])
        let leader = try await XCTUnwrapAsync(try await h.leader())
        let first = try await leader.propose(Array("x=1".utf8))
        let second = try await leader.propose(Array("x=2".utf8))
        XCTAssertEqual(second.result, Array("1".utf8))
        XCTAssertEqual(second.index, first.index + 1)
        await h.shutdown()
    }

    func testThreeNodesReplicateAndFollowersRefuseProposals() async throws {
        let h = try await Harness.make(ids: [1, 2, 3])
        let leader = try await XCTUnwrapAsync(try await h.leader())
        for i in 0..<50 { _ = try await leader.propose(Array("k\(i)=\(i)".utf8)) }
        let follower = h.nodes.values.first { $0.id != leader.id }!
        do {
            _ = try await follower.propose(Array("no=1".utf8))
            XCTFail("a follower accepted a proposal")
        } catch let error as ClusterError {
            XCTAssertEqual(error, .notLeader(leader: leader.id))
        }
        let index = try await follower.readIndex()
        XCTAssertGreaterThanOrEqual(index, 50)
        XCTAssertEqual(h.machines[follower.id]!.value("k49"), "49", "a read after readIndex sees every acknowledged write")
        await h.shutdown()
    }

    func testConcurrentProposersAreBatchedAndAllApplied() async throws {
        let h = try await Harness.make(ids: [1, 2, 3])
        let leader = try await XCTUnwrapAsync(try await h.leader())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<32 {
                group.addTask {
                    for i in 0..<20 { _ = try await leader.propose(Array("w\(worker)-\(i)=v".utf8)) }
                }
            }
            try await group.waitForAll()
        }
        let ok = try await waitUntil { h.machines.values.allSatisfy { $0.contents.count == 640 } }
        XCTAssertTrue(ok, "every node applied all 640 writes")
        await h.shutdown()
    }

    func testLeaderLossElectsANewLeaderAndKeepsAcknowledgedWrites() async throws {
        let h = try await Harness.make(ids: [1, 2, 3])
        let old = try await XCTUnwrapAsync(try await h.leader())
        for i in 0..<10 { _ = try await old.propose(Array("a\(i)=1".utf8)) }
        h.hub.isolate(old.id)
        var newLeader: ClusterNode?
        _ = try await waitUntil { newLeader = h.nodes.values.first { $0.id != old.id && $0.status.role == .leader }; return newLeader != nil }
        let leader = try XCTUnwrap(newLeader)
        _ = try await leader.propose(Array("after=1".utf8))
        h.hub.healAll()
        let converged = try await waitUntil { h.machines.values.allSatisfy { $0.contents.count == 11 } }
        XCTAssertTrue(converged)
        XCTAssertNotEqual(old.status.role, .leader)
        await h.shutdown()
    }

    func testSnapshotsCompactAndALaggingFollowerCatchesUpBySnapshot() async throws {
        let h = try await Harness.make(ids: [1, 2, 3]) { config in
            config.snapshotEveryEntries = 50
            config.snapshotTrailingEntries = 5
        }
        let leader = try await XCTUnwrapAsync(try await h.leader())
        let lagging = h.ids.first { $0 != leader.id }!
        h.hub.isolate(lagging)
        for i in 0..<300 { _ = try await leader.propose(Array("s\(i)=\(i)".utf8)) }
        XCTAssertGreaterThan(leader.status.snapshotIndex, 200, "the leader compacted its log")
        h.hub.healAll()
        let caughtUp = try await waitUntil { h.machines[lagging]!.contents.count == 300 }
        XCTAssertTrue(caughtUp, "the lagging follower caught up (by snapshot)")
        await h.shutdown()
    }

    func testRestartRecoversFromPersistence() async throws {
        var h = try await Harness.make(ids: [1, 2, 3]) { $0.snapshotEveryEntries = 20 }
        let leader = try await XCTUnwrapAsync(try await h.leader())
        for i in 0..<45 { _ = try await leader.propose(Array("r\(i)=\(i)".utf8)) }
        await h.shutdown()
        h.hub = InMemoryNetwork(inboxMaxMessages: 100_000)
        for id in h.ids { try await h.start(id) }
        let recovered = try await waitUntil { h.machines.values.allSatisfy { $0.contents.count == 45 } }
        XCTAssertTrue(recovered)
        await h.shutdown()
    }
}

func XCTUnwrapAsync<T>(_ value: T?, file: StaticString = #filePath, line: UInt = #line) async throws -> T {
    try XCTUnwrap(value, file: file, line: line)
}
