@testable import API
import APIModels
import Backup
import Engine
import Hummingbird
import HummingbirdTesting
import NIOCore
import Workflow
import XCTest

/// `GET /v1/snapshot`: the leader streams a backup file of its engine state after a read
/// barrier; a follower sends the client to the leader; without a leader nothing is taken.
final class SnapshotRouteTests: XCTestCase {
    func testLeaderStreamsABackupOfItsEngineState() async throws {
        var settings = APISettings()
        settings.clusterID = "prod"
        let fixture = Fixture(settings: settings)
        try await fixture.test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "a")
            try await client.start("cookbook", id: "b")
            _ = try await client.call(.post, "/v1/instances/b/transitions", #"{"transition":"second"}"#)
            try await client.execute(uri: "/v1/snapshot", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/octet-stream")
                let bytes = Array(buffer: response.body)
                XCTAssertEqual(response.headers[.contentLength], String(bytes.count))
                let (backup, body) = try BackupReader.read(bytes: bytes)
                XCTAssertEqual(response.headers[APIServer.snapshotSHA256Header], backup.sha256)
                XCTAssertEqual(response.headers[APIServer.snapshotIndexHeader], "4")
                XCTAssertEqual(body, fixture.engine.snapshot().bytes, "the body is the engine snapshot, byte for byte")
                let metadata = backup.metadata
                XCTAssertEqual(metadata.clusterID, "prod")
                XCTAssertEqual(metadata.index, 4)
                XCTAssertEqual(metadata.term, 7)
                XCTAssertEqual(metadata.node, 1)
                XCTAssertEqual(metadata.members.map(\.id), [1, 2, 3])
                XCTAssertEqual(metadata.members.first?.raft, "127.0.0.1:7080")
                XCTAssertEqual(metadata.workflows, 1)
                XCTAssertEqual(metadata.instances, 2)
                XCTAssertEqual(metadata.historyEntries, 3)
                XCTAssertEqual(metadata.createdAtMillis, 1_800_000_000_123, "the node's clock")
                XCTAssertEqual(metadata.serverVersion, ServerVersion.current)
                let restored = try EngineState(restoring: body)
                XCTAssertEqual(restored.instance(id: "b")?.state, "second")
            }
        }
    }

    func testFollowerRedirectsToTheLeader() async throws {
        try await Fixture(behaviour: .follow, node: 2, leaderAPI: "http://127.0.0.1:8081").test { client in
            let answer = try await client.call(.get, "/v1/snapshot?x=1")
            XCTAssertEqual(answer.status, .temporaryRedirect)
            XCTAssertEqual(answer.headers[.location], "http://127.0.0.1:8081/v1/snapshot?x=1")
            XCTAssertEqual(answer.code, "not_leader")
            XCTAssertEqual(answer.details["leader_api"]?.stringValue, "http://127.0.0.1:8081")
        }
    }

    func testWithoutALeaderNothingIsTaken() async throws {
        try await Fixture(behaviour: .follow, node: 2).test { client in
            let answer = try await client.call(.get, "/v1/snapshot")
            XCTAssertEqual(answer.status, .serviceUnavailable)
            XCTAssertEqual(answer.code, "no_leader")
        }
    }

    func testUnconfirmedReadPointTakesNothing() async throws {
        try await Fixture(behaviour: .failReads(.readUnavailable(reason: "no quorum"))).test { client in
            let answer = try await client.call(.get, "/v1/snapshot")
            XCTAssertEqual(answer.status, .serviceUnavailable)
            XCTAssertEqual(answer.code, "read_unavailable")
        }
    }
}
