@testable import API
@testable import Client
import Workflow
import Engine
import Hummingbird
import HummingbirdTesting

import Synchronization
import XCTest

/// Each class of consensus failure keeps its meaning to the HTTP answer (docs/api.md) and to
/// the client's error class, and so to the CLI's exit status (docs/cli.md).
final class ErrorClassTests: XCTestCase {
    /// A fixture with the cookbook registered and instance `demo` started.
    private func started() async throws -> Fixture {
        let fixture = Fixture()
        try await fixture.test { client in
            try await client.register("cookbook", Definitions.cookbook)
            try await client.start("cookbook", id: "demo")
        }
        return fixture
    }

    private func transition(on fixture: Fixture, failing error: ConsensusError) async throws -> Answer {
        fixture.consensus.set(.failProposals(error))
        let answer = Mutex<Answer?>(nil)
        try await fixture.test { client in
            let got = try await client.call(.post, "/v1/instances/demo/transitions", #"{"transition":"second","request_id":"m-1"}"#)
            answer.withLock { $0 = got }
        }
        return try XCTUnwrap(answer.withLock { $0 })
    }

    func testBackPressureIs429TooManyRequestsWithRetryAfterAndNotApplied() async throws {
        let fixture = try await started()
        let answer = try await transition(on: fixture, failing: .busy(reason: "too many uncommitted bytes", retryAfterMillis: 2_000))
        XCTAssertEqual(answer.status, .tooManyRequests)
        XCTAssertEqual(answer.code, "too_many_requests")
        XCTAssertEqual(answer.headers[.retryAfter], "2")
        XCTAssertEqual(answer.details["applied"], Workflow.JSONValue.bool(false))
        XCTAssertEqual(fixture.engine.instance(id: "demo")?.state, "first")
    }

    func testNoLeaderIs503NoLeader() async throws {
        let answer = try await transition(on: try await started(), failing: .noLeader)
        XCTAssertEqual(answer.status, .serviceUnavailable)
        XCTAssertEqual(answer.code, "no_leader")
        XCTAssertEqual(answer.headers[.retryAfter], "1")
        XCTAssertEqual(answer.details["applied"], Workflow.JSONValue.bool(false))
    }

    func testAProposalReplacedByANewLeaderIs503LeaderChangedNotApplied() async throws {
        for error in [ConsensusError.leaderChanged, .deposed(term: 3, currentTerm: 4)] {
            let answer = try await transition(on: try await started(), failing: error)
            XCTAssertEqual(answer.status, .serviceUnavailable)
            XCTAssertEqual(answer.code, "leader_changed")
            XCTAssertEqual(answer.details["applied"], Workflow.JSONValue.bool(false), "distinguishable from an unknown outcome")
        }
    }

    func testShuttingDownIs503() async throws {
        let answer = try await transition(on: try await started(), failing: .shuttingDown)
        XCTAssertEqual(answer.status, .serviceUnavailable)
        XCTAssertEqual(answer.code, "shutting_down")
    }

    func testAnOversizedCommandIs413() async throws {
        let answer = try await transition(on: try await started(), failing: .commandTooLarge(bytes: 9_000_000, max: 8_388_608))
        XCTAssertEqual(answer.status, .contentTooLarge)
        XCTAssertEqual(answer.code, "command_too_large")
        XCTAssertEqual(answer.details["max"], Workflow.JSONValue.number(8_388_608))
    }

    func testAnUnknownOutcomeIs504WithTheRequestIDToRetryWith() async throws {
        let answer = try await transition(on: try await started(), failing: .outcomeUnknown(reason: "no commit in time"))
        XCTAssertEqual(answer.status, .gatewayTimeout)
        XCTAssertEqual(answer.code, "outcome_unknown")
        XCTAssertEqual(answer.details["request_id"]?.stringValue, "m-1")
    }

    func testAReadThatCannotBeMadeLinearizableIs503ReadUnavailableWithoutARequestID() async throws {
        let fixture = try await started()
        fixture.consensus.set(.failReads(.readUnavailable(reason: "no quorum confirmed the read point in time")))
        try await fixture.test { client in
            let answer = try await client.call(.get, "/v1/instances/demo")
            XCTAssertEqual(answer.status, .serviceUnavailable)
            XCTAssertEqual(answer.code, "read_unavailable")
            XCTAssertFalse(answer.text.contains("request_id"), "a read has no request id to retry with: \(answer.text)")
            XCTAssertEqual(answer.headers[.retryAfter], "1")
            let stale = try await client.call(.get, "/v1/instances/demo?stale=true")
            XCTAssertEqual(stale.status, .ok)
        }
    }

    // MARK: The client's classes

    private func clientError(status: Int, code: String) -> ClientError? {
        let body = Array(#"{"error":{"code":"\#(code)","message":"m","details":{}}}"#.utf8)
        do {
            _ = try OrchestratorClient.decode(status: status, body: body, retryAfterSeconds: 2, as: NodeHealth.self)
            return nil
        } catch {
            return error as? ClientError
        }
    }

    func testTheClientSortsAnswersIntoNotAppliedAndUnknown() {
        guard case .busy(_, _, let retryAfter)? = clientError(status: 429, code: "too_many_requests") else {
            return XCTFail("429 is busy")
        }
        XCTAssertEqual(retryAfter, 2)
        for code in ["no_leader", "leader_changed", "shutting_down", "read_unavailable"] {
            let error = clientError(status: 503, code: code)
            guard case .unavailable(code, _)? = error else { return XCTFail("503 \(code) is unavailable, got \(String(describing: error))") }
            XCTAssertTrue(error!.definitelyNotApplied)
        }
        for (status, code) in [(504, "outcome_unknown"), (503, "outcome_unknown")] {
            let error = clientError(status: status, code: code)
            guard case .outcomeUnknown? = error else { return XCTFail("\(status) \(code) is an unknown outcome") }
            XCTAssertFalse(error!.definitelyNotApplied)
        }
        guard case .rejected(409, "transition_not_allowed", _, _)? = clientError(status: 409, code: "transition_not_allowed") else {
            return XCTFail("409 is a rejection")
        }
    }

    func testAWriteWithoutARequestIDIsRetriedOnlyWhenItWasNotApplied() async throws {
        let fixture = Fixture()
        try await fixture.live { raw in
            let client = OrchestratorClient(baseURL: "localhost:\(raw.port!)",
                                            configuration: .init(retry: RetryPolicy(attemptsMax: 5, initialBackoffMillis: 1)))
            // A membership change carries no request id: an unknown outcome must not be retried.
            fixture.consensus.set(.loseOutcomes(count: 1))
            _ = try await client.applyWorkflow(name: "cookbook", yaml: Definitions.cookbook)   // idempotent: retried
            XCTAssertEqual(fixture.consensus.stamps.count, 2, "the lost registration was retried once")
            let before = fixture.consensus.stamps.count
            fixture.consensus.set(.failProposals(.noLeader))
            do {
                _ = try await client.start(workflow: "cookbook", id: "x")
                XCTFail("no leader throughout: unavailable")
            } catch ClientError.unavailable(let code, _) {
                XCTAssertEqual(code, "no_leader")
            }
            XCTAssertEqual(fixture.consensus.stamps.count, before, "nothing was applied while there was no leader")
            try await client.shutdown()
        }
    }
}
