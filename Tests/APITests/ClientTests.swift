@testable import API
import Client
import Engine
import Hummingbird
import HummingbirdTesting
import Foundation
import XCTest

/// The typed client against a live API node on loopback.
final class ClientTests: XCTestCase {
    func testSeveralAddressesSkipANodeThatCannotBeReached() async throws {
        // A port nothing listens on: bind, read the port, close.
        let deadPort = unusedLoopbackPort()
        let fixture = Fixture()
        try await fixture.live { raw in
            let client = OrchestratorClient(baseURL: "127.0.0.1:\(deadPort), localhost:\(raw.port!)",
                                            configuration: .init(retry: RetryPolicy(deadlineSeconds: 0)))
            do {
                XCTAssertEqual(client.baseURLs, ["http://127.0.0.1:\(deadPort)", "http://localhost:\(raw.port!)"])
                let applied = try await client.applyWorkflow(name: "cookbook", yaml: Definitions.cookbook)
                XCTAssertTrue(applied.created, "the refused first address was skipped at once, without a retry")
                let started = try await client.start(workflow: "cookbook", id: "two")
                XCTAssertEqual(started.state, "first")
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    func testTypedCallsRoundTripEveryRoute() async throws {
        let fixture = Fixture()
        try await fixture.live { raw in
            let client = OrchestratorClient(baseURL: "localhost:\(raw.port!)")
            do {
                let health = try await client.health()
                XCTAssertEqual(health.node, 1)
                XCTAssertEqual(health.role, "leader")
                let applied = try await client.applyWorkflow(name: "cookbook", yaml: Definitions.cookbook)
                XCTAssertTrue(applied.created)
                let names = try await client.workflows().map(\.name)
                XCTAssertEqual(names, ["cookbook"])
                let cookbook = try await client.workflow("cookbook")
                XCTAssertEqual(cookbook.initial, "first")
                let started = try await client.start(workflow: "cookbook", id: "demo", data: ["who": "me", "n": 3])
                XCTAssertEqual(started.state, "first")
                let moved = try await client.submit(instance: "demo", transition: "second")
                XCTAssertEqual("\(moved.id): \(moved.from) → \(moved.to) (index \(moved.index))", "demo: first → second (index 3)")
                let byState = try await client.submit(instance: "demo", to: "third", expect: "second", data: ["n": nil])
                XCTAssertEqual(byState.transition, "third")
                let instance = try await client.instance("demo")
                XCTAssertEqual(instance.data, ["who": "me"])
                let stale = try await client.instance("demo", stale: true)
                XCTAssertEqual(stale.revision, 3)
                let page = try await client.instances(workflow: "cookbook", limit: 10)
                XCTAssertEqual(page.instances.map(\.id), ["demo"])
                XCTAssertNil(page.nextCursor)
                let history = try await client.history("demo")
                XCTAssertEqual(history.entries.map(\.type), ["start", "transition", "transition"])
                XCTAssertNotNil(history.entries[1].requestID, "the client generated a request id")
                let cluster = try await client.addMember(id: 4, raft: "127.0.0.1:7083", api: "127.0.0.1:8083", learner: true)
                XCTAssertEqual(cluster.members.first { $0.id == 4 }?.role, "learner")
                _ = try await client.promoteMember(id: 4)
                _ = try await client.removeMember(id: 4)
                let transferred = try await client.transferLeader(to: 2)
                XCTAssertEqual(transferred.leader, 2)
                let cluster2 = try await client.cluster()
                XCTAssertEqual(cluster2.members.count, 3)
            } catch {
                XCTFail("\(error)")
            }
            try await client.shutdown()
        }
    }

    func testRejectionsAreTypedWithCodeAndDetails() async throws {
        try await Fixture().live { raw in
            let client = OrchestratorClient(baseURL: "http://localhost:\(raw.port!)/")
            _ = try await client.applyWorkflow(name: "cookbook", yaml: Definitions.cookbook)
            _ = try await client.start(workflow: "cookbook", id: "demo")
            do {
                _ = try await client.submit(instance: "demo", transition: "third")
                XCTFail("expected a rejection")
            } catch ClientError.rejected(let status, let code, _, let details) {
                XCTAssertEqual(status, 409)
                XCTAssertEqual(code, "transition_not_allowed")
                XCTAssertEqual(details["allowed"], ["second"])
            }
            do {
                _ = try await client.applyWorkflow(name: "cookbook", yaml: "workflow: cookbook\n")
                XCTFail("expected a rejection")
            } catch ClientError.rejected(let status, let code, _, let details) {
                XCTAssertEqual(status, 422)
                XCTAssertEqual(code, "invalid_definition")
                XCTAssertFalse(details["diagnostics"]?.arrayValue?.isEmpty ?? true)
            }
            try await client.shutdown()
        }
    }

    func testSubmitRetriesWithTheSameRequestIDAfterAnUnknownOutcome() async throws {
        let fixture = Fixture()
        try await fixture.live { raw in
            let client = OrchestratorClient(baseURL: "localhost:\(raw.port!)",
                                            configuration: .init(retry: RetryPolicy(initialBackoffMillis: 1, maxBackoffMillis: 5)))
            _ = try await client.applyWorkflow(name: "cookbook", yaml: Definitions.cookbook)
            _ = try await client.start(workflow: "cookbook", id: "demo")
            fixture.consensus.set(.loseOutcomes(count: 3))
            let moved = try await client.submit(instance: "demo", transition: "second")
            XCTAssertEqual(moved.to, "second")
            let history = try await client.history("demo")
            XCTAssertEqual(history.entries.count, 2, "three lost answers, one transition")
            try await client.shutdown()
        }
    }

    func testUnavailableAfterTheDeadline() async throws {
        try await Fixture(behaviour: .follow).live { raw in
            let client = OrchestratorClient(baseURL: "localhost:\(raw.port!)",
                                            configuration: .init(retry: RetryPolicy(attemptsMax: 3, initialBackoffMillis: 1)))
            do {
                _ = try await client.start(workflow: "cookbook", id: "x")
                XCTFail("expected unavailable")
            } catch ClientError.unavailable(let code, _) {
                XCTAssertEqual(code, "no_leader")
            }
            try await client.shutdown()
        }
    }

    func testConnectionRefusedIsUnavailable() async throws {
        let client = OrchestratorClient(baseURL: "http://127.0.0.1:1", configuration: .init(retry: .none))
        do {
            _ = try await client.health()
            XCTFail("expected unavailable")
        } catch ClientError.unavailable(let code, _) {
            XCTAssertEqual(code, "connection_failed")
        }
        try await client.shutdown()
    }
}

/// A loopback port with nothing listening on it.
private func unusedLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
