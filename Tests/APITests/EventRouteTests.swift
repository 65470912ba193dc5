@testable import API
import AsyncHTTPClient
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import XCTest

/// `GET /v1/events` over a real loopback socket, and `GET /v1/stats`.
final class EventRouteTests: XCTestCase {
    func testStatsCountsEveryWorkflowByStateInOneAnswer() async throws {
        try await Fixture().test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.register("order", Definitions.order)
            for id in ["a", "b", "c"] { try await client.start("order", id: id) }
            try await client.start("cookbook", id: "k")
            _ = try await client.call(.post, "/v1/instances/a/transitions", #"{"transition":"pay"}"#)
            let cancel = try await client.call(.post, "/v1/instances/b/transitions", #"{"transition":"cancel"}"#)
            let stats = try await client.call(.get, "/v1/stats")
            XCTAssertEqual(stats.status, .ok, stats.text)
            XCTAssertEqual(stats["total"], 4)
            XCTAssertEqual(stats["applied_index"], cancel["index"], "the counts are as of the last entry")
            let workflows = stats["workflows"]?.arrayValue ?? []
            XCTAssertEqual(workflows.map { $0.objectValue?["name"]?.stringValue }, ["cookbook", "order"])
            let order = workflows[1].objectValue ?? [:]
            XCTAssertEqual(order["states"], ["created": 1, "paid": 1, "cancelled": 1])
            XCTAssertEqual(order["finished"], 1)
            XCTAssertEqual(order["total"], 3)
            XCTAssertEqual(workflows[0].objectValue?["states"], ["first": 1, "second": 0, "third": 0], "empty states count 0")

            let bad = try await client.call(.get, "/v1/stats?workflow=order")
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertEqual(bad.code, "invalid_argument")
        }
    }

    func testInstancesFilterByIDPrefix() async throws {
        try await Fixture().test { client in
            try await client.register("order", Definitions.order)
            for id in ["eu-1", "eu-2", "us-1"] { try await client.start("order", id: id) }
            let page = try await client.call(.get, "/v1/instances?id_prefix=eu-")
            XCTAssertEqual(page["instances"]?.arrayValue?.map { $0.objectValue?["id"]?.stringValue }, ["eu-1", "eu-2"])
            let bad = try await client.call(.get, "/v1/instances?id_prefix=%3Cscript%3E")
            XCTAssertEqual(bad.status, .badRequest, bad.text)
            XCTAssertEqual(bad.code, "invalid_argument")
        }
    }

    /// `updated_since` keeps instances updated at or after the time (Z or an offset); a
    /// time that is not RFC 3339 is a 400 naming the parameter.
    func testInstanceListFiltersByUpdatedSince() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            try await client.register("cookbook", Definitions.cookbook)
            fixture.consensus.clock.set(millis: 1_800_000_000_000)            // 2027-01-15T08:00:00.000Z
            try await client.start("cookbook", id: "old")
            try await client.start("cookbook", id: "moved")
            fixture.consensus.clock.set(millis: 1_800_000_060_000)            // a minute later
            try await client.start("cookbook", id: "new")
            let moved = try await client.call(.post, "/v1/instances/moved/transitions", #"{"to":"second"}"#)
            XCTAssertEqual(moved.status, .ok, moved.text)
            func ids(_ query: String) async throws -> [String?] {
                let page = try await client.call(.get, "/v1/instances?" + query)
                XCTAssertEqual(page.status, .ok, page.text)
                return page["instances"]?.arrayValue?.map { $0.objectValue?["id"]?.stringValue } ?? []
            }
            let all = try await ids("updated_since=2027-01-15T08:00:00Z")
            XCTAssertEqual(all, ["old", "moved", "new"])
            let atTheMinute = try await ids("updated_since=2027-01-15T08:01:00.000Z")
            XCTAssertEqual(atTheMinute, ["moved", "new"])                    // at or after
            let offset = try await ids("updated_since=2027-01-15T09:01:00%2B01:00")
            XCTAssertEqual(offset, ["moved", "new"])
            let rawPlus = try await ids("updated_since=2027-01-15T09:01:00+01:00")   // '+' unescaped in the query
            XCTAssertEqual(rawPlus, ["moved", "new"])
            let later = try await ids("updated_since=2027-01-15T08:01:00.001Z")     // one ms past the last update
            XCTAssertEqual(later, [])
            let combined = try await ids("updated_since=2027-01-15T07:30:00-00:30&state=second")
            XCTAssertEqual(combined, ["moved"])
            for text in ["yesterday", "2027-01-15", "2027-02-30T00:00:00Z"] {
                let bad = try await client.call(.get, "/v1/instances?updated_since=" + text)
                XCTAssertEqual(bad.status, .badRequest, bad.text)
                XCTAssertEqual(bad.code, "invalid_argument")
                XCTAssertTrue(bad.text.contains("updated_since"), bad.text)
            }
        }
    }

