@testable import API
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Synchronization
import XCTest

/// `POST /v1/instances/{id}/transitions` answered by `TransitionFastPath` on the connection's
/// event loop: every answer the route gives, the fast path gives byte for byte; a pipelining
/// client gets its answers in request order; what the fast path must not take goes to the
/// router.
final class TransitionFastPathTests: XCTestCase {
    /// One request of a scenario, and the twin's behaviour while it is made.
    struct Step {
        var behaviour: TwinConsensus.Behaviour = .lead
        var path = "/v1/instances/demo/transitions"
        var body: String
        var headers: HTTPFields = [:]
    }

    static let steps: [Step] = [
        Step(body: #"{"transition":"second","request_id":"t-1"}"#),
        Step(body: #"{"transition":"second","request_id":"t-1"}"#),                  // the same request id again
        Step(body: #"{"transition":"first","request_id":"t-2"}"#),                   // not allowed from second: 409
        Step(body: #"{"to":"third","expect":"first","request_id":"t-3"}"#),          // expectation failed
        Step(body: #"{"transition": second}"#),                                     // bad_json
        Step(body: "{}"),                                                            // invalid_argument: transition
        Step(body: #"{"transition":"second","request_id":"a/b"}"#),                  // invalid_argument: request_id
        Step(body: #"{"transition":"second","colour":"red"}"#),                      // an unknown field
        Step(path: "/v1/instances/ghost/transitions", body: #"{"transition":"second","request_id":"t-4"}"#),  // 404
        Step(body: #"{"to":"third","request_id":"t-5"}"#, headers: [Forwarder.requestIDHeader: "ignored-by-body"]),
        Step(body: #"{"to":"first"}"#, headers: [Forwarder.requestIDHeader: "from-header"]),
        Step(behaviour: .failProposals(.busy(reason: "too many uncommitted entries", retryAfterMillis: 1_500)),
             body: #"{"to":"second","request_id":"t-6"}"#),
        Step(behaviour: .failProposals(.noLeader), body: #"{"to":"second","request_id":"t-7"}"#),
        Step(behaviour: .failProposals(.leaderChanged), body: #"{"to":"second","request_id":"t-8"}"#),
        Step(behaviour: .failProposals(.shuttingDown), body: #"{"to":"second","request_id":"t-9"}"#),
        Step(behaviour: .failProposals(.commandTooLarge(bytes: 9_000_000, max: 8_388_608)), body: #"{"to":"second","request_id":"t-10"}"#),
        Step(behaviour: .loseOutcomes(count: 1), body: #"{"to":"second","request_id":"t-11"}"#),
        Step(body: #"{"to":"second","request_id":"t-11"}"#),                         // the retry of the lost one
    ]

    struct Seen: Equatable {
        var status: Int
        var retryAfter: String?
        var authenticate: String?
        var contentType: String?
        var body: String
    }

    /// The answers to `steps` from one live server.
    func answers(fastPath: Bool, settings: APISettings = APISettings(), steps: [Step] = steps) async throws -> (seen: [Seen], completions: Int) {
        let fixture = Fixture(settings: settings)
        let seen = Mutex<[Seen]>([])
        try await fixture.live(fastPath: fastPath) { client in
            if !settings.requireTokens {
                try await client.register("cookbook", Definitions.cookbook)
                try await client.start("cookbook", id: "demo")
            }
            for step in steps {
                fixture.consensus.set(step.behaviour)
                let answer = try await client.call(.post, step.path, step.body, headers: step.headers)
                seen.withLock {
                    $0.append(Seen(status: answer.status.code, retryAfter: answer.headers[.retryAfter],
                                   authenticate: answer.headers[.wwwAuthenticate], contentType: answer.headers[.contentType],
                                   body: answer.text))
                }
                fixture.consensus.set(.lead)
            }
        }
        return (seen.withLock { $0 }, fixture.consensus.completionProposals)
    }

    func testEveryAnswerOfTheRouteIsTheSameOnTheFastPath() async throws {
        let router = try await answers(fastPath: false)
        let fast = try await answers(fastPath: true)
        XCTAssertEqual(router.completions, 0)
        XCTAssertGreaterThanOrEqual(fast.completions, 10, "the fast path proposed the transitions that got that far")
        XCTAssertEqual(router.seen.count, Self.steps.count)
        for (n, (expected, got)) in zip(router.seen, fast.seen).enumerated() {
            XCTAssertEqual(got, expected, "step \(n): \(Self.steps[n].body)")
        }
        // The answers are the documented ones (so the comparison is not between two wrong ones).
        XCTAssertEqual(fast.seen.map(\.status), [200, 200, 409, 409, 400, 400, 400, 400, 404, 200, 200, 429, 503, 503, 503, 413, 504, 200])
        XCTAssertEqual(fast.seen[11].retryAfter, "2")
        XCTAssertTrue(fast.seen[16].body.contains(#""request_id":"t-11""#), fast.seen[16].body)
        XCTAssertTrue(fast.seen[0].body.hasSuffix("}\n"), "one JSON object and a newline")
        XCTAssertEqual(fast.seen[0].contentType, "application/json")
    }

    func testWithTokensRequiredATransitionWithoutOneIs401OnBothPaths() async throws {
        var settings = APISettings()
        settings.requireTokens = true
        let steps = [Step(body: #"{"to":"second"}"#), Step(body: #"{"to":"second"}"#, headers: [.authorization: "Bearer nonsense"])]
        let router = try await answers(fastPath: false, settings: settings, steps: steps)
        let fast = try await answers(fastPath: true, settings: settings, steps: steps)
        XCTAssertEqual(fast.seen, router.seen)
        XCTAssertEqual(fast.seen.map(\.status), [401, 401])
        XCTAssertEqual(fast.seen.first?.authenticate, #"Bearer realm="orchestrator""#)
        XCTAssertEqual(fast.completions, 0, "nothing was proposed")
    }

    /// Requests sent back to back on one connection, before any answer: HTTP/1.1 answers in
    /// order, whichever of them the fast path takes.
    func testPipelinedRequestsAreAnsweredInRequestOrder() async throws {
        let fixture = Fixture()
        try await fixture.live { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "demo")
            let connection = try RawConnection(port: try XCTUnwrap(client.port))
            func post(_ to: String) -> String {
                let body = #"{"to":"\#(to)"}"#
                return "POST /v1/instances/demo/transitions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            }
            let get = "GET /v1/instances/demo?stale=true HTTP/1.1\r\nHost: x\r\n\r\n"
            // A transition first, then the router, and again; then the router first.
            connection.write(post("second") + get + post("third") + get + get + post("first") + get)
            let answers = Self.split(connection.read(within: 10) { Self.split($0).count >= 7 }.text)
            XCTAssertEqual(answers.count, 7, "\(answers)")
            let states = answers.map { answer -> String in
                let json = try? JSONBody.parse(Array(answer.utf8))
                return json?.objectValue?["state"]?.stringValue ?? "?"
            }
            XCTAssertEqual(states, ["second", "second", "third", "third", "third", "first", "first"])
            // The first transition took the fast path; the rest queued behind it, and each
            // request that followed one the router had went to the router too.
            XCTAssertGreaterThanOrEqual(fixture.consensus.completionProposals, 1)
        }
    }

    /// A body with no length given that grows past the limit is refused with 413 once it
    /// ends, and the connection goes on.
    func testAChunkedBodyOverTheLimitIs413AndTheConnectionGoesOn() async throws {
        let fixture = Fixture(settings: APISettings(bodyBytesMax: 1_024))
        try await fixture.live { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "demo")
            let connection = try RawConnection(port: try XCTUnwrap(client.port))
            let big = #"{"to":"second","data":{"note":"\#(String(repeating: "x", count: 2_000))"}}"#
            let chunk = String(big.utf8.count, radix: 16)
            connection.write("POST /v1/instances/demo/transitions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + "\(chunk)\r\n\(big)\r\n0\r\n\r\n")
            let refused = connection.response(within: 10)
            XCTAssertTrue(refused.hasPrefix("HTTP/1.1 413"), refused)
            XCTAssertTrue(refused.contains(#""code":"body_too_large""#), refused)
            let body = #"{"to":"second"}"#
            connection.write("POST /v1/instances/demo/transitions HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let moved = connection.response(within: 10)
            XCTAssertTrue(moved.hasPrefix("HTTP/1.1 200"), moved)
            XCTAssertEqual(fixture.consensus.completionProposals, 1)
        }
    }

    /// What the fast path must not answer goes to the router: a follower's write (the router
    /// forwards it), `Connection: close`, a path with a query or a percent-encoded id.
    func testRequestsTheFastPathMustNotTakeGoToTheRouter() async throws {
        let fixture = Fixture(leaderAPI: "http://127.0.0.1:1")
        try await fixture.live { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "demo")
            let connection = try RawConnection(port: try XCTUnwrap(client.port))
            let body = #"{"to":"second"}"#
            connection.write("POST /v1/instances/demo/transitions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let closing = connection.read(within: 10)
            XCTAssertTrue(closing.text.hasPrefix("HTTP/1.1 200"), closing.text)
            XCTAssertTrue(closing.closed, "the server closed the connection after its answer")
            XCTAssertEqual(fixture.consensus.completionProposals, 0)
            let query = try await client.call(.post, "/v1/instances/demo/transitions?x=1", #"{"to":"third"}"#)
            XCTAssertEqual(query.status, .ok, query.text)
            let encoded = try await client.call(.post, "/v1/instances/bad%20id/transitions", #"{"to":"third"}"#)
            XCTAssertEqual(encoded.details["field"]?.stringValue, "id", encoded.text)
            XCTAssertEqual(fixture.consensus.completionProposals, 0)
            // Now another node leads: the router forwards (to an address where nothing
            // listens, so the forward fails with a clear error rather than being answered here).
            fixture.consensus.setLeader(2)
            let forwarded = try await client.call(.post, "/v1/instances/demo/transitions", #"{"to":"first"}"#)
            XCTAssertNotEqual(forwarded.status, .ok, forwarded.text)
            XCTAssertEqual(fixture.consensus.completionProposals, 0, "a follower's write is the router's to forward")
        }
    }

    /// Whole HTTP/1.1 answers in `text`, each its body only.
    static func split(_ text: String) -> [String] {
        var bodies: [String] = []
        var rest = Substring(text)
        while let end = rest.range(of: "\r\n\r\n") {
            let head = rest[..<end.lowerBound].lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let body = rest[end.upperBound...]
            guard body.utf8.count >= length else { break }
            let bodyEnd = body.utf8.index(body.startIndex, offsetBy: length)
            bodies.append(String(body[..<bodyEnd]))
            rest = body[bodyEnd...]
        }
        return bodies
    }
}
