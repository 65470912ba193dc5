@testable import API
import Hummingbird
import HummingbirdTesting
import Workflow
import XCTest

/// Every answer shape of the API, byte for byte: a change to a model or a view that changes
/// the wire (a key, a null, a number's spelling) fails here first.
final class WireFormatTests: XCTestCase {
    func testEveryAnswerIsWrittenByteForByteAsDocumented() async throws {
        try await Fixture().test { client in
            var seen: [(String, String)] = []
            func record(_ name: String, _ answer: Answer) { seen.append((name, answer.text)) }
            record("health", try await client.call(.get, "/v1/health"))
            record("cluster", try await client.call(.get, "/v1/cluster"))
            record("registered", try await client.call(.put, "/v1/workflows/cookbook", Definitions.cookbook,
                                                      headers: [.contentType: "application/yaml"]))
            record("order", try await client.call(.put, "/v1/workflows/order", Definitions.order,
                                                 headers: [.contentType: "application/yaml"]))
            record("started", try await client.call(.post, "/v1/instances",
                                                   #"{"workflow":"order","id":"o-1","request_id":"q-1","data":{"n":1.5,"s":"a\/b"}}"#))
            record("transitioned", try await client.call(.post, "/v1/instances/o-1/transitions",
                                                        #"{"transition":"pay","request_id":"q-2"}"#))
            record("instance", try await client.call(.get, "/v1/instances/o-1"))
            record("history", try await client.call(.get, "/v1/instances/o-1/history"))
            try await client.start("cookbook", id: "c-2")
            record("page", try await client.call(.get, "/v1/instances?limit=1"))
            record("last page", try await client.call(.get, "/v1/instances?limit=1&cursor=3"))
            record("workflow", try await client.call(.get, "/v1/workflows/cookbook"))
            record("workflows", try await client.call(.get, "/v1/workflows"))
            record("rejected", try await client.call(.post, "/v1/instances/o-1/transitions",
                                                    #"{"transition":"pay","request_id":"q-3"}"#))
            record("invalid", try await client.call(.put, "/v1/workflows/bad", "workflow: bad\n",
                                                   headers: [.contentType: "application/yaml"]))
            XCTAssertEqual(seen.map(\.0), Self.expected.map(\.0))
            for ((name, text), (_, expected)) in zip(seen, Self.expected) {
                XCTAssertEqual(text, expected + "\n", name)
            }
        }
    }

    /// The views for the shapes the routes still build inline (the instance page, the
    /// workflow list, the error envelope) write the same bytes, so a route can switch to them.
    func testViewsOfTheInlineShapesWriteWhatTheRoutesWrite() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.register("order", Definitions.order)
            try await client.start("cookbook", id: "a")
            try await client.start("order", id: "b")
            for query in ["limit=1", "limit=1&cursor=3"] {
                let page = try await client.call(.get, "/v1/instances?\(query)")
                let cursor = query.contains("cursor") ? UInt64(3) : nil
                let view = Views.instanceList(fixture.engine.instances(workflow: nil, state: nil, after: cursor, limit: 1), retention: { _ in nil })
                XCTAssertEqual(page.text, Self.text(view), query)
            }
            let list = try await client.call(.get, "/v1/workflows")
            XCTAssertEqual(list.text, Self.text(Views.workflowList(fixture.engine.workflowSummaries())))
            let rejected = try await client.call(.post, "/v1/instances/a/transitions", #"{"transition":"third"}"#)
            let details = rejected.details
            XCTAssertEqual(rejected.text, Self.text(Views.error(code: "transition_not_allowed",
                                                                message: rejected["error"]?.objectValue?["message"]?.stringValue ?? "",
                                                                details: details)))
            let error = APIError(status: .conflict, code: "c", message: "m", details: ["k": [1, nil]])
            XCTAssertEqual(Self.text(error.body), Self.text(Views.error(code: "c", message: "m", details: ["k": [1, nil]])))
        }
    }

    static func text(_ value: JSONValue) -> String { value.jsonText + "\n" }

    /// The answers as the server wrote them before the wire shapes moved to APIModels.
    static let expected: [(String, String)] = [
        ("health", #"{"applied_index":0,"commit_index":0,"leader":1,"leader_api":null,"node":1,"role":"leader","term":7}"#),
        ("cluster", #"{"applied_index":0,"commit_index":0,"leader":1,"members":[{"api":"127.0.0.1:8080","id":1,"is_leader":true,"live":true,"match_index":0,"raft":"127.0.0.1:7080","role":"voter"},{"api":"127.0.0.1:8081","id":2,"is_leader":false,"live":true,"match_index":0,"raft":"127.0.0.1:7081","role":"voter"},{"api":"127.0.0.1:8082","id":3,"is_leader":false,"live":true,"match_index":0,"raft":"127.0.0.1:7082","role":"voter"}],"node":1,"term":7}"#),
        ("registered", #"{"created":true,"hash":"10293b71677e4f4a10d86aca8dc582e2838b139b4e2fd1eaa777af461a969a50","index":1,"name":"cookbook","version":1}"#),
        ("order", #"{"created":true,"hash":"bbc75c086b04614a69cb0a2f720d7c40034cfb1564d15c9a1ed54d54ecafd1a1","index":2,"name":"order","version":1}"#),
        ("started", #"{"id":"o-1","index":3,"state":"created","version":1,"workflow":"order"}"#),
        ("transitioned", #"{"from":"created","id":"o-1","index":4,"revision":2,"state":"paid","to":"paid","transition":"pay"}"#),
        ("instance", #"{"created_at":"2027-01-15T08:00:00.123Z","data":{"n":1.5,"priority":"normal","s":"a/b"},"final":false,"id":"o-1","purge_at":null,"revision":2,"state":"paid","updated_at":"2027-01-15T08:00:00.123Z","version":1,"workflow":"order"}"#),
        ("history", #"{"dropped":0,"entries":[{"at":"2027-01-15T08:00:00.123Z","from":null,"index":3,"request_id":"q-1","revision":1,"to":"created","transition":null,"type":"start"},{"at":"2027-01-15T08:00:00.123Z","from":"created","index":4,"request_id":"q-2","revision":2,"to":"paid","transition":"pay","type":"transition"}],"id":"o-1","next_after":null,"retained_from_index":3}"#),
        ("page", #"{"instances":[{"created_at":"2027-01-15T08:00:00.123Z","data":{"n":1.5,"priority":"normal","s":"a/b"},"final":false,"id":"o-1","purge_at":null,"revision":2,"state":"paid","updated_at":"2027-01-15T08:00:00.123Z","version":1,"workflow":"order"}],"next_cursor":"3"}"#),
        ("last page", #"{"instances":[{"created_at":"2027-01-15T08:00:00.123Z","data":{},"final":false,"id":"c-2","purge_at":null,"revision":1,"state":"first","updated_at":"2027-01-15T08:00:00.123Z","version":1,"workflow":"cookbook"}],"next_cursor":null}"#),
        ("workflow", #"{"definition":{"data":{},"description":"","initial":"first","name":"cookbook","states":[{"isFinal":false,"name":"first","onEnter":[],"onExit":[]},{"isFinal":false,"name":"second","onEnter":[],"onExit":[]},{"isFinal":false,"name":"third","onEnter":[],"onExit":[]}],"transitions":[{"from":["first"],"hooks":[],"name":"second","to":"second"},{"from":["second"],"hooks":[],"name":"third","to":"third"},{"from":["third"],"hooks":[],"name":"first","to":"first"}],"triggers":[]},"description":"","hash":"10293b71677e4f4a10d86aca8dc582e2838b139b4e2fd1eaa777af461a969a50","initial":"first","name":"cookbook","states":[{"final":false,"name":"first"},{"final":false,"name":"second"},{"final":false,"name":"third"}],"transitions":[{"from":["first"],"name":"second","to":"second"},{"from":["second"],"name":"third","to":"third"},{"from":["third"],"name":"first","to":"first"}],"version":1,"versions":[{"hash":"10293b71677e4f4a10d86aca8dc582e2838b139b4e2fd1eaa777af461a969a50","index":1,"registered_at":"2027-01-15T08:00:00.123Z","version":1}]}"#),
        ("workflows", #"{"workflows":[{"description":"","hash":"10293b71677e4f4a10d86aca8dc582e2838b139b4e2fd1eaa777af461a969a50","initial":"first","name":"cookbook","states":[{"final":false,"name":"first"},{"final":false,"name":"second"},{"final":false,"name":"third"}],"transitions":[{"from":["first"],"name":"second","to":"second"},{"from":["second"],"name":"third","to":"third"},{"from":["third"],"name":"first","to":"first"}],"version":1,"versions":[{"hash":"10293b71677e4f4a10d86aca8dc582e2838b139b4e2fd1eaa777af461a969a50","index":1,"registered_at":"2027-01-15T08:00:00.123Z","version":1}]},{"description":"","hash":"bbc75c086b04614a69cb0a2f720d7c40034cfb1564d15c9a1ed54d54ecafd1a1","initial":"created","name":"order","states":[{"final":false,"name":"created"},{"final":false,"name":"paid"},{"final":true,"name":"cancelled"}],"transitions":[{"from":["created"],"name":"pay","to":"paid"},{"from":["created","paid"],"name":"cancel","to":"cancelled"}],"version":1,"versions":[{"hash":"bbc75c086b04614a69cb0a2f720d7c40034cfb1564d15c9a1ed54d54ecafd1a1","index":2,"registered_at":"2027-01-15T08:00:00.123Z","version":1}]}]}"#),
        ("rejected", #"{"error":{"code":"transition_not_allowed","details":{"allowed":["cancel"],"instance":"o-1","state":"paid","transition":"pay"},"message":"instance 'o-1' is in state 'paid': transition 'pay' is not allowed from there (allowed: cancel)"}}"#),
        ("invalid", #"{"error":{"code":"invalid_definition","details":{"diagnostics":[{"column":1,"file":"bad.yaml","line":1,"message":"the workflow definition is missing required key 'initial'","severity":"error"},{"column":1,"file":"bad.yaml","line":1,"message":"the workflow definition is missing required key 'states'","severity":"error"}],"workflow":"bad"},"message":"workflow 'bad' is invalid: bad.yaml:1:1: error: the workflow definition is missing required key 'initial' (and 1 more)"}}"#),
    ]
}
