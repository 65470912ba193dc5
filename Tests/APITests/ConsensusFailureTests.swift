@testable import API
import Engine
import Hummingbird
import HummingbirdTesting
import Workflow
import XCTest

final class ConsensusFailureTests: XCTestCase {
    func testWriteWithoutALeaderIs503WithRetryAfter() async throws {
        try await Fixture(behaviour: .follow).test { client in
            let answer = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"x"}"#)
            XCTAssertEqual(answer.status, .serviceUnavailable)
            XCTAssertEqual(answer.code, "no_leader")
            XCTAssertEqual(answer.headers[.retryAfter], "1")
            let put = try await client.call(.put, "/v1/workflows/cookbook", Definitions.cookbook)
            XCTAssertEqual(put.code, "no_leader", put.text)
            let admin = try await client.call(.post, "/v1/cluster/transfer-leader", #"{"to":2}"#)
            XCTAssertEqual(admin.code, "no_leader")
        }
    }

    func testLinearizableReadWithoutALeaderIs503ButStaleReadAnswers() async throws {
        let engine = ReplicatedEngine()
        let (definition, _) = WorkflowLoader.load(text: Definitions.cookbook, file: "cookbook.yaml")
        _ = engine.apply(index: 1, term: 1, command: .registerWorkflow(RegisterWorkflow(definition: definition!)))
        _ = engine.apply(index: 2, term: 1, command: .startInstance(StartInstance(workflow: "cookbook", id: "demo")))
        try await Fixture(behaviour: .follow, engine: engine).test { client in
            let linearizable = try await client.call(.get, "/v1/instances/demo")
            XCTAssertEqual(linearizable.status, .serviceUnavailable)
            XCTAssertEqual(linearizable.code, "no_leader")
            let stale = try await client.call(.get, "/v1/instances/demo?stale=true")
            XCTAssertEqual(stale.status, .ok)
            XCTAssertEqual(stale["state"]?.stringValue, "first")
            let staleList = try await client.call(.get, "/v1/instances?stale=true")
            XCTAssertEqual(staleList["instances"]?.arrayValue?.count, 1)
            let staleHistory = try await client.call(.get, "/v1/instances/demo/history?stale=1")
            XCTAssertEqual(staleHistory.status, .ok)
        }
    }

    func testUnknownOutcomeIs504AndARetryWithTheSameRequestIDReturnsTheRealOutcome() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "demo")
            fixture.consensus.set(.loseOutcomes(count: 1))
            let body = #"{"transition":"second","request_id":"move-1"}"#
            let lost = try await client.call(.post, "/v1/instances/demo/transitions", body)
            XCTAssertEqual(lost.status, .gatewayTimeout, "never 404 or 409: the move may have happened")
            XCTAssertEqual(lost.code, "outcome_unknown")
            XCTAssertEqual(lost.details["request_id"]?.stringValue, "move-1")
            let retried = try await client.call(.post, "/v1/instances/demo/transitions", body)
            XCTAssertEqual(retried.status, .ok, retried.text)
            XCTAssertEqual(retried["to"]?.stringValue, "second")
            let history = try await client.call(.get, "/v1/instances/demo/history")
            XCTAssertEqual(history["entries"]?.arrayValue?.count, 2, "applied exactly once")
        }
    }

    func testFollowerForwardsWritesToTheLeaderWithOneRequestID() async throws {
        let leader = Fixture()
        try await leader.live { leaderClient in
            let port = try XCTUnwrap(leaderClient.port)
            try await leaderClient.register("cookbook", Definitions.cookbook)
            let follower = Fixture(behaviour: .follow, node: 2, leaderAPI: "localhost:\(port)")
            try await follower.test { client in
                // No request id from the client: the follower makes one and the leader uses it.
                let started = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook"}"#)
                XCTAssertEqual(started.status, .created, started.text)
                let id = try XCTUnwrap(started["id"]?.stringValue)
                XCTAssertTrue(id.hasPrefix("r-"), "the instance is named after the follower's request id: \(id)")

                let moved = try await client.call(.post, "/v1/instances/\(id)/transitions", #"{"transition":"second"}"#)
                XCTAssertEqual(moved.status, .ok, moved.text)
                let refused = try await client.call(.post, "/v1/instances/\(id)/transitions", #"{"transition":"second"}"#)
                XCTAssertEqual(refused.status, .conflict, "the leader's rejection is passed back as it is")
                XCTAssertEqual(refused.code, "transition_not_allowed")

                let put = try await client.call(.put, "/v1/workflows/cookbook", Definitions.cookbook)
                XCTAssertEqual(put.status, .ok, put.text)
                let admin = try await client.call(.post, "/v1/cluster/transfer-leader", #"{"to":2}"#)
                XCTAssertEqual(admin.status, .ok, admin.text)
                XCTAssertEqual(admin["node"]?.numberValue, 1, "answered by the leader")
            }
            let history = try await leaderClient.call(.get, "/v1/instances?workflow=cookbook")
            XCTAssertEqual(history["instances"]?.arrayValue?.count, 1)
        }
        XCTAssertEqual(leader.consensus.members.count, 3)
    }

    func testAForwardedRequestIsNeverForwardedAgain() async throws {
        // A follower that believes the leader is at an address that would loop back.
        try await Fixture(behaviour: .follow, node: 2, leaderAPI: "127.0.0.1:1").test { client in
            let answer = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"x"}"#,
                                               headers: [Forwarder.forwardedHeader: "3"])
            XCTAssertEqual(answer.status, .serviceUnavailable)
            XCTAssertEqual(answer.code, "no_leader")
        }
    }

    func testAnUnreachableLeaderIs503NoLeader() async throws {
        try await Fixture(behaviour: .follow, node: 2, leaderAPI: "127.0.0.1:1").test { client in
            let answer = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"x"}"#)
            XCTAssertEqual(answer.status, .serviceUnavailable, answer.text)
            XCTAssertEqual(answer.code, "no_leader")
        }
    }
}
