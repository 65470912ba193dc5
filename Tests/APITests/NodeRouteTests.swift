@testable import API
import Engine
import Hummingbird
import HummingbirdTesting
import Workflow
import XCTest

final class NodeRouteTests: XCTestCase {
    func testHealthAnswersAlsoWithoutALeader() async throws {
        try await Fixture(behaviour: .follow, node: 2).test { client in
            let answer = try await client.call(.get, "/v1/health")
            XCTAssertEqual(answer.status, .ok)
            XCTAssertEqual(answer.text,
                           #"{"applied_index":0,"commit_index":0,"leader":null,"leader_api":null,"node":2,"role":"follower","term":7}"# + "\n")
        }
    }

    func testClusterListsMembersWithRoles() async throws {
        try await Fixture().test { client in
            let answer = try await client.call(.get, "/v1/cluster")
            XCTAssertEqual(answer.status, .ok)
            XCTAssertEqual(answer["leader"]?.numberValue, 1)
            let members = answer["members"]?.arrayValue ?? []
            XCTAssertEqual(members.count, 3)
            XCTAssertEqual(members.first?.objectValue?["is_leader"], .bool(true))
            XCTAssertEqual(members.first?.objectValue?["role"]?.stringValue, "voter")
            XCTAssertEqual(members.first?.objectValue?["api"]?.stringValue, "127.0.0.1:8080")
        }
    }

    func testMetricsServesPrometheusText() async throws {
        try await Fixture().test { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "text/plain; version=0.0.4; charset=utf-8")
                XCTAssertTrue(String(buffer: response.body).contains("orchestrator_up 1"))
            }
        }
    }

    func testUnknownRouteIsJSON404() async throws {
        try await Fixture().test { client in
            let answer = try await client.call(.get, "/v1/nothing")
            XCTAssertEqual(answer.status, .notFound)
            XCTAssertEqual(answer.code, "not_found")
        }
    }

    func testMembershipAdminChangesTheClusterAndAnswersWithIt() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            let added = try await client.call(.post, "/v1/cluster/members",
                                              #"{"id":4,"raft":"127.0.0.1:7083","api":"127.0.0.1:8083","learner":true}"#)
            XCTAssertEqual(added.status, .ok, added.text)
            let learner = added["members"]?.arrayValue?.first { $0.objectValue?["id"]?.numberValue == 4 }
            XCTAssertEqual(learner?.objectValue?["role"]?.stringValue, "learner")

            let promoted = try await client.call(.post, "/v1/cluster/members/4/promote")
            XCTAssertEqual(promoted.status, .ok, promoted.text)
            let again = try await client.call(.post, "/v1/cluster/members/4/promote")
            XCTAssertEqual(again.status, .conflict)
            XCTAssertEqual(again.code, "membership_conflict")

            let removed = try await client.call(.delete, "/v1/cluster/members/2")
            XCTAssertEqual(removed["members"]?.arrayValue?.count, 3)
            let unknown = try await client.call(.delete, "/v1/cluster/members/9")
            XCTAssertEqual(unknown.status, .notFound)
            XCTAssertEqual(unknown.code, "unknown_member")

            let badAddress = try await client.call(.post, "/v1/cluster/members", #"{"id":5,"raft":"nowhere","api":"127.0.0.1:8084"}"#)
            XCTAssertEqual(badAddress.status, .badRequest)
            XCTAssertEqual(badAddress.details["field"]?.stringValue, "raft")
            let badID = try await client.call(.post, "/v1/cluster/members", #"{"id":0,"raft":"h:1","api":"h:2"}"#)
            XCTAssertEqual(badID.details["field"]?.stringValue, "id")
            let badPath = try await client.call(.delete, "/v1/cluster/members/x")
            XCTAssertEqual(badPath.details["field"]?.stringValue, "id")
            let badTransfer = try await client.call(.post, "/v1/cluster/transfer-leader", #"{"to":"3"}"#)
            XCTAssertEqual(badTransfer.details["field"]?.stringValue, "to")

            let transferred = try await client.call(.post, "/v1/cluster/transfer-leader", #"{"to":3}"#)
            XCTAssertEqual(transferred["leader"]?.numberValue, 3)
            let notLeader = try await client.call(.delete, "/v1/cluster/members/3")
            XCTAssertEqual(notLeader.code, "no_leader", "a node that lost leadership refuses, nothing applied")
        }
        XCTAssertEqual(fixture.consensus.members.map(\.id), [1, 3, 4])
    }
}

extension NodeRouteTests {
    func testMembershipRefusalsAreConflictsWithTheirCodeAndNumbers() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            let added = try await client.call(.post, "/v1/cluster/members",
                                              #"{"id":4,"raft":"127.0.0.1:7083","api":"127.0.0.1:8083","learner":true}"#)
            XCTAssertEqual(added.status, .ok, added.text)
            fixture.consensus.markDown(4)
            let notReady = try await client.call(.post, "/v1/cluster/members/4/promote")
            XCTAssertEqual(notReady.status, .conflict, notReady.text)
            XCTAssertEqual(notReady.code, "learner_not_ready")
            XCTAssertEqual(notReady.details["member"]?.numberValue, 4)
            XCTAssertEqual(notReady.details["match_index"]?.numberValue, 0)
            XCTAssertEqual(notReady.details["lag_max_entries"]?.numberValue, 1_000)
            XCTAssertEqual(notReady.details["live"], .bool(false))
            XCTAssertEqual(notReady.details["applied"], .bool(false))
            XCTAssertNotNil(notReady.details["leader_last_index"]?.numberValue)

            fixture.consensus.markDown(3)
            let lose = try await client.call(.delete, "/v1/cluster/members/2")
            XCTAssertEqual(lose.status, .conflict, lose.text)
            XCTAssertEqual(lose.code, "would_lose_quorum")
            XCTAssertEqual(lose.details["voters_after"], .array([.number(1), .number(3)]))
            XCTAssertEqual(lose.details["live_voters"], .array([.number(1)]))
            XCTAssertEqual(lose.details["quorum"]?.numberValue, 2)
            let removeDown = try await client.call(.delete, "/v1/cluster/members/3")
            XCTAssertEqual(removeDown.status, .ok, removeDown.text)
        }
        XCTAssertEqual(fixture.consensus.members.map(\.id), [1, 2, 4])
    }

    /// A follower forwards `GET /v1/cluster` to the leader; when the leader cannot be asked
    /// (here: nothing listens at its address), or with `?local=true`, it answers itself.
    func testClusterOnAFollowerFallsBackToItsOwnViewWhenTheLeaderCannotBeAsked() async throws {
        // Port 1: privileged, nothing listens there, so the connection is refused.
        try await Fixture(behaviour: .follow, node: 2, leaderAPI: "127.0.0.1:1").test { client in
            let answer = try await client.call(.get, "/v1/cluster")
            XCTAssertEqual(answer.status, .ok, answer.text)
            XCTAssertEqual(answer["node"]?.numberValue, 2)
            let local = try await client.call(.get, "/v1/cluster?local=true")
            XCTAssertEqual(local["node"]?.numberValue, 2)
            let bad = try await client.call(.get, "/v1/cluster?locale=true")
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertEqual(bad.details["field"]?.stringValue, "locale")
        }
    }
}

final class WorkflowRouteTests: XCTestCase {
    func testPutRegistersAVersionAndAnUnchangedDefinitionIsANoOp() async throws {
        try await Fixture().test { client in
            let created = try await client.call(.put, "/v1/workflows/cookbook", Definitions.cookbook)
            XCTAssertEqual(created.status, .created)
            XCTAssertEqual(created["version"]?.numberValue, 1)
            XCTAssertEqual(created["created"], .bool(true))
            let unchanged = try await client.call(.put, "/v1/workflows/cookbook", Definitions.cookbook)
            XCTAssertEqual(unchanged.status, .ok)
            XCTAssertEqual(unchanged["created"], .bool(false))
            let changed = try await client.call(.put, "/v1/workflows/cookbook", Definitions.cookbook + "\ndescription: ring\n")
            XCTAssertEqual(changed.status, .created)
            XCTAssertEqual(changed["version"]?.numberValue, 2)
        }
    }

    func testRunningInstancesKeepTheirVersion() async throws {
        try await Fixture().test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "old")
            try await client.register("cookbook", Definitions.cookbook.replacingOccurrences(of: "third: {}", with: "third: {}\n  fourth: {}"))
            try await client.start("cookbook", id: "new")
            let old = try await client.call(.get, "/v1/instances/old")
            let new = try await client.call(.get, "/v1/instances/new")
            XCTAssertEqual(old["version"]?.numberValue, 1)
            XCTAssertEqual(new["version"]?.numberValue, 2)
        }
    }

    func testInvalidDefinitionIs422WithDiagnostics() async throws {
        try await Fixture().test { client in
            let broken = Definitions.cookbook.replacingOccurrences(of: "to: third }", with: "to: thrid }")
            let answer = try await client.call(.put, "/v1/workflows/cookbook", broken)
            XCTAssertEqual(answer.status, .unprocessableContent)
            XCTAssertEqual(answer.code, "invalid_definition")
            let diagnostic = answer.details["diagnostics"]?.arrayValue?.first?.objectValue
            XCTAssertEqual(diagnostic?["file"]?.stringValue, "cookbook.yaml")
            XCTAssertEqual(diagnostic?["line"]?.numberValue, 9)
            XCTAssertTrue(diagnostic?["message"]?.stringValue?.contains("thrid") == true, answer.text)

            let mismatch = try await client.call(.put, "/v1/workflows/other", Definitions.cookbook)
            XCTAssertEqual(mismatch.status, .unprocessableContent)
            XCTAssertEqual(mismatch.details["definition_name"]?.stringValue, "cookbook")
        }
    }

    func testListAndShowWorkflows() async throws {
        try await Fixture().test { client in
            try await client.register("order", Definitions.order)
            try await client.register("cookbook", Definitions.cookbook)
            let list = try await client.call(.get, "/v1/workflows")
            XCTAssertEqual(list["workflows"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue }, ["cookbook", "order"])
            let show = try await client.call(.get, "/v1/workflows/order")
            XCTAssertEqual(show.status, .ok)
            XCTAssertEqual(show["initial"]?.stringValue, "created")
            XCTAssertEqual(show["states"]?.arrayValue?.count, 3)
            XCTAssertEqual(show["versions"]?.arrayValue?.count, 1)
            XCTAssertNotNil(show["definition"]?.objectValue, show.text)
            let cancel = show["transitions"]?.arrayValue?.first { $0.objectValue?["name"]?.stringValue == "cancel" }
            XCTAssertEqual(cancel?.objectValue?["from"], .array([.string("created"), .string("paid")]))
            let unknown = try await client.call(.get, "/v1/workflows/nope")
            XCTAssertEqual(unknown.status, .notFound)
            XCTAssertEqual(unknown.code, "unknown_workflow")
        }
    }
}
