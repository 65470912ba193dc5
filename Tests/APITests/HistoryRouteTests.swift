@testable import API
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import JSON
import XCTest

/// `GET /v1/instances/{id}/history?after=&limit=`: pages in log order, and what was dropped.
final class HistoryRouteTests: XCTestCase {
    static let capped = """
        workflow: ring
        initial: first
        history: { max_entries: 5 }
        states:
          first: {}
          second: {}
        transitions:
          second: { from: first, to: second }
          first: { from: second, to: first }
        """

    func testHistoryPagesFollowNextAfterAndSayWhatWasDropped() async throws {
        try await Fixture().test { client in
            try await client.register("ring", Self.capped)
            try await client.start("ring", id: "r")
            for number in 0..<7 {
                let moved = try await client.call(.post, "/v1/instances/r/transitions", #"{"transition":"\#(number % 2 == 0 ? "second" : "first")"}"#)
                XCTAssertEqual(moved.status, .ok, moved.text)
            }
            var revisions: [Double] = []
            var uri = "/v1/instances/r/history?limit=2"
            var pages = 0
            while true {
                let page = try await client.call(.get, uri)
                XCTAssertEqual(page.status, .ok, page.text)
                XCTAssertEqual(page["dropped"]?.numberValue, 3, "8 entries, 5 kept")
                let entries = try XCTUnwrap(page["entries"]?.arrayValue)
                revisions += entries.compactMap { $0.objectValue?["revision"]?.numberValue }
                pages += 1
                guard let next = page["next_after"]?.numberValue else { break }
                XCTAssertEqual(next, entries.last?.objectValue?["index"]?.numberValue)
                uri = "/v1/instances/r/history?limit=2&after=\(Int(next))"
            }
            XCTAssertEqual(revisions, [4, 5, 6, 7, 8])
            XCTAssertEqual(pages, 3)
            let whole = try await client.call(.get, "/v1/instances/r/history")
            XCTAssertEqual(whole["entries"]?.arrayValue?.count, 5)
            XCTAssertEqual(whole["retained_from_index"], whole["entries"]?.arrayValue?.first?.objectValue?["index"])
            XCTAssertEqual(whole["next_after"], .null)

            for (query, field) in [("limit=0", "limit"), ("limit=1001", "limit"), ("after=-1", "after"), ("afterr=3", "afterr")] {
                let bad = try await client.call(.get, "/v1/instances/r/history?\(query)")
                XCTAssertEqual(bad.status, .badRequest, query)
                XCTAssertEqual(bad.details["field"]?.stringValue, field, query)
            }
        }
    }
}

/// `GET /v1/instances?finished=` and `purge_at`: what retention will remove, and when.
final class RetentionRouteTests: XCTestCase {
    func testFinishedFilterAndPurgeTimes() async throws {
        var settings = APISettings()
        settings.defaultRetentionMillis = 3_600_000
        let fixture = Fixture(settings: settings)
        let finishedAt = fixture.consensus.clock.nowMillis
        try await fixture.test { client in
            try await client.register("order", Definitions.order)
            try await client.start("order", id: "open")
            try await client.start("order", id: "gone")
            let cancel = try await client.call(.post, "/v1/instances/gone/transitions", #"{"transition":"cancel"}"#)
            XCTAssertEqual(cancel.status, .ok, cancel.text)

            let finished = try await client.call(.get, "/v1/instances?finished=true")
            let listed = try XCTUnwrap(finished["instances"]?.arrayValue)
            XCTAssertEqual(listed.compactMap { $0.objectValue?["id"]?.stringValue }, ["gone"])
            XCTAssertEqual(listed.first?.objectValue?["purge_at"]?.stringValue, Timestamp.rfc3339(millis: finishedAt + 3_600_000),
                           "no retention of its own: the cluster default")
            let running = try await client.call(.get, "/v1/instances?finished=false")
            XCTAssertEqual(running["instances"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue }, ["open"])
            let one = try await client.call(.get, "/v1/instances/open")
            XCTAssertEqual(one["purge_at"], .null, "a running instance has no purge time")
            let bad = try await client.call(.get, "/v1/instances?finished=yes")
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertEqual(bad.details["field"]?.stringValue, "finished")
        }
    }
}
