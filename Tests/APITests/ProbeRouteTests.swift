@testable import API
import Engine
import Hummingbird
import HummingbirdTesting
import XCTest

/// `GET /livez` and `GET /readyz` against the twin consensus: each check flips the probe to
/// 503 naming it, and back to 200 once it passes again.
final class ProbeRouteTests: XCTestCase {
    func testAHealthyNodeIsLiveAndReadyAndSaysOnlyOk() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "customer-4711")
            for path in ["/livez", "/readyz"] {
                let answer = try await client.call(.get, path)
                XCTAssertEqual(answer.status, .ok, path)
                XCTAssertEqual(answer.text, "ok", path)
                XCTAssertEqual(answer.headers[.contentType], "text/plain; charset=utf-8")
            }
            let verbose = try await client.call(.get, "/readyz?verbose")
            XCTAssertEqual(verbose.status, .ok)
            XCTAssertEqual(verbose.text, """
                [+]node_loop ok
                [+]leader ok
                [+]applied ok
                [+]storage ok
                readyz check passed

                """)
            XCTAssertFalse(verbose.text.contains("customer-4711"), "probes carry no instance data")
            let live = try await client.call(.get, "/livez?verbose")
            XCTAssertEqual(live.text, "[+]node_loop ok\nlivez check passed\n")
        }
    }

    func testANodeLoopThatDoesNotAnswerFailsBothProbesUntilItAnswersAgain() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            fixture.consensus.setVitals { $0.liveness = .unresponsive(timeoutMillis: 1_000) }
            for path in ["/livez", "/readyz"] {
                let answer = try await client.call(.get, path)
                XCTAssertEqual(answer.status, .serviceUnavailable, path)
                XCTAssertTrue(answer.text.contains("[-]node_loop failed: the node loop did not answer within 1000 ms\n"), answer.text)
            }
            let live = try await client.call(.get, "/livez")
            XCTAssertTrue(live.text.hasSuffix("livez check failed\n"), live.text)

            fixture.consensus.setVitals { $0.liveness = .stopped(reason: "storage failed: fsync: input/output error") }
            let stopped = try await client.call(.get, "/livez")
            XCTAssertEqual(stopped.status, .serviceUnavailable)
            XCTAssertTrue(stopped.text.contains("[-]node_loop failed: the node loop has stopped: storage failed: fsync: input/output error"),
                          stopped.text)

            fixture.consensus.setVitals { $0.liveness = .responding }
            let again = try await client.call(.get, "/livez")
            XCTAssertEqual(again.status, .ok)
            XCTAssertEqual(again.text, "ok")
        }
    }

    func testWithoutALeaderTheNodeIsLiveButNotReady() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            fixture.consensus.setLeader(nil)
            let ready = try await client.call(.get, "/readyz")
            XCTAssertEqual(ready.status, .serviceUnavailable)
            XCTAssertEqual(ready.text, """
                [+]node_loop ok
                [-]leader failed: no leader is known (term 7)
                [+]applied ok
                [+]storage ok
                readyz check failed

                """)
            let live = try await client.call(.get, "/livez")
            XCTAssertEqual(live.status, .ok, "losing the leader is no reason to restart the process")

            fixture.consensus.setLeader(2)
            let again = try await client.call(.get, "/readyz")
            XCTAssertEqual(again.status, .ok, "a follower that knows a leader is ready")
        }
    }

    func testAnAppliedIndexFarBehindTheCommitIndexIsNotReady() async throws {
        let fixture = Fixture(settings: APISettings(readyAppliedLagEntriesMax: 10))
        try await fixture.test { client in
            fixture.consensus.setVitals { $0.applyLagEntries = 10 }
            let atLimit = try await client.call(.get, "/readyz")
            XCTAssertEqual(atLimit.status, .ok, "a lag of exactly the limit is still ready")

            fixture.consensus.setVitals { $0.applyLagEntries = 11 }
            let behind = try await client.call(.get, "/readyz")
            XCTAssertEqual(behind.status, .serviceUnavailable)
            XCTAssertTrue(behind.text.contains("[-]applied failed: applied index 0 is 11 entries behind commit index 11 (at most 10)\n"),
                          behind.text)
            let live = try await client.call(.get, "/livez")
            XCTAssertEqual(live.status, .ok)

            fixture.consensus.setVitals { $0.applyLagEntries = 0 }
            let caughtUp = try await client.call(.get, "/readyz")
            XCTAssertEqual(caughtUp.status, .ok)
        }
    }

    func testAFailedWriteAheadLogIsNotReady() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            fixture.consensus.setVitals { $0.storageFailure = "persisting 3 entries: pwrite: no space left on device" }
            let ready = try await client.call(.get, "/readyz")
            XCTAssertEqual(ready.status, .serviceUnavailable)
            XCTAssertTrue(ready.text.contains(
                "[-]storage failed: the write-ahead log failed: persisting 3 entries: pwrite: no space left on device\n"), ready.text)
            XCTAssertTrue(ready.text.contains("[+]leader ok\n"), "every check is listed on failure: \(ready.text)")

            fixture.consensus.setVitals { $0.storageFailure = nil }
            let again = try await client.call(.get, "/readyz")
            XCTAssertEqual(again.status, .ok)
        }
    }

    func testExcludedChecksAreSkippedAndListedAsExcluded() async throws {
        let fixture = Fixture()
        try await fixture.test { client in
            fixture.consensus.setLeader(nil)
            let excluded = try await client.call(.get, "/readyz?exclude=leader")
            XCTAssertEqual(excluded.status, .ok)
            let verbose = try await client.call(.get, "/readyz?verbose&exclude=leader&exclude=applied")
            XCTAssertEqual(verbose.text, """
                [+]node_loop ok
                [+]storage ok
                [+]applied excluded: ok
                [+]leader excluded: ok
                readyz check passed

                """)
        }
    }

    func testProbesAreNotForwardedAndAnswerOnAFollowerWithoutALeader() async throws {
        // A follower whose leader is unknown: nothing to forward to, and nothing it should try.
        try await Fixture(behaviour: .follow, node: 2).test { client in
            let live = try await client.call(.get, "/livez")
            XCTAssertEqual(live.status, .ok)
            let ready = try await client.call(.get, "/readyz")
            XCTAssertEqual(ready.status, .serviceUnavailable)
            XCTAssertTrue(ready.text.contains("[-]leader failed"), ready.text)
        }
    }
}
