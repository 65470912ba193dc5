@testable import API
import Engine
import Hummingbird
import HummingbirdTesting
import Workflow
import XCTest

final class InstanceRouteTests: XCTestCase {
    func testStartInstanceAnswers201WithItsInitialState() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            try await client.register("cookbook", Definitions.cookbook)
            let answer = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"demo"}"#)
            XCTAssertEqual(answer.status, .created)
            XCTAssertEqual(answer.text, #"{"id":"demo","index":2,"state":"first","version":1,"workflow":"cookbook"}"# + "\n")
        }
        XCTAssertEqual(fixture.consensus.stamps.last, 1_800_000_000_123, "commands are stamped once, by the consensus (the leader's clock)")
    }

    func testStartWithoutIDNamesTheInstanceAfterTheRequestID() async throws {
        try await Fixture().test { client in
            try await client.register("cookbook", Definitions.cookbook)
            let first = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","request_id":"req-7"}"#)
            XCTAssertEqual(first.status, .created)
            XCTAssertEqual(first["id"]?.stringValue, "req-7")
            // A retry with the same request id returns the first outcome, not instance_exists.
            let retry = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","request_id":"req-7"}"#)
            XCTAssertEqual(retry.status, .created)
            XCTAssertEqual(retry.text, first.text)
            let generated = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook"}"#)
            XCTAssertEqual(generated.status, .created)
            XCTAssertTrue(generated["id"]?.stringValue?.hasPrefix("r-") == true, generated.text)
        }
    }

    func testStartRejectionsHaveStableCodes() async throws {
        try await Fixture().test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "demo")
            let exists = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"demo"}"#)
            XCTAssertEqual(exists.status, .conflict)
            XCTAssertEqual(exists.code, "instance_exists")
            let unknown = try await client.call(.post, "/v1/instances", #"{"workflow":"nope","id":"x"}"#)
            XCTAssertEqual(unknown.status, .notFound)
            XCTAssertEqual(unknown.code, "unknown_workflow")
            let badID = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"has space"}"#)
            XCTAssertEqual(badID.status, .badRequest)
            XCTAssertEqual(badID.code, "invalid_argument")
            XCTAssertEqual(badID.details["field"]?.stringValue, "id")
            let longID = String(repeating: "a", count: 129)
            let tooLong = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"\#(longID)"}"#)
            XCTAssertEqual(tooLong.details["field"]?.stringValue, "id")
            let noWorkflow = try await client.call(.post, "/v1/instances", #"{"id":"x"}"#)
            XCTAssertEqual(noWorkflow.details["field"]?.stringValue, "workflow")
            let badData = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","data":[1]}"#)
            XCTAssertEqual(badData.details["field"]?.stringValue, "data")
            let typo = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","dta":{}}"#)
            XCTAssertEqual(typo.status, .badRequest)
            XCTAssertEqual(typo.details["field"]?.stringValue, "dta")
        }
    }

    func testTransitionMovesTheInstanceAndMergesData() async throws {
        try await Fixture().test { client in
            try await client.register("order", Definitions.order)
            try await client.start("order", id: "o-17")
            let moved = try await client.call(.post, "/v1/instances/o-17/transitions",
                                              #"{"transition":"pay","data":{"paid_by":"card"},"request_id":"pay-1"}"#)
            XCTAssertEqual(moved.status, .ok)
            XCTAssertEqual(moved.text,
                           #"{"from":"created","id":"o-17","index":3,"revision":2,"state":"paid","to":"paid","transition":"pay"}"# + "\n")
            let instance = try await client.call(.get, "/v1/instances/o-17")
            XCTAssertEqual(instance.status, .ok)
            XCTAssertEqual(instance["state"]?.stringValue, "paid")
            XCTAssertEqual(instance["data"], .object(["priority": .string("normal"), "paid_by": .string("card")]))
            XCTAssertEqual(instance["revision"]?.numberValue, 2)
            XCTAssertEqual(instance["updated_at"]?.stringValue, "2027-01-15T08:00:00.123Z")
            // By target state.
            let byState = try await client.call(.post, "/v1/instances/o-17/transitions", #"{"to":"cancelled"}"#)
            XCTAssertEqual(byState.status, .ok)
            XCTAssertEqual(byState["transition"]?.stringValue, "cancel")
        }
    }

    func testTransitionRejectionsHaveStableCodesAndDetails() async throws {
        try await Fixture().test { client in
            try await client.register("order", Definitions.order)
            try await client.start("order", id: "o-1")
            let notAllowed = try await client.call(.post, "/v1/instances/o-1/transitions", #"{"transition":"cancel","expect":"paid"}"#)
            XCTAssertEqual(notAllowed.status, .conflict)
            XCTAssertEqual(notAllowed.code, "expectation_failed")
            XCTAssertEqual(notAllowed.details["actual"]?.stringValue, "created")

            let unknown = try await client.call(.post, "/v1/instances/ghost/transitions", #"{"transition":"pay"}"#)
            XCTAssertEqual(unknown.status, .notFound)
            XCTAssertEqual(unknown.code, "unknown_instance")

            let noSuchTransition = try await client.call(.post, "/v1/instances/o-1/transitions", #"{"transition":"ship"}"#)
            XCTAssertEqual(noSuchTransition.status, .unprocessableContent)
            XCTAssertEqual(noSuchTransition.code, "unknown_transition")

            _ = try await client.call(.post, "/v1/instances/o-1/transitions", #"{"transition":"pay"}"#)
            let again = try await client.call(.post, "/v1/instances/o-1/transitions", #"{"transition":"pay"}"#)
            XCTAssertEqual(again.status, .conflict)
            XCTAssertEqual(again.code, "transition_not_allowed")
            XCTAssertEqual(again.details["allowed"], .array([.string("cancel")]))

            _ = try await client.call(.post, "/v1/instances/o-1/transitions", #"{"transition":"cancel"}"#)
            let final = try await client.call(.post, "/v1/instances/o-1/transitions", #"{"transition":"pay"}"#)
            XCTAssertEqual(final.status, .conflict)
            XCTAssertEqual(final.code, "instance_final")
        }
    }

    func testBadRequestBodiesAre400NamingTheField() async throws {
        try await Fixture().test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "demo")
            let junk = try await client.call(.post, "/v1/instances/demo/transitions", #"{"transition": second}"#)
            XCTAssertEqual(junk.status, .badRequest)
            XCTAssertEqual(junk.code, "bad_json")
            XCTAssertTrue(junk["error"]?.objectValue?["message"]?.stringValue?.contains("byte 15") == true, junk.text)
            let empty = try await client.call(.post, "/v1/instances/demo/transitions", "")
            XCTAssertEqual(empty.code, "bad_json")
            let array = try await client.call(.post, "/v1/instances/demo/transitions", "[]")
            XCTAssertEqual(array.code, "bad_json")
            let neither = try await client.call(.post, "/v1/instances/demo/transitions", "{}")
            XCTAssertEqual(neither.code, "invalid_argument")
            XCTAssertEqual(neither.details["field"]?.stringValue, "transition")
            let wrongType = try await client.call(.post, "/v1/instances/demo/transitions", #"{"transition":2}"#)
            XCTAssertEqual(wrongType.details["field"]?.stringValue, "transition")
            let badRequestID = try await client.call(.post, "/v1/instances/demo/transitions",
                                                     #"{"transition":"second","request_id":"a/b"}"#)
            XCTAssertEqual(badRequestID.details["field"]?.stringValue, "request_id")
            let badPathID = try await client.call(.post, "/v1/instances/bad%20id/transitions", #"{"transition":"second"}"#)
            XCTAssertEqual(badPathID.status, .badRequest)
            XCTAssertEqual(badPathID.details["field"]?.stringValue, "id")
            let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
            let tooDeep = try await client.call(.post, "/v1/instances/demo/transitions", #"{"transition":"second","data":{"x":\#(deep)}}"#)
            XCTAssertEqual(tooDeep.code, "bad_json")
        }
    }

    func testBodyOverTheLimitIs413() async throws {
        try await Fixture(settings: APISettings(bodyBytesMax: 64)).test { client in
            let body = #"{"workflow":"cookbook","data":{"blob":"\#(String(repeating: "x", count: 100))"}}"#
            let answer = try await client.call(.post, "/v1/instances", body)
            XCTAssertEqual(answer.status, .contentTooLarge)
            XCTAssertEqual(answer.code, "body_too_large")
            XCTAssertEqual(answer.details["limit_bytes"]?.numberValue, 64)
        }
    }

    func testHistoryListsEntriesInLogOrder() async throws {
        try await Fixture().test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "demo")
            for (step, name) in ["second", "third", "first"].enumerated() {
                let answer = try await client.call(.post, "/v1/instances/demo/transitions",
                                                   #"{"transition":"\#(name)","request_id":"step-\#(step)"}"#)
                XCTAssertEqual(answer.status, .ok, answer.text)
            }
            let history = try await client.call(.get, "/v1/instances/demo/history")
            XCTAssertEqual(history.status, .ok)
            let entries = history["entries"]?.arrayValue ?? []
            XCTAssertEqual(entries.map { $0.objectValue?["type"]?.stringValue }, ["start", "transition", "transition", "transition"])
            XCTAssertEqual(entries.map { $0.objectValue?["to"]?.stringValue }, ["first", "second", "third", "first"])
            XCTAssertEqual(entries.map { $0.objectValue?["index"]?.numberValue }, [2, 3, 4, 5])
            XCTAssertEqual(entries[1].objectValue?["request_id"]?.stringValue, "step-0")
            XCTAssertEqual(entries[1].objectValue?["from"]?.stringValue, "first")
            XCTAssertEqual(entries[0].objectValue?["from"], .null, "start has from: null")
            XCTAssertEqual(entries[0].objectValue?["at"]?.stringValue, "2027-01-15T08:00:00.123Z")
            let unknown = try await client.call(.get, "/v1/instances/ghost/history")
            XCTAssertEqual(unknown.code, "unknown_instance")
        }
    }

    func testListingPagesAndFilters() async throws {
        try await Fixture().test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.register("order", Definitions.order)
            for number in 0..<5 { try await client.start("cookbook", id: "c-\(number)") }
            try await client.start("order", id: "o-1")
            _ = try await client.call(.post, "/v1/instances/c-3/transitions", #"{"transition":"second"}"#)

            let first = try await client.call(.get, "/v1/instances?limit=2")
            XCTAssertEqual(first["instances"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue }, ["c-0", "c-1"])
            let cursor = try XCTUnwrap(first["next_cursor"]?.stringValue)
            let second = try await client.call(.get, "/v1/instances?limit=10&cursor=\(cursor)")
            XCTAssertEqual(second["instances"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue },
                           ["c-2", "c-3", "c-4", "o-1"])
            XCTAssertEqual(second["next_cursor"], .null)
            let filtered = try await client.call(.get, "/v1/instances?workflow=cookbook&state=second")
            XCTAssertEqual(filtered["instances"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue }, ["c-3"])

            for bad in ["limit=0", "limit=1001", "limit=x", "cursor=-1", "colour=red", "stale=maybe"] {
                let answer = try await client.call(.get, "/v1/instances?\(bad)")
                XCTAssertEqual(answer.status, .badRequest, bad)
                XCTAssertEqual(answer.code, "invalid_argument", bad)
                XCTAssertEqual(answer.details["field"]?.stringValue, String(bad.prefix { $0 != "=" }), bad)
            }
        }
    }

    func testUnknownInstanceIs404() async throws {
        try await Fixture().test { client in
            let answer = try await client.call(.get, "/v1/instances/ghost")
            XCTAssertEqual(answer.status, .notFound)
            XCTAssertEqual(answer.code, "unknown_instance")
            XCTAssertEqual(answer.details["instance"]?.stringValue, "ghost")
        }
    }
}
