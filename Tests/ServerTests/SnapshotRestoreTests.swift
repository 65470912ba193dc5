import Engine
import Foundation
@testable import Server
import Workflow
import XCTest

/// `SnapshotRestore`: a backup's engine state becomes the data directory of a node of a new
/// cluster, which a server opened on it starts from; bad input is refused before anything is
/// written.
final class SnapshotRestoreTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// An engine at index 3: the cookbook ring and instance `demo`, moved to `second`.
    private func engineState() throws -> EngineState {
        let yaml = "workflow: cookbook\ninitial: first\nstates:\n  first: {}\n  second: {}\ntransitions:\n  second: { from: first, to: second }\n"
        let definition = try XCTUnwrap(WorkflowLoader.load(text: yaml, file: "cookbook.yaml").definition)
        var state = EngineState()
        _ = state.apply(index: 1, command: .registerWorkflow(RegisterWorkflow(definition: definition)))
        _ = state.apply(index: 2, command: .startInstance(StartInstance(workflow: "cookbook", id: "demo")))
        _ = state.apply(index: 3, command: .transition(TransitionRequest(instance: "demo", name: "second")))
        return state
    }

    private func source(_ state: EngineState, term: UInt64 = 5) -> SnapshotRestore.Source {
        SnapshotRestore.Source(engineSnapshot: state.snapshot(), index: state.appliedIndex, term: term,
                               workflows: state.workflowCount, instances: state.instanceCount,
                               historyEntries: state.historyEntryCount)
    }

    private func config(_ directory: String, node: UInt64 = 1) -> ServerConfig {
        var config = ServerConfig()
        config.nodeID = node
        config.clusterID = "restored-test"
        config.dataDirectory = directory
        return config
    }

    /// Opens a server on `config` (not run), hands it to `body`, then closes what it opened.
    private func withServer(_ config: ServerConfig, _ body: (OrchestratorServer) throws -> Void) async throws {
        let server = try OrchestratorServer(config: config)
        do {
            try body(server)
        } catch {
            await server.api.shutdown()
            await server.node.shutdown()
            throw error
        }
        await server.api.shutdown()
        await server.node.shutdown()
    }

    func testRestoredDirectoryStartsANodeHoldingTheState() async throws {
        let state = try engineState()
        let directory = root + "/data"
        let restored = try SnapshotRestore.restore(source(state), into: config(directory))
        XCTAssertEqual(restored, SnapshotRestore.Restored(index: 3, term: 5, voters: [1], workflows: 1, instances: 1, historyEntries: 2))
        XCTAssertEqual(FileManager.default.contents(atPath: directory + "/identity"), Data("cluster=restored-test\nnode=1\n".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["data"], "nothing left beside it")

        try await withServer(config(directory)) { server in
            XCTAssertEqual(server.engine.instance(id: "demo")?.state, "second")
            XCTAssertEqual(server.engine.appliedIndex, 3)
            XCTAssertEqual(server.engine.history(of: "demo")?.entries.count, 2)
            XCTAssertEqual(server.node.status.configuration.voters, [1])
            XCTAssertEqual(server.node.status.term, 5)
            XCTAssertEqual(server.node.status.commitIndex, 3)
            XCTAssertEqual(server.node.status.addresses[1]?.api, "http://127.0.0.1:8080")
        }
    }

    func testPeersBecomeTheVotersAndTheirAddressesAreKnown() async throws {
        var settings = config(root + "/data", node: 2)
        settings.raftAddress = .init(host: "127.0.0.1", port: 7082)
        settings.peers[1] = try ServerConfig.parsePeer("1=127.0.0.1:7081,127.0.0.1:8081").1
        settings.peers[3] = try ServerConfig.parsePeer("3=127.0.0.1:7083,127.0.0.1:8083").1
        let restored = try SnapshotRestore.restore(source(try engineState()), into: settings)
        XCTAssertEqual(restored.voters, [1, 2, 3])
        try await withServer(settings) { server in
            XCTAssertEqual(server.node.status.configuration.voters, [1, 2, 3])
            XCTAssertEqual(server.node.status.addresses[3]?.api, "http://127.0.0.1:8083")
        }
    }

    func testEmptyExistingDirectoryIsUsedAndNonEmptyOneRefused() throws {
        let empty = root + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        XCTAssertNoThrow(try SnapshotRestore.restore(source(try engineState()), into: config(empty)))
        XCTAssertThrowsError(try SnapshotRestore.restore(source(try engineState()), into: config(empty))) { error in
            XCTAssertTrue("\(error)".contains("is not empty (it holds identity, raft)"), "\(error)")
        }
    }

    func testStateThatDoesNotMatchItsMetadataIsRefusedAndNothingWritten() throws {
        let state = try engineState()
        var wrongIndex = source(state)
        wrongIndex.index = 9
        var wrongCount = source(state)
        wrongCount.instances = 2
        var garbage = source(state)
        garbage.engineSnapshot = Array("not an engine snapshot".utf8)
        for (bad, expected) in [(wrongIndex, "at index 3 but the file's metadata says 9"), (wrongCount, "holds 1 workflows, 1 instances"),
                                (garbage, "cannot be restored")] {
            XCTAssertThrowsError(try SnapshotRestore.restore(bad, into: config(root + "/data"))) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
    }

    func testEmptyClusterSnapshotRestoresAtIndexOne() async throws {
        let state = EngineState()
        let restored = try SnapshotRestore.restore(source(state, term: 0), into: config(root + "/data"))
        XCTAssertEqual(restored.index, 1)
        XCTAssertEqual(restored.term, 1)
        try await withServer(config(root + "/data")) { server in XCTAssertEqual(server.node.status.commitIndex, 1) }
    }
}
