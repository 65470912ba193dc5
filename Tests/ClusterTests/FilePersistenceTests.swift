import Cluster
import Foundation
import Raft
import RaftStorage
import RaftTransport
import XCTest

final class FilePersistenceTests: XCTestCase {
    private var directory: String!

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-fp-\(UUID().uuidString)").path
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func startNode(network: InMemoryNetwork, snapshotEvery: Int) async throws -> (ClusterNode, KeyValueMachine) {
        let persistence = try FilePersistence(store: FileLogStore.open(directory: directory))
        if persistence.isEmpty { try persistence.bootstrap(.bootstrap([1])) }
        var config = ClusterConfig(nodeID: 1)
        config.tickMillis = 10
        config.snapshotEveryEntries = snapshotEvery
        config.snapshotTrailingEntries = 3
        let machine = KeyValueMachine()
        let transport = network.transport(for: 1)
        try await transport.start()
        let node = try ClusterNode(config: config, persistence: persistence, transport: transport,
                                   stateMachine: machine, addresses: [:])
        node.start()
        return (node, machine)
    }

    func testANodeOnTheWALRecoversEverythingAcrossRestarts() async throws {
        let network = InMemoryNetwork()
        var (node, _) = try await startNode(network: network, snapshotEvery: 25)
        _ = try await waitUntil { node.status.role == .leader }
        for i in 0..<60 { _ = try await node.propose(Array("k\(i)=\(i)".utf8)) }
        // Snapshots are written off the node loop: the first may still be on its way.
        let compacted = try await waitUntil { node.status.snapshotIndex > 0 }
        XCTAssertTrue(compacted, "snapshots were taken and the log compacted")
        await node.shutdown()

        let machine: KeyValueMachine
        (node, machine) = try await startNode(network: network, snapshotEvery: 25)
        _ = try await waitUntil { node.status.role == .leader }
        let recovered = try await waitUntil { machine.contents.count == 60 }
        XCTAssertTrue(recovered, "snapshot plus log replay restored all 60 keys")
        XCTAssertEqual(machine.value("k59"), "59")
        let next = try await node.propose(Array("k0=again".utf8))
        XCTAssertEqual(next.result as? [UInt8], Array("0".utf8))
        await node.shutdown()
    }

    func testACommitIndexSavedWithoutSyncIsStillOnDiskAfterAReopen() throws {
        let store = try FileLogStore.open(directory: directory)
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 0),
                       entries: [StoredEntry(index: 1, term: 1, kind: 0, payload: [1]), StoredEntry(index: 2, term: 1, kind: 0, payload: [2])])
        try store.save(hardState: StoredHardState(term: 1, vote: 1, commit: 2), entries: [], sync: false)
        XCTAssertEqual(store.hardState.commit, 2)
        store.close()
        let reopened = try FileLogStore.open(directory: directory)
        XCTAssertEqual(reopened.hardState, StoredHardState(term: 1, vote: 1, commit: 2))
        reopened.close()
    }

    func testMembershipSurvivesInSnapshotMetadata() throws {
        var persistence: FilePersistence? = try FilePersistence(store: FileLogStore.open(directory: directory))
        try persistence!.bootstrap(.bootstrap([1, 2, 3]))
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 3, term: 1, configuration: Configuration(voters: [1, 2], learners: [3])),
                                data: [1, 2, 3])
        try persistence!.saveLocalSnapshot(snapshot)
        persistence!.close()
        persistence = nil
        let reopened = try FilePersistence(store: FileLogStore.open(directory: directory))
        XCTAssertEqual(reopened.initialState().snapshot, snapshot)
        XCTAssertEqual(reopened.initialState().entries, [])
    }
}