    /// A client reads some events, goes away while more are applied, and comes back with
    /// `Last-Event-ID`: between the two connections it sees every entry once, in order.
    func testResumingWithLastEventIDMissesNothing() async throws {
        try await Fixture().live { client in
            let port = try XCTUnwrap(client.port)
            try await client.register("cookbook", Definitions.cookbook)
            let first = try await EventConnection.open(port: port)
            var indexes: [UInt64] = []
            for id in ["a", "b"] {
                let answer = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"\#(id)"}"#)
                indexes.append(try XCTUnwrap(answer["index"]?.numberValue.map { UInt64($0) }))
            }
            let seen = try await first.waitForChanges(count: 2)
            XCTAssertEqual(seen.map(\.id), indexes.map { String($0) })
            XCTAssertTrue(seen[0].data.contains(#""type":"instance_started""#), seen[0].data)
            XCTAssertTrue(seen[0].data.contains(#""instance":"a""#), seen[0].data)
            first.close()

            var missed: [UInt64] = []
            for (id, to) in [("a", "second"), ("b", "second"), ("a", "third")] {
                let answer = try await client.call(.post, "/v1/instances/\(id)/transitions", #"{"to":"\#(to)"}"#)
                XCTAssertEqual(answer.status, .ok, answer.text)
                missed.append(try XCTUnwrap(answer["index"]?.numberValue.map { UInt64($0) }))
            }
            let second = try await EventConnection.open(port: port, lastEventID: seen.last!.id)
            let resumed = try await second.waitForChanges(count: 3)
            XCTAssertEqual(resumed.map(\.id), missed.map { String($0) }, "every entry after Last-Event-ID, once, in order")
            XCTAssertTrue(resumed[2].data.contains(#""from":"second""#) && resumed[2].data.contains(#""to":"third""#), resumed[2].data)
            XCTAssertEqual(second.events().first?.event, "leader", "a stream opens with who leads")
            // Live again: the next entry arrives on the resumed stream.
            let live = try await client.call(.post, "/v1/instances/b/transitions", #"{"to":"third"}"#)
            let next = try await second.waitForChanges(count: 4)
            XCTAssertEqual(next.last?.id, live["index"]?.numberValue.map { String(UInt64($0)) })
            second.close()
        }
    }

    func testAnIdleStreamSendsHeartbeatComments() async throws {
        var settings = APISettings()
        settings.eventsHeartbeatSeconds = 0.2
        try await Fixture(settings: settings).live { client in
            let stream = try await EventConnection.open(port: try XCTUnwrap(client.port))
            try await stream.waitFor("two heartbeats", timeoutSeconds: 5) { $0.components(separatedBy: ": heartbeat\n\n").count >= 3 }
            stream.close()
        }
    }

    /// A `Last-Event-ID` older than the ring holds gets a `reset` (refetch), then live events.
    func testALastEventIDOlderThanTheRingGetsAReset() async throws {
        var settings = APISettings()
        settings.eventRingEventsMax = 4
        let fixture = Fixture(settings: settings)
        try await fixture.live { client in
            let port = try XCTUnwrap(client.port)
            try await client.register("cookbook", Definitions.cookbook)
            let watcher = try await EventConnection.open(port: port)   // starts the node's feed, which keeps running
            watcher.close()
            for n in 0..<8 { try await client.start("cookbook", id: "i\(n)") }
            let last = fixture.engine.appliedIndex
            let deadline = ContinuousClock.now + .seconds(5)
            while fixture.api.eventHub.lastIndex < last, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let late = try await EventConnection.open(port: port, lastEventID: "1")
            try await late.waitFor("a reset", timeoutSeconds: 5) { $0.contains("event: reset") }
            let reset = try XCTUnwrap(late.events().first { $0.event == "reset" })
            XCTAssertTrue(reset.data.contains("no longer holds the events after 1"), reset.data)
            XCTAssertEqual(reset.id, String(last), "the stream continues after the last entry")
            XCTAssertTrue(late.events().filter { $0.event == "change" }.isEmpty, "nothing older than the reset is sent")
            let next = try await client.call(.post, "/v1/instances", #"{"workflow":"cookbook","id":"after"}"#)
            let changes = try await late.waitForChanges(count: 1)
            XCTAssertEqual(changes.map(\.id), [next["index"]?.numberValue.map { String(UInt64($0)) }])
            late.close()
        }
    }

    /// A stream that falls further behind than the ring holds is ended with a `dropped` event:
    /// the server keeps no more for it than the ring. (A long flush interval makes this
    /// stream the slow reader.)
    func testAStreamThatFallsBehindTheRingIsDroppedWithAReason() async throws {
        var settings = APISettings()
        settings.eventRingEventsMax = 4
        settings.eventsFlushMillis = 800
        try await Fixture(settings: settings).live { client in
            let port = try XCTUnwrap(client.port)
            try await client.register("cookbook", Definitions.cookbook)
            let slow = try await EventConnection.open(port: port)
            try await client.start("cookbook", id: "first")
            _ = try await slow.waitForChanges(count: 1)        // now it sleeps for the flush interval
            for n in 0..<10 { try await client.start("cookbook", id: "i\(n)") }
            try await slow.waitFor("dropped", timeoutSeconds: 5) { $0.contains("event: dropped") }
            let dropped = try XCTUnwrap(slow.events().first { $0.event == "dropped" })
            XCTAssertTrue(dropped.data.contains("fell more than 4 events behind"), dropped.data)
            try await slow.waitForEnd(timeoutSeconds: 5)
        }
    }

    func testEventsNeedATokenWhenTokensAreRequired() async throws {
        var settings = APISettings()
        settings.requireTokens = true
        try await Fixture(settings: settings).test { client in
            let answer = try await client.call(.get, "/v1/events")
            XCTAssertEqual(answer.status, .unauthorized)
            XCTAssertEqual(answer.code, "unauthenticated")
            let stats = try await client.call(.get, "/v1/stats")
            XCTAssertEqual(stats.status, .unauthorized)
        }
    }

    func testABadLastEventIDIsAClearError() async throws {
        try await Fixture().test { client in
            let answer = try await client.call(.get, "/v1/events", headers: [EventConnection.lastEventID: "yesterday"])
            XCTAssertEqual(answer.status, .badRequest)
            XCTAssertEqual(answer.code, "invalid_argument")
            XCTAssertTrue(answer.text.contains("Last-Event-ID"), answer.text)
            let unknown = try await client.call(.get, "/v1/events?since=3")
            XCTAssertEqual(unknown.status, .badRequest)
        }
    }
}

/// One `GET /v1/events` stream read in the background; the test waits for what it expects.
final class EventConnection: Sendable {
    struct Event: Sendable {
        var id: String?
        var event: String
        var data: String
    }

    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    private let text = Mutex<(raw: String, ended: Bool)>(("", false))
    private let reader = Mutex<Task<Void, Never>?>(nil)

    /// Connects and waits for the response head (200 and the SSE content type).
    static func open(port: Int, lastEventID: String? = nil, file: StaticString = #filePath, line: UInt = #line) async throws -> EventConnection {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/events")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        XCTAssertEqual(response.status.code, 200, file: file, line: line)
        XCTAssertEqual(response.headers.first(name: "content-type"), "text/event-stream; charset=utf-8", file: file, line: line)
        let connection = EventConnection()
        let task = Task { [connection] in
            do {
                for try await buffer in response.body { connection.text.withLock { $0.raw += String(buffer: buffer) } }
            } catch {}
            connection.text.withLock { $0.ended = true }
        }
        connection.reader.withLock { $0 = task }
        return connection
    }

    /// Everything received so far, as text.
    var raw: String { text.withLock { $0.raw } }

    /// The complete events received so far (comments left out).
    func events() -> [Event] {
        let blocks = raw.components(separatedBy: "\n\n").dropLast()
        return blocks.compactMap { block in
            var event = Event(id: nil, event: "message", data: "")
            var any = false
            for line in block.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix(":") {
                if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)); any = true }
                if line.hasPrefix("event: ") { event.event = String(line.dropFirst(7)); any = true }
                if line.hasPrefix("data: ") { event.data = String(line.dropFirst(6)); any = true }
            }
            return any && event.event != "message" ? event : nil
        }
    }

    /// Waits until `count` `change` events arrived; returns them.
    func waitForChanges(count: Int, timeoutSeconds: Double = 5) async throws -> [Event] {
        try await waitFor("\(count) change events", timeoutSeconds: timeoutSeconds) { _ in
            self.events().filter { $0.event == "change" }.count >= count
        }
        return events().filter { $0.event == "change" }
    }

    func waitFor(_ what: String, timeoutSeconds: Double, _ condition: @Sendable (String) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        while ContinuousClock.now < deadline {
            if condition(raw) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("timed out waiting for \(what); received:\n\(raw.prefix(4_000))")
        throw CancellationError()
    }

    /// Waits until the server ended the stream.
    func waitForEnd(timeoutSeconds: Double) async throws {
        try await waitFor("the end of the stream", timeoutSeconds: timeoutSeconds) { _ in self.text.withLock { $0.ended } }
    }

    func close() {
        reader.withLock { $0?.cancel() }
    }
}
